"""Exercises of lesson 03: name a status, decide a client's next action, revalidate with ETags.

Every check sends real requests to the lab: the statuses and headers the learner's code
sees are what the servers really answered, and the ETag check reads the course API's own
log of the learner's requests (statuses 200 and 304 counted server-side).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from .. import lab as _lab
from ..checks import Exercise, Incorrect, call, counted

TIMEOUT = 5
CLASSES = {
    1: "informational",
    2: "success",
    3: "redirection",
    4: "client error",
    5: "server error",
}
ACTIONS = ("done", "follow", "retry", "reauthenticate", "give up")


def _phrase(code: int) -> str | None:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return None


def _status_line(response: requests.Response) -> str:
    phrase = _phrase(response.status_code)
    return f"{response.status_code} {phrase}" if phrase else str(response.status_code)


def _path(url: str) -> str:
    """The path and query of a URL: what a message shows instead of a port that changes."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _raised(wrong: Incorrect, shown_call: str) -> str:
    """The learner's exception from `call`, with the call shown without ports or addresses."""
    text = str(wrong)
    return f"{shown_call} raised {text.split(' raised ', 1)[1]}" if " raised " in text else text


class _TimedSession(requests.Session):
    """A Session that records the timeout given to every request sent through it."""

    def __init__(self) -> None:
        super().__init__()
        self.timeouts: list[Any] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.timeouts.append(kwargs.get("timeout"))
        return super().send(request, **kwargs)


def _session(prefix: str) -> _TimedSession:
    session = _TimedSession()
    session.headers["X-Client-Id"] = _lab.new_client_id(prefix)
    return session


def _no_timeout(timeout: Any) -> bool:
    """True for a timeout that lets a request wait forever: None, or a tuple holding None."""
    return timeout is None or (isinstance(timeout, tuple) and None in timeout)


# ---------------------------------------------------------------------------------------
# 03.1 describe(url) -> (code, phrase or None, class)

# (which server, path): a success, a redirect, errors, and two codes HTTPStatus lacks
DESCRIBE_PROBES = (
    ("api", "/api/users/1"),
    ("httpbin", "/status/204"),
    ("httpbin", "/redirect-to?url=/get&status_code=307"),
    ("api", "/api/users/999"),
    ("httpbin", "/status/418"),
    ("api", "/api/maintenance"),
    ("httpbin", "/status/499"),
    ("httpbin", "/status/599"),
)


def _check_describe(describe: Callable[[str], Any]) -> str:
    lab = _lab.start()
    client = _lab.new_client_id("q1")
    for server, path in DESCRIBE_PROBES:
        url = (lab.api if server == "api" else lab.httpbin) + path
        truth = requests.get(url, allow_redirects=False, timeout=TIMEOUT)
        if server == "api":  # the course API logs what the learner sent, under this name
            url += ("&" if "?" in url else "?") + f"client={client}"
        code = truth.status_code
        expected = (code, _phrase(code), CLASSES[code // 100])
        try:
            answer = call(describe, url)
        except Incorrect as wrong:
            message = f"for {path}: {_raised(wrong, 'describe(url)')}"
            if "is not a valid HTTPStatus" in message:
                message += (
                    ". A server may send a code Python does not know: catch the `ValueError`, "
                    "return `None` as the phrase, and take the class from the first digit"
                )
            elif "raised HTTPError" in message:
                message += (
                    ". An error status is an answer to describe, not a failure: do not call "
                    "`raise_for_status()` here"
                )
            elif "raised KeyError" in message:
                message += (
                    ". The class is `CLASSES[code // 100]`: the first digit of the code, 1 to 5"
                )
            raise Incorrect(message) from None
        if server == "api":
            _sent_a_get(lab, client, path)
        if not isinstance(answer, tuple) or len(answer) != 3:
            raise Incorrect(
                f"for {path} you returned {answer!r}: return a tuple `(code, phrase, class)`"
            )
        got_code, got_phrase, got_class = answer
        if got_code != code:
            if code // 100 == 3:
                raise Incorrect(
                    f"for {path} the server answered {code} with a Location header, you "
                    f"returned {got_code!r}: that is the status after requests followed the "
                    "redirect. Pass `allow_redirects=False` to see the redirect itself"
                )
            advice = " as an `int` (`response.status_code`)" * isinstance(got_code, str)
            raise Incorrect(f"for {path} the status is {code}, you returned {got_code!r}{advice}")
        if got_phrase != expected[1]:
            if expected[1] is None:
                raise Incorrect(
                    f"for {path} the status {code} is not in `http.HTTPStatus`, so the phrase is "
                    f"`None`; you returned {got_phrase!r}"
                )
            if isinstance(got_phrase, str) and got_phrase == truth.reason:
                raise Incorrect(
                    f"for {path} you returned the reason phrase this server sent "
                    f"({got_phrase!r}); servers write what they like there (HTTP/2 sends none). "
                    f"Take the phrase from `http.HTTPStatus`: {expected[1]!r}"
                )
            raise Incorrect(
                f"for {path} the phrase of {code} is {expected[1]!r}, you returned "
                f"{got_phrase!r}: take `HTTPStatus(code).phrase`"
            )
        if got_class != expected[2]:
            raise Incorrect(
                f"for {path} the class of {code} is {expected[2]!r} (its first digit is "
                f"{code // 100}), you returned {got_class!r}"
            )
    return (
        f"right code, phrase and class for all {len(DESCRIBE_PROBES)} URLs, including a "
        "redirect not followed and two codes Python does not know"
    )


def _sent_a_get(lab: _lab.Lab, client: str, path: str) -> None:
    """Raise Incorrect unless the course API's last request from `client` for `path` was a GET."""
    sent = [entry["method"] for entry in lab.stats(client)["log"] if entry["path"] == path]
    if not sent:
        raise Incorrect(
            f"the course API received no request for {path}: send a GET to the URL you are "
            "given, query string included"
        )
    if sent[-1] != "GET":
        raise Incorrect(
            f"for {path} the server saw {sent[-1]}: send a GET, as the exercise says (a server "
            "may answer another method differently, e.g. 405 where it has no HEAD handler)"
        )


q1 = Exercise(
    "03.1",
    "Describe a status",
    _check_describe,
    answer="describe",
    hints=[
        "`requests.get(url, allow_redirects=False, timeout=5)` returns the first response "
        "as it is, a redirect included.",
        "`HTTPStatus(code).phrase` is the standard phrase; `HTTPStatus(499)` raises ValueError.",
        "The class is `code // 100`: 1 informational, 2 success, 3 redirection, "
        "4 client error, 5 server error.",
    ],
    solution="03-status-codes.ipynb",
)


# ---------------------------------------------------------------------------------------
# 03.2 next_action(response) -> (action, value)


@dataclass(frozen=True)
class Case:
    """A real response from the lab and the action the rules of the exercise give for it."""

    label: str
    response: requests.Response
    expected: tuple[str, Any]


def _action_cases(lab: _lab.Lab, client: requests.Session) -> Any:
    """Yield the cases one at a time (a wrong answer stops the check early)."""
    api, hb = lab.api, lab.httpbin
    email = f"{client.headers['X-Client-Id']}@example.com"
    get = client.get

    yield Case("GET /api/users/1", get(f"{api}/api/users/1", timeout=TIMEOUT), ("done", None))
    created = client.post(
        f"{api}/api/users", json={"name": "Checker", "email": email}, timeout=TIMEOUT
    )
    yield Case("POST /api/users (a new user)", created, ("done", None))
    yield Case(
        "GET /api/users/999", get(f"{api}/api/users/999", timeout=TIMEOUT), ("give up", None)
    )
    yield Case(
        "GET /api/private without a token",
        get(f"{api}/api/private", timeout=TIMEOUT),
        ("reauthenticate", None),
    )
    yield Case(
        "GET /redirect-to?url=/anything&status_code=307 (on httpbin)",
        get(
            f"{hb}/redirect-to",
            params={"url": f"{hb}/anything", "status_code": 307},
            allow_redirects=False,
            timeout=TIMEOUT,
        ),
        ("follow", f"{hb}/anything"),
    )
    yield Case(
        "GET /redirect/1 (on httpbin)",
        get(f"{hb}/redirect/1", allow_redirects=False, timeout=TIMEOUT),
        ("follow", f"{hb}/get"),
    )
    etag = get(f"{api}/api/users/1", timeout=TIMEOUT).headers["ETag"]
    yield Case(
        "GET /api/users/1 with If-None-Match: <its ETag>",
        get(f"{api}/api/users/1", headers={"If-None-Match": etag}, timeout=TIMEOUT),
        ("done", None),
    )
    yield Case(
        "POST /api/users with an e-mail that is taken",
        client.post(f"{api}/api/users", json={"name": "Again", "email": email}, timeout=TIMEOUT),
        ("give up", None),
    )
    yield Case(
        "DELETE /api/users/<the new user>",
        client.delete(urljoin(api, created.headers.get("Location", "/")), timeout=TIMEOUT),
        ("done", None),
    )
    for code in (301, 303, 308):
        yield Case(
            f"POST /redirect-to?url=/anything&status_code={code} (on httpbin)",
            client.post(
                f"{hb}/redirect-to",
                params={"url": "/anything", "status_code": code},
                allow_redirects=False,
                timeout=TIMEOUT,
            ),
            ("follow", f"{hb}/anything"),
        )
    token = client.post(f"{api}/api/token", auth=("alice", "wonderland"), timeout=TIMEOUT)
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    yield Case(
        "GET /api/admin as alice (a valid token, not an admin)",
        get(f"{api}/api/admin", headers=bearer, timeout=TIMEOUT),
        ("give up", None),
    )
    yield Case(
        "GET /api/private with an expired token",
        get(f"{api}/api/private", headers={"Authorization": "Bearer expired"}, timeout=TIMEOUT),
        ("reauthenticate", None),
    )
    yield Case(
        "POST /api/users with invalid fields",
        client.post(f"{api}/api/users", json={"name": "", "email": "x"}, timeout=TIMEOUT),
        ("give up", None),
    )
    yield Case(
        "DELETE /api/users",
        client.delete(f"{api}/api/users", timeout=TIMEOUT),
        ("give up", None),
    )
    limited = {"capacity": 1, "per_second": 0.1}
    get(f"{api}/api/limited", params=limited, timeout=TIMEOUT)
    too_many = get(f"{api}/api/limited", params=limited, timeout=TIMEOUT)
    wait = int(too_many.headers.get("Retry-After", 1))  # 10, unless a second went by
    yield Case("GET /api/limited once too often", too_many, ("retry", wait))
    yield Case(
        "GET /api/maintenance", get(f"{api}/api/maintenance", timeout=TIMEOUT), ("retry", 120)
    )
    yield Case("GET /api/crash", get(f"{api}/api/crash", timeout=TIMEOUT), ("give up", None))
    yield Case("GET /api/gateway", get(f"{api}/api/gateway", timeout=TIMEOUT), ("retry", 1))
    for code, expected in ((429, ("retry", 1)), (504, ("retry", 1)), (499, ("give up", None))):
        yield Case(
            f"GET /status/{code} (on httpbin, no Retry-After)",
            get(f"{hb}/status/{code}", timeout=TIMEOUT),
            expected,
        )
    yield Case(
        "GET /api/users?page=abc",
        get(f"{api}/api/users", params={"page": "abc"}, timeout=TIMEOUT),
        ("give up", None),
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _action_advice(response: requests.Response, expected: tuple[str, Any], answer: Any) -> str:
    """What to change, for a wrong `answer` to `response` (whose right answer is `expected`)."""
    status = response.status_code
    action, value = answer
    want_action, want_value = expected
    if action not in ACTIONS:
        shown = ", ".join(repr(a) for a in ACTIONS)
        return f"{action!r} is not one of the five actions: {shown}"
    if action == want_action:
        if want_action == "follow":
            location = response.headers["Location"]
            if value == location:
                return (
                    f"the Location {location!r} is relative: resolve it against `response.url` "
                    "(`urllib.parse.urljoin`) so the client knows which server to ask"
                )
            return f"follow the Location header ({_path(location)}) as an absolute URL"
        if want_action == "retry":
            retry_after = response.headers.get("Retry-After")
            if retry_after is None:
                return "there is no Retry-After header: wait 1 second, as the rules say"
            if isinstance(value, str) and value.strip() == retry_after:
                return (
                    f"Retry-After is text ({retry_after!r}): return the seconds as a number "
                    "(`int(...)`)"
                )
            return f"the server asked for {retry_after} s (Retry-After: {retry_after})"
        return f"with {want_action!r} the second item is None"
    if want_action == "done":
        if status == 304:
            return (
                "304 Not Modified has no Location to follow: it says that the copy you "
                "already have is still valid, so you are done"
            )
        return f"a {status // 100}xx is a success: you are done"
    if want_action == "follow":
        return "a 3xx with a Location header is a redirect: return `('follow', <absolute URL>)`"
    if want_action == "reauthenticate":
        challenge = response.headers.get("WWW-Authenticate", "")
        return (
            f"401 means the server does not know who you are (WWW-Authenticate: {challenge}): "
            "get new credentials, return `('reauthenticate', None)`"
        )
    if want_action == "retry":
        return f"{status} is temporary: return `('retry', <seconds>)`"
    if status == 403:
        return (
            "403 Forbidden: the server knows who you are and refuses; the same credentials "
            "will not help (a different identity might, but that is not a retry), so give up"
        )
    if status >= 500:
        return (
            f"{status} means the server failed on this request; by this exercise's rules "
            "that is 'give up' (only 429, 502, 503 and 504 get a retry here; lesson 06 "
            "retries idempotent requests with backoff)"
        )
    return f"a {status} says the request itself is wrong: sent again unchanged it fails again"


def _check_next_action(next_action: Callable[[requests.Response], Any]) -> str:
    lab = _lab.start()
    count = 0
    statuses = set()
    with _session("q2") as client:
        for case in _action_cases(lab, client):
            count += 1
            statuses.add(case.response.status_code)
            where = f"{case.label} → {_status_line(case.response)}"
            try:
                answer = call(next_action, case.response)
            except Incorrect as wrong:
                message = f"{where}: {_raised(wrong, 'next_action(response)')}"
                if "KeyError: 'location'" in message:
                    message += (
                        ". Not every 3xx has a Location: a 304 says the copy you have is still "
                        "good, so you are done. Test 304 first, and read a header that may be "
                        "missing with `response.headers.get(...)`"
                    )
                raise Incorrect(message) from None
            if not isinstance(answer, tuple) or len(answer) != 2:
                raise Incorrect(
                    f"{where}: you returned {answer!r}; return a tuple `(action, value)`, "
                    "e.g. `('retry', 10)` or `('done', None)`"
                )
            action, value = answer
            want_action, want_value = case.expected
            right_value = (
                value == want_value and _is_number(value)
                if want_action == "retry"
                else value == want_value
            )
            if action != want_action or not right_value:
                shown = (
                    (action, _path(value)) if isinstance(value, str) and "://" in value else answer
                )
                advice = _action_advice(case.response, case.expected, answer)
                raise Incorrect(f"{where}: you returned {shown!r}; {advice}")
    return f"the right next action for all {count} responses ({len(statuses)} different statuses)"


q2 = Exercise(
    "03.2",
    "Decide the next action",
    _check_next_action,
    answer="next_action",
    hints=[
        "Test the exceptions to the class first, in the order of the table: 304 (a 3xx with "
        "nothing to follow), then 401, then the codes worth a retry (429, 502, 503, 504); "
        "only then decide by the class, `status // 100` (follow a 3xx only if it has a "
        "`Location`).",
        "`urllib.parse.urljoin(response.url, response.headers['Location'])` turns a relative "
        "Location into an absolute URL.",
        "`response.headers.get('Retry-After')` is a string or None; `int(...)` it, default 1 "
        "(an HTTP date needs email.utils.parsedate_to_datetime, as in the lesson).",
    ],
    solution="03-status-codes.ipynb",
)


# ---------------------------------------------------------------------------------------
# 03.3 get_json(session, url, cache) -> dict, revalidating with ETags

ORDINALS = ("1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th")


def _check_get_json(get_json: Callable[[requests.Session, str, dict], Any]) -> str:
    lab = _lab.start()
    checker = _session("q3checker")
    learner = _session("q3")
    learner_id = learner.headers["X-Client-Id"]
    created = checker.post(
        f"{lab.api}/api/users",
        json={"name": "Cache Me", "email": f"{learner_id}@example.com"},
        timeout=TIMEOUT,
    )
    created.raise_for_status()
    mine = urljoin(lab.api, created.headers["Location"])
    other = f"{lab.api}/api/users/1"
    short = {mine: _path(mine), other: _path(other)}
    # (url, what the calls before taught, the status the server should answer)
    plan = [
        (mine, "", 200),
        (mine, "", 304),
        (other, "", 200),
        (mine, " (after a call for another URL)", 304),
        (mine, " (after the user changed)", 200),
        (mine, " (after the change was fetched)", 304),
        (other, " (unchanged all along)", 304),
    ]
    cache: dict = {}
    try:
        for number, (url, context, _) in enumerate(plan):
            if number == 4:
                checker.patch(url, json={"name": "Cache Me Again"}, timeout=TIMEOUT)
            truth = checker.get(url, timeout=TIMEOUT).json()
            call_name = f"the {ORDINALS[number]} call, for {short[url]}{context}"
            try:
                answer = call(get_json, learner, url, cache)
            except Incorrect as wrong:
                message = f"{call_name}: {_raised(wrong, 'get_json(session, url, cache)')}"
                if "JSONDecodeError" in message:
                    message += ". A 304 has no body: return the body you cached with that ETag"
                raise Incorrect(message) from None
            if answer != truth:
                stale = (
                    number == 4 and isinstance(answer, dict) and answer.get("name") == "Cache Me"
                )
                if stale:
                    raise Incorrect(
                        f"{call_name} returned the user as it was before the change: never "
                        "trust the cache without asking; send `If-None-Match` and let the "
                        "server say 304 or send the new version"
                    )
                raise Incorrect(f"{call_name} returned {answer!r}, not the user {truth!r}")
        log = _learner_log(lab, learner_id)
        if len(learner.timeouts) < len(log):
            raise Incorrect(
                f"{counted(len(log), 'request')} carried your session's X-Client-Id, but "
                f"{len(learner.timeouts)} went through the session: send every request with "
                "`session.get(...)`, the session passed to `get_json` (a copy of its headers "
                "is not the session)"
            )
        if any(_no_timeout(timeout) for timeout in learner.timeouts):
            raise Incorrect(
                "your function sent a request with no timeout, which waits forever for a server "
                "that never answers: pass `timeout=5` to `session.get`"
            )
    finally:
        checker.delete(mine, timeout=TIMEOUT)
        checker.close()
        learner.close()
    return _compare_log(log, plan, short)


def _learner_log(lab: _lab.Lab, client: str) -> list[dict]:
    """The GET requests the course API received from one client, in order."""
    return [entry for entry in lab.stats(client)["log"] if entry["method"] == "GET"]


def _compare_log(log: list[dict], plan: list[tuple[str, str, int]], short: dict) -> str:
    if not log:
        raise Incorrect(
            "the lab saw no GET carrying your session's X-Client-Id: send the requests "
            "with `session.get(...)`, the session passed to `get_json`"
        )
    if len(log) < len(plan):
        raise Incorrect(
            f"{len(plan)} calls sent only {counted(len(log), 'request')}: a call that answers "
            "from the cache without asking the server returns stale data once the resource "
            "changes; "
            "ask every time, with `If-None-Match`"
        )
    if len(log) > len(plan):
        raise Incorrect(f"{len(plan)} calls sent {len(log)} requests: one GET per call is enough")
    got = [entry["status"] for entry in log]
    if all(status == 200 for status in got):
        raise Incorrect(
            "the server answered 200 every time: send `If-None-Match` with the ETag of the last "
            "200 for that URL, exactly as the server sent it (quotes included), so that it "
            "can answer 304 Not Modified"
        )
    for number, ((url, context, want), status) in enumerate(zip(plan, got, strict=True)):
        if status == want:
            continue
        call_name = f"the {ORDINALS[number]} call, for {short[url]}{context}"
        if want == 304 and number == 3:
            advice = "keep one ETag and body per URL, so another URL does not overwrite them"
        elif want == 304 and number == 5:
            advice = "when the server answers 200, store the new ETag and body in the cache"
        elif want == 304:
            advice = "send `If-None-Match` with the ETag exactly as the server sent it"
        else:
            advice = "the ETag you sent was not the last one for this URL"
        raise Incorrect(f"{call_name}: the server answered {status}, not {want}; {advice}")
    revalidated = got.count(304)
    return (
        f"{len(plan)} calls, {len(plan)} requests: {revalidated} answered 304 Not Modified "
        "without a body, and the change was seen at once"
    )


q3 = Exercise(
    "03.3",
    "A cache that revalidates with ETags",
    _check_get_json,
    answer="get_json",
    hints=[
        "Store `cache[url] = (response.headers['ETag'], response.json())` after every 200.",
        "Before the request: if `url in cache`, send "
        "`session.get(url, headers={'If-None-Match': etag}, timeout=5)`.",
        "On a 304 the body is empty: return the body stored with the ETag.",
    ],
    solution="03-status-codes.ipynb",
)
