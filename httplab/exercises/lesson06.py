"""Exercises of lesson 06: name the failure, a retrying Session, retries by hand.

Every check runs the learner's code against the lab's fault injection (/api/slow, /api/flaky,
/api/limited, /api/maintenance, /api/gateway) and counts the attempts on the server, each
scenario under a fresh client id passed as ``?client=``. The learner's code runs in a worker
thread with a deadline, so an answer that sleeps for minutes is reported, not waited for.
"""

from __future__ import annotations

import contextlib
import email.utils
import inspect
import math
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import requests
from aiohttp import web

from .. import lab as _lab
from .. import servers
from ..checks import Exercise, Incorrect, NotAttempted, short
from ..misbehaving import closed_port

RETRY_AFTER_MARGIN = 0.9  # a wait of Retry-After: 1 must take at least this long (seconds)


# --- running the learner's code -------------------------------------------------------------


@dataclass
class Run:
    """What happened when the learner's code ran: its value or exception, and how long."""

    value: Any = None
    error: BaseException | None = None
    seconds: float = 0.0
    finished: bool = True


def _kind(exc: BaseException) -> str:
    """A stable name for an exception type: `requests.HTTPError` rather than its message."""
    cls = type(exc)
    package = cls.__module__.split(".")[0]
    if package == "requests":
        return f"requests.{cls.__qualname__}"
    if package in ("urllib3", "json", "httpx", "aiohttp"):
        return f"{cls.__module__}.{cls.__qualname__}"
    return cls.__qualname__  # built-in, or the learner's own


def _run(function: Callable[..., Any], *args: Any, deadline: float, **kwargs: Any) -> Run:
    """Call `function` in a worker thread; give up waiting after `deadline` seconds."""
    if not callable(function):
        raise Incorrect(f"pass your function itself, not {type(function).__name__}")
    box: dict[str, Any] = {}

    def target() -> None:
        started = time.perf_counter()
        try:
            box["value"] = function(*args, **kwargs)
        except BaseException as exc:  # the learner's exception is an outcome, not a crash
            box["error"] = exc
        box["seconds"] = time.perf_counter() - started

    worker = threading.Thread(target=target, name="httplab-lesson06-answer", daemon=True)
    worker.start()
    worker.join(deadline)
    if worker.is_alive():
        return Run(seconds=deadline, finished=False)
    error = box.get("error")
    if isinstance(error, NotImplementedError):
        raise NotAttempted
    value = box.get("value")
    if inspect.iscoroutine(value):
        value.close()
        raise Incorrect("your function returned a coroutine: write it with `def`, not `async def`")
    return Run(value=value, error=error, seconds=box["seconds"])


def _attempts(client: str) -> int:
    """How many requests the lab saw from this client."""
    return _lab.start().stats(client)["requests"]


def _client() -> str:
    return _lab.new_client_id("lesson06")


def _times(count: int) -> str:
    return "1 time" if count == 1 else f"{count} times"


@dataclass
class _Faults:
    """What the lab's course API lacks: statuses without Retry-After, and a Retry-After given
    as an HTTP date. `hits` counts the requests per path."""

    url: str = ""
    hits: dict[str, int] = field(default_factory=dict)
    due: dict[str, float] = field(default_factory=dict)

    def app(self) -> web.Application:
        async def status(request: web.Request) -> web.Response:
            self.hits[request.path] = self.hits.get(request.path, 0) + 1
            code = int(request.match_info["code"])
            return web.json_response({"status": code}, status=code)

        async def later(request: web.Request) -> web.Response:
            """503 with Retry-After: an HTTP date (the next whole second at least 0.3 s
            ahead) until that moment comes; then 200."""
            self.hits[request.path] = self.hits.get(request.path, 0) + 1
            now = time.time()
            due = self.due.setdefault(request.path, math.ceil(now + 0.3))
            if now >= due - 0.05:
                return web.json_response({"waited": True})
            when = email.utils.formatdate(due, usegmt=True)
            return web.json_response({"status": 503}, status=503, headers={"Retry-After": when})

        app = web.Application()
        app.router.add_get("/status/{code:[0-9]{3}}", status)
        app.router.add_get("/later/{key}", later)
        return app


@contextlib.contextmanager
def _faults() -> Iterator[_Faults]:
    faults = _Faults()
    server = servers.serve_aiohttp(faults.app(), name="lesson06-check-faults")
    faults.url = server.url
    try:
        yield faults
    finally:
        server.stop()


class _FullBacklog:
    """A listening socket whose accept queue is full: Linux drops new SYNs, so a client's
    connect times out. `works` says whether this system behaves that way (a probe with
    requests got ConnectTimeout); the listener closes itself after `lifetime` seconds so that
    a client without a timeout is refused instead of waiting for minutes."""

    def __init__(self, lifetime: float = 2.0) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/"
        self.filler: socket.socket | None = None
        self.works = False
        try:
            self.filler = socket.create_connection(self.listener.getsockname(), timeout=1)
            requests.get(self.url, timeout=(0.1, 0.1))
        except requests.ConnectTimeout:
            self.works = True
        except (OSError, requests.RequestException):
            pass
        self.timer = threading.Timer(lifetime, self.close)
        self.timer.daemon = True
        self.timer.start()

    def close(self) -> None:
        self.timer.cancel()
        for sock in (self.filler, self.listener):
            if sock is not None:
                sock.close()


# --- exercise 1: name the failure -----------------------------------------------------------

TIMEOUT_ADVICE = (
    "a ConnectTimeout is a requests.ConnectionError AND a requests.Timeout: put "
    "`except requests.Timeout` before `except requests.ConnectionError`"
)
CATCH_ALL = (
    "`requests.RequestException` is the base class of every exception of requests: end "
    "with `except requests.RequestException: return 'failed'`, and keep "
    "`except requests.TooManyRedirects` for redirects only"
)
STATUS_ADVICE = (
    "requests does not raise for 4xx and 5xx by itself: call `response.raise_for_status()`"
)


def _check_what_went_wrong(what_went_wrong: Callable[[str, float], str]) -> str:
    lab = _lab.start()
    api = lab.api
    # (what the learner is told the URL is, url, timeout, expected answer, advice)
    cases: list[tuple[str, str, float, str, str]] = [
        ("an existing user (/api/users/1)", f"{api}/api/users/1", 5, "ok", ""),
        (
            "a missing user (/api/users/99999)",
            f"{api}/api/users/99999",
            5,
            "http 404",
            STATUS_ADVICE,
        ),
        ("/api/maintenance", f"{api}/api/maintenance", 5, "http 503", STATUS_ADVICE),
        (
            "an HTML page (/api/html)",
            f"{api}/api/html",
            5,
            "not json",
            "response.json() raises requests.JSONDecodeError for a body that is not JSON",
        ),
        (
            "httpbin's /redirect/40",
            f"{lab.httpbin}/redirect/40",
            5,
            "too many redirects",
            "requests follows at most 30 redirects, then raises requests.TooManyRedirects",
        ),
        (
            "a closed port on 127.0.0.1",
            f"http://127.0.0.1:{closed_port()}/",
            5,
            "no connection",
            "nothing listens there: requests raises requests.ConnectionError",
        ),
        (
            "/api/slow?seconds=1 with timeout=0.25",
            f"{api}/api/slow?seconds=1",
            0.25,
            "timeout",
            "pass `timeout=timeout` to `requests.get`, then catch `requests.Timeout`",
        ),
    ]
    for label, url, timeout, expected, advice in cases:
        _expect_label(what_went_wrong, label, url, timeout, expected, advice)

    backlog = _FullBacklog()
    try:
        if backlog.works:
            label = "a server whose connection queue is full (a connect timeout, timeout=0.25)"
            _expect_label(what_went_wrong, label, backlog.url, 0.25, "timeout", TIMEOUT_ADVICE)
    finally:
        backlog.close()
    label = "an ftp:// URL, which requests cannot send (requests.InvalidSchema)"
    _expect_label(what_went_wrong, label, "ftp://127.0.0.1/", 5, "failed", CATCH_ALL)
    failures = len(cases) + backlog.works
    return f"the right name for all {failures} failures, and `'ok'` for the success"


def _expect_label(
    function: Callable[..., Any], label: str, url: str, timeout: float, expected: str, advice: str
) -> None:
    run = _run(function, url, timeout, deadline=6)
    if not run.finished:
        raise Incorrect(
            f"for {label} your function was still waiting after 6 s: pass `timeout=timeout` "
            "to `requests.get`"
        )
    if run.error is not None:
        raise Incorrect(
            f"for {label} your function raised {_kind(run.error)}: catch it and "
            f"return {expected!r}" + (f" ({advice})" if advice else "")
        )
    if run.value == expected:
        return
    message = f"for {label} you returned {run.value!r}, but the answer is {expected!r}"
    if expected == "timeout" and run.value == "ok" and run.seconds >= 0.9:
        advice = "you waited for the whole answer: pass `timeout=timeout` to `requests.get`"
    raise Incorrect(message + (f": {advice}" if advice else ""))


q1 = Exercise(
    "06.1",
    "What went wrong?",
    _check_what_went_wrong,
    answer="what_went_wrong",
    hints=[
        "Follow the chapter's shape: one `try` around get, raise_for_status and .json(), "
        "then one `except` per kind of failure, each returning its name.",
        "For 'http 404' you need the status: `except requests.HTTPError as exc:` then "
        "`exc.response.status_code`.",
        "Order matters: `requests.ConnectTimeout` inherits from both `ConnectionError` and "
        "`Timeout`, so the first matching `except` wins: catch `requests.Timeout` first. "
        "Each `except` catches only what its name says; the last one, "
        "`except requests.RequestException`, returns 'failed' for everything else.",
    ],
    solution="06-errors-and-retries.ipynb",
)


# --- exercise 2: a retrying Session -----------------------------------------------------------


def _session_get(session: requests.Session, url: str, client: str, **params: Any) -> Run:
    """GET with the learner's session (in a worker thread, with a deadline)."""
    return _run(session.get, url, params={**params, "client": client}, timeout=5, deadline=8)


def _response_or_explain(run: Run, what: str) -> requests.Response:
    if not run.finished:
        raise Incorrect(f"{what}: your session was still waiting after 8 s")
    if isinstance(run.error, requests.exceptions.RetryError):
        raise Incorrect(
            f"{what}: the session raised RetryError when the retries ran out; return the "
            "last response instead: `Retry(..., raise_on_status=False)`"
        )
    if run.error is not None:
        raise Incorrect(f"{what}: the session raised {_kind(run.error)}")
    return run.value


def _check_retrying_session(retrying_session: Callable[..., requests.Session]) -> str:
    api = _lab.start().api
    made = _run(retrying_session, total=2, backoff_factor=0.01, deadline=5)
    if not made.finished:
        raise Incorrect("retrying_session(...) did not return within 5 s")
    if made.error is not None:
        raise Incorrect(
            f"retrying_session(total=2, backoff_factor=0.01) raised {_kind(made.error)}"
        )
    session = made.value
    if not isinstance(session, requests.Session):
        raise Incorrect(f"return a requests.Session, not {type(session).__name__}")
    try:
        _require_https(session)
        with _faults() as faults:
            return _judge_session(session, api, faults)
    finally:
        session.close()


def _require_https(session: requests.Session) -> None:
    """The adapter mounted for http:// must be mounted for https:// too."""
    plain = session.get_adapter("http://127.0.0.1/").max_retries
    secure = session.get_adapter("https://127.0.0.1/").max_retries
    configured = (plain.total, plain.status_forcelist)
    if plain.status_forcelist and (secure.total, secure.status_forcelist) != configured:
        raise Incorrect(
            "your session retries http:// URLs but not https:// ones: mount the adapter for "
            "both, `session.mount('http://', adapter)` and `session.mount('https://', adapter)`"
        )


def _judge_session(session: requests.Session, api: str, faults: _Faults) -> str:
    flaky = f"{api}/api/flaky"

    client = _client()
    run = _session_get(session, flaky, client, failures=2, retry_after=0)
    response = _response_or_explain(run, "/api/flaky failing twice, with total=2")
    attempts = _attempts(client)
    if response.status_code == 503 and attempts == 1:
        raise Incorrect(
            "a 503 came back after 1 attempt: mount an `HTTPAdapter(max_retries=Retry(...))` "
            "for http:// and https://, with 503 in `status_forcelist`"
        )
    if response.status_code != 200 or attempts != 3:
        raise Incorrect(
            f"/api/flaky failing twice, with total=2: expected 200 after 3 attempts, got "
            f"{response.status_code} after {attempts}: pass total to `Retry(total=total, ...)`"
        )

    client = _client()
    run = _session_get(session, flaky, client, failures=10, retry_after=0)
    response = _response_or_explain(run, "/api/flaky failing 10 times, with total=2")
    attempts = _attempts(client)
    if attempts != 3:
        raise Incorrect(
            f"with total=2 the server saw {attempts} attempts, expected 3 (the first request "
            "and 2 retries): pass total to `Retry(total=total, ...)`"
        )
    if response.status_code != 503:
        raise Incorrect(
            "when the retries run out, return the last response (a 503), not a "
            f"{response.status_code}"
        )

    client = _client()
    run = _session_get(session, f"{api}/api/gateway", client)
    response = _response_or_explain(run, "/api/gateway (always 502), with total=2")
    attempts = _attempts(client)
    if attempts != 3:
        raise Incorrect(
            f"a 502 Bad Gateway was tried {_times(attempts)}, expected 3: put 429, 502, 503 "
            "and 504 in `status_forcelist`"
        )

    for status, name in ((429, "429 Too Many Requests"), (504, "504 Gateway Timeout")):
        path = f"/status/{status}"
        run = _run(session.get, faults.url + path, timeout=5, deadline=8)
        _response_or_explain(run, f"a {name} without Retry-After, with total=2")
        attempts = faults.hits.get(path, 0)
        if attempts != 3:
            raise Incorrect(
                f"a {name} without Retry-After was tried {_times(attempts)}, expected 3: put "
                "429, 502, 503 and 504 in `status_forcelist` (urllib3 retries a 429 by itself "
                "only when it carries Retry-After)"
            )

    client = _client()
    run = _session_get(session, f"{api}/api/users/99999", client)
    response = _response_or_explain(run, "/api/users/99999 (404)")
    attempts = _attempts(client)
    if attempts != 1:
        raise Incorrect(
            f"a 404 was tried {_times(attempts)}: it will not change by asking again; keep "
            "4xx codes other than 429 out of `status_forcelist`"
        )

    client = _client()
    params = {"failures": 1, "retry_after": 0, "client": client}
    run = _run(session.post, flaky, params=params, json={}, timeout=5, deadline=8)
    _response_or_explain(run, "a POST to /api/flaky")
    attempts = _attempts(client)
    if attempts > 1:
        raise Incorrect(
            f"your session sent a POST {_times(attempts)}: a POST that failed may already have "
            "had its effect; keep `allowed_methods` at its default "
            "(`Retry.DEFAULT_ALLOWED_METHODS`)"
        )

    retry = session.get_adapter(api).max_retries
    methods = retry.allowed_methods
    if methods is None or "POST" in methods:
        raise Incorrect(
            "your Retry would retry POST: keep `allowed_methods` at its default "
            "(`Retry.DEFAULT_ALLOWED_METHODS`), which leaves out POST and PATCH"
        )

    client = _client()
    run = _session_get(session, flaky, client, failures=1, retry_after=1)
    response = _response_or_explain(run, "/api/flaky with Retry-After: 1")
    attempts = _attempts(client)
    if response.status_code != 200 or attempts != 2:
        raise Incorrect(
            f"/api/flaky failing once: expected 200 after 2 attempts, got "
            f"{response.status_code} after {attempts}"
        )
    if run.seconds < RETRY_AFTER_MARGIN:
        raise Incorrect(
            "the server said Retry-After: 1 and your session retried sooner: keep "
            "`respect_retry_after_header=True`"
        )
    return (
        "retries 429, 502, 503 and 504 within its budget, on http:// and https://, honours "
        "Retry-After, leaves 404 and POST alone"
    )


q2 = Exercise(
    "06.2",
    "A retrying Session",
    _check_retrying_session,
    answer="retrying_session",
    hints=[
        "Build `Retry(total=total, backoff_factor=backoff_factor, status_forcelist=[...])`, "
        "wrap it in `HTTPAdapter(max_retries=retry)` and `session.mount(...)` it.",
        "Mount the adapter for both 'http://' and 'https://'. When the retries run out, "
        "urllib3 raises unless you pass `raise_on_status=False`.",
        "Leave `allowed_methods` and `respect_retry_after_header` at their defaults: they "
        "already do the right thing.",
    ],
    solution="06-errors-and-retries.ipynb",
)


# --- exercise 3: retries by hand ------------------------------------------------------------


def _retries(function: Callable[..., Any], url: str, deadline: float = 8, **options: Any) -> Run:
    options = {"attempts": 3, "backoff": 0.01, "max_wait": 5.0, "timeout": 5.0, **options}
    return _run(function, url, deadline=deadline, **options)


def _expect_http_error(run: Run, status: int, what: str) -> None:
    error = run.error
    if isinstance(error, requests.HTTPError) and error.response is not None:
        if error.response.status_code != status:
            raise Incorrect(
                f"{what}: you raised HTTPError for a {error.response.status_code}; expected "
                f"the {status} of the last attempt"
            )
        return
    if isinstance(error, requests.HTTPError):
        raise Incorrect(
            f"{what}: you raised requests.HTTPError without its response; raise it for the "
            "last response, so that the caller can read the status and body: "
            "`response.raise_for_status()` does it, or `HTTPError(..., response=response)`"
        )
    if error is not None:
        raise Incorrect(
            f"{what}: you raised {_kind(error)}; raise requests.HTTPError "
            "(`response.raise_for_status()` does it)"
        )
    raise Incorrect(
        f"{what}: you returned {short(run.value)}; raise requests.HTTPError for a {status} "
        "(`response.raise_for_status()` does it)"
    )


def _expect_value(run: Run, what: str) -> Any:
    if run.error is not None:
        if isinstance(run.error, requests.HTTPError) and run.error.response is not None:
            raise Incorrect(
                f"{what}: you raised HTTPError for a {run.error.response.status_code}; the "
                "request succeeds if you retry it"
            )
        raise Incorrect(f"{what}: you raised {_kind(run.error)}")
    return run.value


def _check_get_json_with_retries(get_json_with_retries: Callable[..., Any]) -> str:
    lab = _lab.start()
    api = lab.api

    client = _client()
    run = _retries(get_json_with_retries, f"{api}/api/users/1?client={client}")
    value = _expect_value(run, "for /api/users/1")
    if not isinstance(value, dict) or value.get("id") != 1:
        raise Incorrect(f"for /api/users/1 you returned {short(value)}: return response.json()")

    client = _client()
    run = _retries(get_json_with_retries, f"{api}/api/users/99999?client={client}")
    attempts = _attempts(client)
    if attempts > 1:
        raise Incorrect(
            f"a 404 was tried {_times(attempts)}: a 404 will not change by asking again; "
            "raise at once"
        )
    _expect_http_error(run, 404, "for a 404")

    client = _client()
    url = f"{api}/api/flaky?failures=2&retry_after=0&client={client}"
    run = _retries(get_json_with_retries, url)
    attempts = _attempts(client)
    if attempts == 1:
        raise Incorrect(
            "after one 503 Service Unavailable you gave up: 429, 502, 503 and 504 are "
            "temporary, retry them"
        )
    value = _expect_value(run, "for /api/flaky failing twice, with attempts=3")
    if value != {"attempts": 3, "failures": 2}:
        raise Incorrect(
            f"for /api/flaky failing twice you returned {short(value)}, expected its JSON"
        )

    client = _client()
    url = f"{api}/api/flaky?failures=10&retry_after=0&client={client}"
    run = _retries(get_json_with_retries, url)
    attempts = _attempts(client)
    if attempts != 3:
        raise Incorrect(
            f"with attempts=3 the server saw {attempts} attempts on an endpoint that keeps "
            "failing: make exactly `attempts` requests in all, then give up"
        )
    _expect_http_error(run, 503, "when the attempts run out")

    client = _client()
    url = f"{api}/api/maintenance?client={client}"
    run = _retries(get_json_with_retries, url, deadline=3, max_wait=1.0, attempts=2)
    attempts = _attempts(client)
    if not run.finished:
        raise Incorrect(
            "/api/maintenance says Retry-After: 120, more than max_wait=1.0, and you were "
            "still waiting after 3 s: raise HTTPError at once instead of sleeping"
        )
    if attempts > 1:
        raise Incorrect(
            "/api/maintenance says Retry-After: 120, more than max_wait=1.0, and you tried "
            f"{attempts} times: raise HTTPError at once, without waiting or retrying"
        )
    _expect_http_error(run, 503, "for Retry-After: 120 with max_wait=1.0")

    client = _client()
    run = _retries(get_json_with_retries, f"{api}/api/gateway?client={client}", backoff=0.1)
    attempts = _attempts(client)
    if attempts != 3:
        raise Incorrect(
            f"/api/gateway (always 502) was tried {_times(attempts)} with attempts=3: make "
            "exactly `attempts` requests for a status that stays temporary"
        )
    _expect_http_error(run, 502, "for /api/gateway (always 502)")
    if run.seconds < 0.25:
        raise Incorrect(
            "a 502 without Retry-After, backoff=0.1, attempts=3: wait backoff * 2 ** (n - 1) "
            "before retry n (0.1 s, then 0.2 s); you retried sooner"
        )

    client = _client()
    url = f"{api}/api/flaky?failures=1&retry_after=1&client={client}"
    run = _retries(get_json_with_retries, url)
    value = _expect_value(run, "for /api/flaky with Retry-After: 1")
    if run.seconds < RETRY_AFTER_MARGIN:
        raise Incorrect(
            "a 503 said Retry-After: 1 and your retry came sooner: wait the number of "
            "seconds in the Retry-After header"
        )
    if value != {"attempts": 2, "failures": 1}:
        raise Incorrect(f"for /api/flaky failing once you returned {short(value)}")

    client = _client()
    limited = f"{api}/api/limited?capacity=1&per_second=1&client={client}"
    requests.get(limited, timeout=5).raise_for_status()  # the check takes the only token
    run = _retries(get_json_with_retries, limited)
    attempts = _attempts(client) - 1  # the learner's, without the check's own request
    if isinstance(run.error, requests.HTTPError) and attempts == 1:
        raise Incorrect("429 Too Many Requests is temporary: retry it after Retry-After seconds")
    if run.error is not None and attempts > 1:
        raise Incorrect(
            f"a 429 said Retry-After: 1 and the server refused all your {attempts} attempts: "
            "they came too soon; wait the number of seconds in the Retry-After header"
        )
    value = _expect_value(run, "for a 429 with Retry-After: 1")
    if value != {"remaining": 0}:
        raise Incorrect(f"for /api/limited you returned {short(value)}")

    with _faults() as faults:
        run = _retries(get_json_with_retries, f"{faults.url}/later/date")
        attempts = faults.hits.get("/later/date", 0)
    what = "a 503 whose Retry-After is an HTTP date (Wed, 21 Oct 2026 07:28:00 GMT, say)"
    if isinstance(run.error, ValueError) and not isinstance(run.error, requests.HTTPError):
        raise Incorrect(
            f"for {what} you raised {_kind(run.error)}: Retry-After is either a number of "
            "seconds or an HTTP date; parse a date with `email.utils.parsedate_to_datetime` "
            "and wait until then"
        )
    if isinstance(run.error, requests.HTTPError) and attempts > 1:
        raise Incorrect(
            f"for {what} your {attempts} attempts all came before that date: wait until it, "
            "(`email.utils.parsedate_to_datetime(value)` minus the time now, in seconds)"
        )
    value = _expect_value(run, f"for {what}")
    if value != {"waited": True}:
        raise Incorrect(f"for {what} you returned {short(value)}")
    return (
        "retries 429/502/503 within its budget, waits Retry-After (seconds or a date) or "
        "backs off, gives up on 404 and on a Retry-After beyond max_wait"
    )


q3 = Exercise(
    "06.3",
    "get_json_with_retries",
    _check_get_json_with_retries,
    answer="get_json_with_retries",
    hints=[
        "A `for attempt in range(1, attempts + 1):` loop: GET, return .json() on success, "
        "`raise_for_status()` at once for a status that is not worth retrying.",
        "Before retry n, wait what Retry-After says, else `backoff * 2 ** (n - 1)`. "
        "Retry-After is a number of seconds (`float(value)`) or an HTTP date: "
        "`email.utils.parsedate_to_datetime(value).timestamp() - time.time()`, at least 0.",
        "On the last attempt, or when the wait would be longer than max_wait, do not sleep: "
        "call `response.raise_for_status()` so the caller gets an HTTPError.",
    ],
    solution="06-errors-and-retries.ipynb",
)
