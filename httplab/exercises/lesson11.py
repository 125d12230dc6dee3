"""Exercises of lesson 11: Retry-After in seconds, typed errors, pagination as an async
generator, a robust client.

The checks run the learner's code against the course API. Error responses are real ones
from the lab (plus a few a proxy would send, which the lab does not). The pagination and
client checks send their requests under a fresh client id (`X-Client-Id`), then read what
the server saw for that client (`/api/stats/{client}`): how many requests, in what order,
with which statuses; the client check also watches the aiohttp sessions the class opens.
Each scenario has a deadline, so an answer that waits for minutes is reported, not waited
for. Errors are recognised by class name (`NotFound`, ...): the notebook imports the classes
from `httplab.apiclient`, and a learner may define their own.
"""

from __future__ import annotations

import asyncio
import datetime
import email.utils
import inspect
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import requests
from requests.structures import CaseInsensitiveDict

from .. import lab as _lab
from ..checks import Exercise, Incorrect, NotAttempted, call, describe
from ..misbehaving import closed_port
from ..sessionwatch import close_left_open, watch_sessions

TIMEOUT = aiohttp.ClientTimeout(total=10)
ERROR_CLASSES = ("Unauthorized", "Forbidden", "NotFound", "RateLimited", "ServerError")


# --- helpers ----------------------------------------------------------------------------------


def _shown(value: Any, limit: int = 70) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _seconds_problem(got: Any, low: float, high: float, unit: str = "") -> tuple[str, str] | None:
    """None if `got` is a number of seconds from `low` to `high`; otherwise what was wanted
    (a range ends with `unit`) and what came, both as words for a message."""
    if isinstance(got, bool) or not isinstance(got, int | float):
        return "a number of seconds (a float)", _shown(got)
    if not low <= got <= high:
        wanted = f"{high:g}" if low == high else f"between {low:g} and {high:g}"
        return wanted + unit, f"{got:.0f}"
    return None


def _names(value: Any) -> list[str]:
    """The class names in the MRO of an object's class ('APIError', 'Exception', ...)."""
    return [cls.__name__ for cls in type(value).__mro__]


def _what(exc: BaseException) -> str:
    """An exception, named in a message that stays the same from run to run (no ports)."""
    cls = type(exc)
    name = cls.__qualname__
    if cls.__module__.split(".")[0] == "aiohttp":
        name = f"aiohttp.{name}"
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"{name} (status {exc.status})"
    if "APIError" in _names(exc):
        return f"{name} ({getattr(exc, 'status', '?')})"
    return name


async def _stats(api: str, client: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
        session.get(f"{api}/api/stats/{client}") as response,
    ):
        response.raise_for_status()
        return await response.json()


async def _log(api: str, client: str) -> list[tuple[str, str, int]]:
    seen = await _stats(api, client)
    return [(entry["method"], entry["path"], entry["status"]) for entry in seen["log"]]


def _all_users(api: str) -> list[dict[str, Any]]:
    """Every user, in order, read by the check itself (the ground truth)."""
    users: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = requests.get(f"{api}/api/users", params={"per_page": 100, "page": page}, timeout=5)
        answer.raise_for_status()
        data = answer.json()["data"]
        if not data:
            return users
        users.extend(data)
        page += 1


def _compare_users(got: list[Any], truth: list[dict[str, Any]], what: str) -> None:
    """Say precisely how a list of users differs from the truth (missing, repeated, order)."""
    ids = [item.get("id") if isinstance(item, dict) else item for item in got]
    wanted = [user["id"] for user in truth]
    if ids == wanted and got == truth:
        return
    if any(not isinstance(item, dict) for item in got):
        raise Incorrect(
            f'{what} should yield the users themselves (the dicts in each page\'s "data"); '
            f"it yielded {_shown(next(i for i in got if not isinstance(i, dict)))}"
        )
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise Incorrect(
            f"{what} yielded some users more than once (ids {_shown(repeated, 40)}): "
            'follow the rel="next" link of each page, and fetch each page once'
        )
    missing = [i for i in wanted if i not in ids]
    if missing:
        raise Incorrect(
            f"{what} yielded {len(ids)} users, but the server has {len(wanted)}; missing ids: "
            f"{_shown(missing, 50)}. Yield the users of every page, the first one included"
        )
    raise Incorrect(f"{what} yielded the users out of order: keep the order of the pages")


# --- 11.1 retry_after_seconds(value) --------------------------------------------------------


def _http_date(seconds_ahead: int) -> str:
    when = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds_ahead)
    return email.utils.format_datetime(when, usegmt=True)


def _check_retry_after_seconds(retry_after_seconds: Callable[..., Any]) -> str:
    # (the value, what it is in a message (no dates: they change), low, high or None, advice)
    cases: list[tuple[str | None, str, float | None, float | None, str]] = [
        ("120", "'120'", 120.0, 120.0, "digits are a number of seconds: `float(value)`"),
        ("0", "'0'", 0.0, 0.0, "digits are a number of seconds: `float(value)`"),
        (
            _http_date(30),
            "an HTTP date 30 s ahead",
            28.0,
            30.0,
            "an HTTP date means the seconds from now until then: "
            "`email.utils.parsedate_to_datetime(value)` minus "
            "`datetime.datetime.now(datetime.UTC)`, `.total_seconds()`",
        ),
        (
            "Thu, 01 Jan 1970 00:00:00 GMT",
            "an HTTP date in the past",
            0.0,
            0.0,
            "a date that has passed means now, not a negative wait: `max(0.0, seconds)`",
        ),
        (None, "None (no header)", None, None, "no header gives None"),
        ("soon", "'soon'", None, None, "a value that is neither digits nor a date gives None"),
        ("-5", "'-5'", None, None, "a value that is neither digits nor a date gives None"),
        ("", "'' (empty)", None, None, "a value that is neither digits nor a date gives None"),
    ]
    for value, shown, low, high, advice in cases:
        try:
            got = call(retry_after_seconds, value)
        except Incorrect as wrong:  # (a date changes from run to run: never in a message)
            text = str(wrong).replace(repr(value), shown) if value else str(wrong)
            raise Incorrect(f"{text}: {advice}") from None
        if low is None or high is None:
            if got is not None:
                raise Incorrect(
                    f"retry_after_seconds({shown}) returned {_shown(got)}; expected None: {advice}"
                )
            continue
        if problem := _seconds_problem(got, low, high):
            wanted, yours = problem
            raise Incorrect(
                f"retry_after_seconds({shown}) returned {yours}; expected {wanted}: {advice}"
            )
    return (
        f"right for all {len(cases)} values: seconds, a date ahead, a date past (0), "
        "and None for no header or nonsense"
    )


q1 = Exercise(
    "11.1",
    "retry_after_seconds: Retry-After in seconds",
    _check_retry_after_seconds,
    answer="retry_after_seconds",
    hints=[
        "None first: `if value is None: return None`. Then `value.isdigit()` means seconds: "
        "`return float(value)`.",
        "Anything else may be a date: `email.utils.parsedate_to_datetime(value)` gives an "
        "aware datetime; it raises ValueError (or TypeError) for text that is not a date: "
        "return None then.",
        "The wait is `(when - datetime.datetime.now(datetime.UTC)).total_seconds()`, and "
        "never below 0: `max(0.0, ...)`.",
    ],
    solution="11-robust-api-client.ipynb",
)


# --- 11.2 error_from(status, headers, body) ------------------------------------------------


def _real_responses(api: str) -> list[tuple[str, requests.Response]]:
    """Real error responses from the lab, each with how it was obtained."""
    client = _lab.new_client_id("errors")
    who = {"X-Client-Id": client}
    basic = requests.auth.HTTPBasicAuth("alice", "wonderland")
    token = requests.post(f"{api}/api/token", auth=basic, timeout=5).json()["access_token"]
    requests.get(f"{api}/api/limited?capacity=1", headers=who, timeout=5)
    bearer = {"Authorization": f"Bearer {token}"}
    return [
        ("GET /api/users/99999", requests.get(f"{api}/api/users/99999", timeout=5)),
        ("GET /api/private without a token", requests.get(f"{api}/api/private", timeout=5)),
        (
            "GET /api/limited?capacity=1, a second time",
            requests.get(f"{api}/api/limited?capacity=1", headers=who, timeout=5),
        ),
        ("GET /api/maintenance", requests.get(f"{api}/api/maintenance", timeout=5)),
        ("GET /api/crash", requests.get(f"{api}/api/crash", timeout=5)),
        (
            "GET /api/admin as alice",
            requests.get(f"{api}/api/admin", headers=bearer, timeout=5),
        ),
        (
            "POST /api/users with an empty object",
            requests.post(f"{api}/api/users", json={}, timeout=5),
        ),
    ]


def _expected_class(status: int) -> str:
    if status >= 500:
        return "ServerError"
    classes = {401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 429: "RateLimited"}
    return classes.get(status, "APIError")


def _check_one_error(
    error_from: Callable[..., Any],
    what: str,
    status: int,
    headers: CaseInsensitiveDict,
    body: Any,
    detail: str,
    retry_after: float | tuple[float, float] | None,
) -> None:
    if not callable(error_from):
        raise Incorrect(f"pass your function itself, not {type(error_from).__name__}")
    try:
        error = error_from(status, headers, body)
    except NotImplementedError:
        raise NotAttempted from None
    except Exception as exc:  # the learner's exception is a message, not a traceback
        if "APIError" in _names(exc):
            raise Incorrect(
                f"for {what} error_from raised {type(exc).__name__}: return the exception "
                "instead of raising it (the client decides when to raise)"
            ) from None
        header = headers.get("Retry-After")
        text = describe(exc).replace(header, "<Retry-After>") if header else describe(exc)
        raise Incorrect(f"for {what} error_from raised {text}") from None
    if inspect.iscoroutine(error):
        error.close()
        raise Incorrect("error_from returned a coroutine: write it with `def`, not `async def`")
    if not isinstance(error, BaseException) or "APIError" not in _names(error):
        raise Incorrect(
            f"for {what} return an instance of APIError or one of its subclasses; "
            f"you returned {_shown(error)}"
        )
    expected = _expected_class(status)
    name = type(error).__name__
    if expected == "APIError":
        if name in ERROR_CLASSES:
            raise Incorrect(
                f"for {what} (status {status}) return a plain APIError: {name} is for another "
                "status"
            )
    elif name != expected:
        rule = "every 5xx status" if expected == "ServerError" else f"status {status}"
        raise Incorrect(
            f"for {what} (status {status}) return {expected} ({rule}); you returned {name}"
        )
    if getattr(error, "status", None) != status:
        raise Incorrect(
            f"for {what} the error's .status should be {status}; it is "
            f"{_shown(getattr(error, 'status', None))}"
        )
    if getattr(error, "detail", None) != detail:
        source = (
            'the server\'s "detail" field'
            if isinstance(body, dict)
            else "the text of the body with its whitespace collapsed, at most 200 characters"
            if body
            else "the reason phrase, as http.HTTPStatus(status).phrase gives it"
        )
        raise Incorrect(
            f"for {what} the error's .detail should be {source}: {detail!r}; yours is "
            f"{_shown(getattr(error, 'detail', None))}"
        )
    if getattr(error, "body", None) is not body:
        raise Incorrect(f"for {what} keep the body as it is in the error's .body")
    got = getattr(error, "retry_after", None)
    header = headers.get("Retry-After")
    shown = "an HTTP date" if header and len(header) > 10 else header  # no dates in messages
    if retry_after is None:
        if got is not None:
            reason = "there is no Retry-After header" if header is None else "it is not valid"
            raise Incorrect(
                f"for {what} .retry_after should be None ({reason}: Retry-After: {shown}); "
                f"yours is {_shown(got)}"
            )
        return
    low, high = retry_after if isinstance(retry_after, tuple) else (retry_after, retry_after)
    if problem := _seconds_problem(got, low, high, unit=" seconds"):
        wanted, yours = problem
        raise Incorrect(
            f"for {what} (Retry-After: {shown}) .retry_after should be {wanted}; yours is {yours}"
        )


def _check_error_from(error_from: Callable[..., Any]) -> str:
    api = _lab.start().api
    for what, response in _real_responses(api):
        body = response.json()
        retry = response.headers.get("Retry-After")
        _check_one_error(
            error_from,
            what,
            response.status_code,
            CaseInsensitiveDict(response.headers),
            body,
            body["detail"],
            float(retry) if retry else None,
        )
    proxy_page = "<html>\n  <body>\n    <h1>502 Bad Gateway</h1>\n  </body>\n</html>\n"
    long_page = "<html><body>" + "<p>The upstream server failed.</p>\n" * 40 + "</body></html>"
    made_up = [  # what a proxy or another server may send, which the lab does not
        ("a proxy's HTML page for a 502", 502, {}, proxy_page, " ".join(proxy_page.split()), None),
        (
            "a 504 whose HTML page is 1,400 characters long",
            504,
            {},
            long_page,
            " ".join(long_page.split())[:200],
            None,
        ),
        ("a 400 with an empty body", 400, {}, "", "Bad Request", None),
        (
            "a 503 whose Retry-After is an HTTP date 30 s ahead",
            503,
            {"retry-after": _http_date(30)},
            {"detail": "later"},
            "later",
            (28.0, 30.0),
        ),
        (
            "a 503 whose Retry-After is an HTTP date in the past",
            503,
            {"Retry-After": "Thu, 01 Jan 1970 00:00:00 GMT"},
            {"detail": "back now"},
            "back now",
            (0.0, 0.0),
        ),
        (
            "a 429 whose Retry-After is not valid",
            429,
            {"Retry-After": "soon"},
            {"detail": "slow down"},
            "slow down",
            None,
        ),
    ]
    for what, status, headers, body, detail, retry_after in made_up:
        _check_one_error(
            error_from, what, status, CaseInsensitiveDict(headers), body, detail, retry_after
        )
    return (
        f"the right class, status, detail and retry_after for {len(made_up) + 7} error "
        "responses: 7 real ones from the lab, a proxy's HTML pages (one long), an empty body, "
        "and Retry-After as an HTTP date (ahead and past) and as garbage"
    )


q2 = Exercise(
    "11.2",
    "error_from: typed errors from real error responses",
    _check_error_from,
    answer="error_from",
    hints=[
        "Pick the class first: a dict {401: Unauthorized, 403: Forbidden, 404: NotFound, "
        "429: RateLimited}, ServerError for any status >= 500, and APIError for the rest.",
        "The detail: `body['detail']` when the body is a dict with a string 'detail'; else "
        "`' '.join(str(body).split())[:200]`; and if that is empty, "
        "`HTTPStatus(status).phrase`.",
        "`retry_after_seconds(headers.get('Retry-After'))`, from exercise 1; then "
        "`return kind(status, detail, body, retry_after)`, without raising it.",
    ],
    solution="11-robust-api-client.ipynb",
)


# --- running the learner's async code ---------------------------------------------------------


class _Outcome:
    """What the learner's coroutine did: returned `value`, raised `error`, or ran too long."""

    def __init__(self) -> None:
        self.value: Any = None
        self.error: BaseException | None = None
        self.too_slow = False
        self.seconds = 0.0


async def _run(make: Callable[[], Awaitable[Any]], within: float, first: bool = False) -> _Outcome:
    """Await the learner's code for at most `within` seconds; keep its exception.

    NotImplementedError means "not attempted" in the first scenario only; later it means that
    a part is still the stub, which is said in the message.
    """
    outcome = _Outcome()
    started = time.perf_counter()
    try:
        async with asyncio.timeout(within) as deadline:
            outcome.value = await make()
    except NotImplementedError:
        if first:
            raise NotAttempted from None
        raise Incorrect(
            "a part of your class still raises NotImplementedError: write every method"
        ) from None
    except (Incorrect, NotAttempted):
        raise
    except TimeoutError as exc:
        if deadline.expired():
            outcome.too_slow = True
        else:
            outcome.error = exc
    except Exception as exc:  # the learner's exception is an outcome, not a crash
        outcome.error = exc
    outcome.seconds = time.perf_counter() - started
    return outcome


async def _collect(iterator: Any, what: str, limit: int) -> list[Any]:
    """Up to `limit` items of an async iterator (a guard against one that never ends)."""
    if not hasattr(iterator, "__aiter__"):
        if inspect.isawaitable(iterator):
            result = await iterator  # the stub raises NotImplementedError here
            raise Incorrect(
                f"{what} returned {_shown(result)} from a coroutine: make it an async generator "
                "(`yield` each item inside `async def`), so that the caller can `async for`"
            )
        raise Incorrect(
            f"{what} returned {_shown(iterator)}: make it an async generator (`yield` each item "
            "inside `async def`), so that the caller can `async for` over it"
        )
    items: list[Any] = []
    async for item in iterator:
        items.append(item)
        if len(items) >= limit:
            break
    if hasattr(iterator, "aclose"):
        await iterator.aclose()
    return items


# --- 11.3 paginate(session, url) ---------------------------------------------------------------


async def _check_paginate(paginate: Callable[..., Any]) -> str:
    api = _lab.start().api
    if not callable(paginate):
        raise Incorrect(f"pass your function itself, not {type(paginate).__name__}")
    truth = await asyncio.to_thread(_all_users, api)
    total = len(truth)

    async def walk(client: str, query: str, take: int) -> list[Any]:
        headers = {"X-Client-Id": client}
        async with aiohttp.ClientSession(headers=headers, timeout=TIMEOUT) as session:
            return await _collect(
                paginate(session, f"{api}/api/users?{query}"), "paginate(session, url)", take
            )

    # 1. every user, 10 per page
    client = _lab.new_client_id("pages")
    outcome = await _run(lambda: walk(client, "per_page=10", total + 25), 10, first=True)
    what = "paginate(session, url) for /api/users?per_page=10"
    if outcome.too_slow:
        raise Incorrect(f"{what} was still running after 10 s")
    if outcome.error is not None:
        raise Incorrect(f"{what} raised {_what(outcome.error)}")
    sent = (await _stats(api, client))["requests"]
    if sent == 0:
        raise Incorrect(
            "the server saw no request from the session that paginate was given: use that "
            "session (the caller's), do not open another one"
        )
    _compare_users(outcome.value, truth, what)
    pages = math.ceil(total / 10)
    if sent > pages:
        raise Incorrect(
            f"{what} sent {sent} requests for {pages} pages: stop when a page has no "
            'rel="next" link (a request past the last page is wasted)'
        )

    # 2. lazy: the caller stops after 3 users of the first page
    client = _lab.new_client_id("pages")
    outcome = await _run(lambda: walk(client, "per_page=5", 3), 10)
    if outcome.error is not None or outcome.too_slow:
        raise Incorrect("paginate(session, url) failed when the caller stopped after 3 users")
    sent = (await _stats(api, client))["requests"]
    if sent != 1:
        raise Incorrect(
            f"the caller took 3 users of the first page (5 per page) and stopped, yet the server "
            f"got {sent} requests: yield each page's users before you fetch the next page"
        )

    # 3. an error status must not pass quietly
    client = _lab.new_client_id("pages")
    outcome = await _run(lambda: walk(client, "per_page=0", 10), 10)
    if outcome.error is None and not outcome.too_slow:
        raise Incorrect(
            "for /api/users?per_page=0 the server answers 400, and paginate finished without "
            f"an error (it yielded {_shown(outcome.value)}): raise for an error status, e.g. "
            "with `response.raise_for_status()`"
        )
    return (
        f"all {total} users exactly once, in order, one request per page; only one request "
        "when the caller stopped early; and an error for a 400"
    )


q3 = Exercise(
    "11.3",
    "paginate: every page, lazily, as an async generator",
    _check_paginate,
    answer="paginate",
    hints=[
        "An async generator is an `async def` with `yield` in it. Loop while you have a URL: "
        "GET it with the session, yield each item of body['data'], then move to the next URL.",
        "aiohttp parses the Link header for you: `response.links.get('next')` is None on the "
        "last page, else a mapping whose ['url'] is the next page's URL (a yarl.URL).",
        "Call `response.raise_for_status()` before reading the body, and read the links "
        "inside the `async with session.get(url) as response:` block.",
    ],
    solution="11-robust-api-client.ipynb",
)


# --- 11.4 RobustClient ----------------------------------------------------------------------------


JITTER_SAMPLES = 16  # requests that fail together, whose retries must spread out
# Seconds between the fastest and the slowest: about 0.25 with full jitter, 0.1 with equal
# jitter (half fixed, half random), a few milliseconds without any.
JITTER_SPREAD = 0.04


class _Driver:
    """Runs one scenario of the learner's client class under a fresh client id."""

    def __init__(self, cls: type, api: str) -> None:
        self.cls = cls
        self.api = api
        self.first = True

    async def run(
        self, scenario: Callable[[Any], Awaitable[Any]], within: float = 5.0, **settings: Any
    ) -> tuple[_Outcome, str]:
        client = _lab.new_client_id("robust")
        headers = {"X-Client-Id": client}

        async def use() -> Any:
            try:
                instance = self.cls(self.api, headers=headers, **settings)
            except NotImplementedError:
                raise
            except Exception as exc:
                given = ", ".join(["base_url", "headers=...", *(f"{k}=..." for k in settings)])
                raise Incorrect(
                    f"RobustClient({given}) raised {describe(exc)}: keep the __init__ "
                    "signature of the exercise"
                ) from None
            async with instance as api:
                if api is None:
                    raise Incorrect(
                        "`async with RobustClient(...) as api` gave None: return self from "
                        "__aenter__"
                    )
                return await scenario(api)

        first, self.first = self.first, False
        with watch_sessions() as opened:
            try:
                outcome = await _run(use, within, first=first)
            finally:
                left = await close_left_open(opened)
        if left:
            raise Incorrect(
                "after `async with RobustClient(...)` ended, its aiohttp.ClientSession was "
                "still open: close it in `__aexit__` (`await self._session.close()`)"
            )
        if len(opened) > 1:
            raise Incorrect(
                f"one `async with RobustClient(...)` opened {len(opened)} aiohttp sessions: "
                "open one in `__aenter__` and send every request and every attempt through it "
                "(a session keeps its connections for the next request)"
            )
        return outcome, client

    async def statuses(self, client: str) -> list[int]:
        return [status for _, _, status in await _log(self.api, client)]


def _expect_error(
    outcome: _Outcome, what: str, name: str, status: int, advice: str = ""
) -> BaseException:
    """The learner's call must have raised the typed error `name` with this status."""
    if outcome.too_slow:
        raise Incorrect(f"{what} was still running after the check's deadline{advice}")
    error = outcome.error
    if error is None:
        raise Incorrect(f"{what} returned {_shown(outcome.value)}: it should raise {name}")
    if name not in _names(error):
        extra = (
            f": raise {name} (with the server's detail) instead, e.g. with error_from() "
            "from exercise 2"
            if "APIError" not in _names(error)
            else ""
        )
        raise Incorrect(f"{what} raised {_what(error)}; it should raise {name}{extra}")
    if getattr(error, "status", None) != status:
        raise Incorrect(f"{what} raised {name} whose .status is not {status}")
    return error


def _expect_value(outcome: _Outcome, what: str, wanted: Any, advice: str = "") -> None:
    if outcome.too_slow:
        raise Incorrect(f"{what} was still running after the check's deadline{advice}")
    if outcome.error is not None:
        raise Incorrect(f"{what} raised {_what(outcome.error)}{advice}")
    if outcome.value != wanted:
        raise Incorrect(f"{what} returned {_shown(outcome.value)}; expected {_shown(wanted)}")


async def _check_robust_client(cls: Any) -> str:
    if not inspect.isclass(cls):
        raise Incorrect(f"pass your class itself (RobustClient), not {type(cls).__name__}")
    api = _lab.start().api
    drive = _Driver(cls, api)

    # A 404 is final: typed, with the server's detail, and not retried.
    outcome, client = await drive.run(lambda c: c.get("/api/users/99999"))
    what = "api.get('/api/users/99999')"
    error = _expect_error(outcome, what, "NotFound", 404)
    if "there is no user with id '99999'" not in str(getattr(error, "detail", "")):
        raise Incorrect(f"{what} raised NotFound without the server's detail in .detail")
    sent = await drive.statuses(client)
    if len(sent) != 1:
        raise Incorrect(
            f"the server got {len(sent)} requests for {what}: a 404 is final, do not retry it"
        )

    # Authentication.
    outcome, client = await drive.run(lambda c: c.get("/api/private"))
    _expect_error(outcome, "api.get('/api/private') without credentials", "Unauthorized", 401)

    async def twice(c: Any) -> Any:
        await c.get("api/private")
        return await c.get("/api/private")

    outcome, client = await drive.run(twice, username="alice", password="wonderland")
    login = (
        ": with username and password, get a token from POST /api/token (HTTP Basic auth) "
        "and send `Authorization: Bearer <token>` with each request"
    )
    what = "api.get('api/private'), then api.get('/api/private'), with alice's credentials"
    _expect_value(outcome, what, {"username": "alice"}, login)
    logins = [entry for entry in await _log(api, client) if entry[:2] == ("POST", "/api/token")]
    if len(logins) > 1:
        raise Incorrect(
            f"for {what} the server got {len(logins)} logins (POST /api/token): log in once, "
            "keep the token (`self._token`), and send it with every request"
        )

    # An absolute URL elsewhere: never send the token there.
    elsewhere = f"http://127.0.0.1:{closed_port()}/api/private"
    outcome, client = await drive.run(
        lambda c: c.get(elsewhere), username="alice", password="wonderland", max_attempts=2
    )
    what = "api.get(<an absolute URL on another server>)"
    if not isinstance(outcome.error, ValueError):
        got = "returned a value" if outcome.error is None else f"raised {_what(outcome.error)}"
        raise Incorrect(
            f"{what} {got}; it should raise ValueError before sending anything: an absolute "
            "URL is used only if it lies under base_url, so that the token never goes to "
            "another host"
        )
    outcome, client = await drive.run(
        lambda c: c.get("/api/private"), username="alice", password="wrong"
    )
    _expect_error(outcome, "api.get('/api/private') with a wrong password", "Unauthorized", 401)

    # Retries of a flaky GET.
    outcome, client = await drive.run(lambda c: c.get("/api/flaky", failures=2, retry_after=0))
    what = "api.get('/api/flaky', failures=2, retry_after=0)"
    _expect_value(
        outcome,
        what,
        {"attempts": 3, "failures": 2},
        ": the endpoint fails twice with 503 and then succeeds, so retry a 503 (up to "
        "max_attempts attempts in all)",
    )

    # Pagination.
    truth = await asyncio.to_thread(_all_users, api)
    what = "api.paginate('api/users', per_page=10)"
    outcome, client = await drive.run(
        lambda c: _collect(c.paginate("api/users", per_page=10), what, len(truth) + 25)
    )
    if outcome.too_slow or outcome.error is not None:
        problem = "was still running" if outcome.too_slow else f"raised {_what(outcome.error)}"
        raise Incorrect(f"{what} {problem}")
    _compare_users(outcome.value, truth, what)
    sent = await drive.statuses(client)
    pages = math.ceil(len(truth) / 10)
    if len(sent) != pages:
        raise Incorrect(
            f'{what} sent {len(sent)} requests for {pages} pages: follow rel="next" and stop '
            "when there is none"
        )

    # A POST is not retried blindly; with an Idempotency-Key it is.
    outcome, client = await drive.run(
        lambda c: c.post("/api/flaky?failures=1&retry_after=0&key=plain", {"amount": 1})
    )
    what = "api.post('/api/flaky?failures=1&retry_after=0', ...) without idempotency_key"
    sent = await drive.statuses(client)
    if len(sent) > 1:
        raise Incorrect(
            f"the server got {len(sent)} POSTs for {what}: the first one may have done its "
            "work before it failed, so do not retry a POST without an idempotency key"
        )
    _expect_error(outcome, what, "ServerError", 503)
    outcome, client = await drive.run(
        lambda c: c.post(
            "/api/flaky?failures=1&retry_after=0&key=keyed", {"amount": 1}, idempotency_key="k-1"
        )
    )
    _expect_value(
        outcome,
        "api.post('/api/flaky?failures=1&retry_after=0', ..., idempotency_key='k-1')",
        {"attempts": 2, "failures": 1},
        ": with an idempotency key the POST may be retried like a GET",
    )

    # A Retry-After longer than max_wait: raise at once.
    outcome, client = await drive.run(lambda c: c.get("/api/maintenance"), within=1.0)
    what = "api.get('/api/maintenance')"
    error = _expect_error(
        outcome,
        what,
        "ServerError",
        503,
        advice=": it asks for Retry-After: 120, more than max_wait (3 s), so raise the "
        "ServerError at once instead of waiting",
    )
    if getattr(error, "retry_after", None) != 120:
        raise Incorrect(f"{what} raised ServerError whose .retry_after is not 120 (seconds)")
    sent = await drive.statuses(client)
    if len(sent) != 1:
        raise Incorrect(
            f"the server got {len(sent)} requests for {what}: it asks for Retry-After: 120, "
            "more than max_wait, so raise at once without retrying"
        )

    # Backoff with jitter: clients that fail together must not retry together.
    async def spread(c: Any) -> list[float]:
        async def one(key: int) -> float:
            started = time.perf_counter()
            await c.get("/api/flaky", failures=2, retry_after=0, key=f"jitter-{key}")
            return time.perf_counter() - started

        return list(await asyncio.gather(*(one(key) for key in range(JITTER_SAMPLES))))

    outcome, client = await drive.run(spread)
    what = f"{JITTER_SAMPLES} GETs at once of /api/flaky (two 503s each, Retry-After: 0)"
    if outcome.too_slow or outcome.error is not None:
        problem = "were still running" if outcome.too_slow else f"raised {_what(outcome.error)}"
        raise Incorrect(f"{what} {problem}")
    if max(outcome.value) - min(outcome.value) < JITTER_SPREAD:
        raise Incorrect(
            f"{what}: each waited as long as the others before its retries, so all "
            f"{JITTER_SAMPLES} came back at the same moment; add jitter to the backoff, e.g. "
            "`random.uniform(0, 0.05 * 2 ** attempt)`"
        )

    # A crash is a ServerError.
    outcome, client = await drive.run(lambda c: c.get("/api/crash"))
    _expect_error(outcome, "api.get('/api/crash')", "ServerError", 500)

    # A timeout for each attempt.
    outcome, client = await drive.run(
        lambda c: c.get("/api/slow", seconds=3), within=1.5, timeout=0.3, max_attempts=2
    )
    what = "api.get('/api/slow', seconds=3) with timeout=0.3, max_attempts=2"
    if outcome.too_slow:
        raise Incorrect(
            f"{what} was still running after 1.5 s: give the session "
            "aiohttp.ClientTimeout(total=timeout), so that each attempt stops after `timeout`"
        )
    if not isinstance(outcome.error, TimeoutError):
        got = "returned a value" if outcome.error is None else f"raised {_what(outcome.error)}"
        raise Incorrect(f"{what} {got}; it should raise TimeoutError after its attempts")
    sent_count = (await _stats(api, client))["requests"]
    if sent_count > 2:
        raise Incorrect(f"{what} sent {sent_count} requests: make at most max_attempts attempts")

    # RateLimited, with retry_after.
    async def twice(c: Any) -> Any:
        await c.get("/api/limited", capacity=1)
        return await c.get("/api/limited", capacity=1)

    outcome, client = await drive.run(twice, max_attempts=1)
    what = "a second api.get('/api/limited', capacity=1) with max_attempts=1"
    error = _expect_error(outcome, what, "RateLimited", 429)
    if getattr(error, "retry_after", None) != 1:
        raise Incorrect(f"{what} raised RateLimited whose .retry_after is not 1 (second)")

    # Retry-After honoured on a 429.
    async def timed_twice(c: Any) -> float:
        await c.get("/api/limited", capacity=1, per_second=2)
        started = time.perf_counter()
        await c.get("/api/limited", capacity=1, per_second=2)
        return time.perf_counter() - started

    outcome, client = await drive.run(timed_twice)
    what = "a second api.get('/api/limited', capacity=1, per_second=2)"
    if outcome.too_slow or outcome.error is not None:
        problem = "was still running" if outcome.too_slow else f"raised {_what(outcome.error)}"
        raise Incorrect(
            f"{what} {problem}: the server answers 429 with Retry-After: 1; wait that long, "
            "then retry"
        )
    sent = await drive.statuses(client)
    if sent.count(429) > 1 or outcome.value < 0.9:
        raise Incorrect(
            f"the server answered 429 with Retry-After: 1, and your client asked again too "
            f"soon ({sent.count(429)} answers were 429): wait as long as Retry-After says"
        )
    if sent != [200, 429, 200]:
        raise Incorrect(f"for {what} the server saw the statuses {sent}, not [200, 429, 200]")
    return (
        "typed errors with the server's detail, no retry of a 404 or of a plain POST, one "
        "login and a bearer token that stays home, every page once, retries of 503 and 429 "
        "that honour Retry-After or back off with jitter, a fast failure for a long "
        "Retry-After, a timeout for each attempt, and one session, closed"
    )


q4 = Exercise(
    "11.4",
    "RobustClient: the robust client",
    _check_robust_client,
    answer="RobustClient",
    hints=[
        "Write `_send` first: one loop over the attempts around "
        "`async with self._session.request(method, url, params=..., json=..., headers=...)` "
        "(the session of `__aenter__`, never a new one); `await read_body(response)`; return "
        "(body, response) below 400, else build the error with `error_from()` (exercise 2).",
        "Retry only if the method is GET (or an idempotency key was given) and the status is "
        "429, 502, 503 or 504, or the attempt raised `aiohttp.ClientConnectionError` or "
        "`TimeoutError`; raise when the attempts run out.",
        "The wait: `error.retry_after` if the server sent one (raise at once if it is more "
        "than max_wait), else `random.uniform(0, 0.05 * 2 ** attempt)`. The token: POST "
        "/api/token with `headers={'Authorization': aiohttp.encode_basic_auth(username, "
        "password)}`, once (keep it in `self._token`), then `Authorization: Bearer <token>` "
        "on each request.",
    ],
    solution="11-robust-api-client.ipynb",
)
