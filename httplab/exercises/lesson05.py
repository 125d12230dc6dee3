"""Exercises of lesson 05: one session for many requests, a login flow, a pool for threads.

The checks read the course API's own stats for the client id they hand to the learner's
function (requests, TCP connections, peak concurrency, the request log), watch which
`requests.Session` objects the function opened and closed, and listen to urllib3's log for
connections it had to throw away.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import DEFAULT_POOLSIZE, HTTPAdapter

from .. import lab as _lab
from ..checks import Exercise, Incorrect, call, counted, expect_http_error
from ..lab import new_client_id


@dataclass
class _Sessions:
    """The requests.Session objects created (and closed) while a learner's function ran."""

    opened: list[requests.Session] = field(default_factory=list)
    closed: set[int] = field(default_factory=set)

    @property
    def left_open(self) -> int:
        return sum(1 for session in self.opened if id(session) not in self.closed)


@contextlib.contextmanager
def _watch_sessions() -> Iterator[_Sessions]:
    """Record every requests.Session created or closed inside the block."""
    seen = _Sessions()
    original_init, original_close = requests.Session.__init__, requests.Session.close

    def init(self: requests.Session, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        seen.opened.append(self)

    def close(self: requests.Session) -> None:
        seen.closed.add(id(self))
        original_close(self)

    requests.Session.__init__ = init  # type: ignore[method-assign]
    requests.Session.close = close  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        requests.Session.__init__ = original_init  # type: ignore[method-assign]
        requests.Session.close = original_close  # type: ignore[method-assign]


def _require_closed(seen: _Sessions) -> None:
    if seen.left_open:
        raise Incorrect(
            f"your function left {seen.left_open} `requests.Session` open: create it with "
            "`with requests.Session() as session:` so that it is closed at the end"
        )


def _require_client_id(stats: dict[str, Any]) -> None:
    if stats["requests"] == 0:
        raise Incorrect(
            "the course API saw no request with your client_id in the X-Client-Id header: "
            "set `session.headers['X-Client-Id'] = client_id`"
        )


def _shown(answer: Any) -> str:
    """The learner's answer in a message: a list shortened, anything else by its type (a repr
    such as '<generator object ... at 0x7f...>' would change from run to run)."""
    if isinstance(answer, list):
        text = repr(answer)
        return text if len(text) <= 150 else text[:147] + "..."
    return f"a {type(answer).__name__}"


def _log(stats: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [(e["method"], e["path"], e["status"]) for e in stats["log"]]


# --- exercise 1: one session, one connection --------------------------------------------------


def _check_get_users(get_users: Callable[..., Any]) -> str:
    lab = _lab.start()
    listing = requests.get(f"{lab.api}/api/users", params={"per_page": 5}, timeout=5)
    listing.raise_for_status()
    existing = [user["id"] for user in listing.json()["data"]]
    if len(existing) < 5:
        lab.reset()  # users were deleted in an earlier lesson: bring the seed users back
        existing = [1, 2, 3, 4, 5]
    ids = [existing[2], existing[0], existing[4], existing[0], existing[1]]
    truth = [requests.get(f"{lab.api}/api/users/{i}", timeout=5).json() for i in ids]

    client_id = new_client_id("check")
    with _watch_sessions() as seen:
        answer = call(get_users, lab.api, ids, client_id)
    stats = lab.stats(client_id)
    _require_client_id(stats)
    if stats["requests"] != len(ids):
        raise Incorrect(
            f"the course API saw {counted(stats['requests'], 'request')} with your client id "
            f"for {len(ids)} ids: send one `GET /api/users/{{id}}` per id"
        )
    if stats["connections"] > 1:
        raise Incorrect(
            f"your {stats['requests']} requests used {stats['connections']} connections: send "
            "them all through one `requests.Session` (`requests.get` opens a new one every time)"
        )
    if answer != truth:
        raise Incorrect(
            f"for ids {ids} you returned {_shown(answer)}: return a list of the users' JSON "
            "objects (`response.json()`), in the order of ids"
        )
    if seen.opened and not any(s.headers.get("X-Client-Id") == client_id for s in seen.opened):
        raise Incorrect(
            "send X-Client-Id as a default header of the session (`session.headers`), not on "
            "each call"
        )
    _require_closed(seen)
    return f"{len(ids)} requests on 1 connection, with a default header, and the session closed"


q1 = Exercise(
    "05.1",
    "One session, one connection",
    _check_get_users,
    answer="get_users",
    hints=[
        "`with requests.Session() as session:` around the loop; "
        "`session.headers['X-Client-Id'] = client_id` before it.",
        "In the loop, `session.get(f'{base_url}/api/users/{user_id}', timeout=5)`; "
        "`raise_for_status()`, then collect `response.json()`.",
        "Return the list after the `with` block, or from inside it: both close the session.",
    ],
    solution="05-sessions.ipynb",
)


# --- exercise 2: log in, read, log out --------------------------------------------------------

FLOW = [("POST", "/api/login", 200), ("GET", "/api/me", 200), ("POST", "/api/logout", 204)]


def _diagnose_flow(log: list[tuple[str, str, int]]) -> None:
    """Raise Incorrect if the server's log of a successful login flow shows a mistake."""
    if not log or log[0][:2] != ("POST", "/api/login"):
        raise Incorrect("start with POST /api/login")
    if log[0][2] in (400, 422):
        raise Incorrect(
            f"POST /api/login answered {log[0][2]}: send "
            "`json={'username': username, 'password': password}`"
        )
    me = [entry for entry in log if entry[:2] == ("GET", "/api/me")]
    if not me:
        raise Incorrect("after logging in, read GET /api/me")
    if me[0][2] == 401:
        raise Incorrect(
            "GET /api/me answered 401: the session cookie that /api/login set was not sent "
            "back. Send both requests through one `requests.Session`, which keeps the cookie"
        )
    if any(entry[1] == "/api/logout" and entry[0] != "POST" for entry in log):
        raise Incorrect(
            "log out with POST, `session.post(f'{base_url}/api/logout', timeout=5)`: logging "
            "out changes the server's state, which a GET must never do (RFC 9110, 9.2.1)"
        )
    if ("POST", "/api/logout", 204) not in log:
        raise Incorrect("log out at the end: `session.post(f'{base_url}/api/logout', timeout=5)`")
    if log != FLOW:
        shown = ", ".join(f"{method} {path} -> {status}" for method, path, status in log)
        raise Incorrect(f"the server saw {shown}; expected login, me, logout, in that order")


def _check_whoami(whoami: Callable[..., Any]) -> str:
    lab = _lab.start()
    for username, password, role in (
        ("alice", "wonderland", "user"),
        ("admin", "letmein", "admin"),
    ):
        client_id = new_client_id("check")
        with _watch_sessions() as seen:
            try:
                answer = call(whoami, lab.api, username, password, client_id)
            except Incorrect:
                stats = lab.stats(client_id)
                if stats["requests"]:
                    _diagnose_flow(_log(stats))
                raise
        stats = lab.stats(client_id)
        _require_client_id(stats)
        _diagnose_flow(_log(stats))
        if stats["connections"] > 1:
            raise Incorrect(
                f"your 3 requests used {stats['connections']} connections: send them through "
                "one `requests.Session`"
            )
        expected = {"username": username, "role": role}
        if answer != expected:
            raise Incorrect(
                f"for {username!r} you returned {answer!r}: return the JSON of GET /api/me, "
                f"{expected}"
            )
        _require_closed(seen)

    client_id = new_client_id("check")
    with _watch_sessions() as seen:
        expect_http_error(
            whoami, lab.api, "alice", "not-the-password", client_id,
            status=401, endpoint="POST /api/login", when="with a wrong password", response="login",
        )  # fmt: skip
    log = _log(lab.stats(client_id))
    if log != [("POST", "/api/login", 401)]:
        shown = ", ".join(f"{method} {path} -> {status}" for method, path, status in log)
        raise Incorrect(
            f"after a failed login send nothing more; the server saw {shown}: call "
            "`raise_for_status()` on the login response, before any other request"
        )
    _require_closed(seen)
    return "logged in, read /api/me and logged out on one connection; a wrong password raises"


q2 = Exercise(
    "05.2",
    "Log in, read, log out",
    _check_whoami,
    answer="whoami",
    hints=[
        "One `with requests.Session() as session:` for the three requests, with "
        "`session.headers['X-Client-Id'] = client_id`.",
        "`session.post(f'{base_url}/api/login', json={'username': username, 'password': "
        "password}, timeout=5)`, then `raise_for_status()`: the session now holds the cookie.",
        "`me = session.get(f'{base_url}/api/me', timeout=5)` and `me.raise_for_status()`; "
        "then `session.post(f'{base_url}/api/logout', timeout=5)`; return `me.json()`.",
    ],
    solution="05-sessions.ipynb",
)


# --- exercise 3: a pool for threads ------------------------------------------------------------

WORKERS = 12
# Distinct durations, longest first, so that the order of completion is not the order of paths.
PATHS = [f"/api/slow?seconds={0.06 + i / 1000:.3f}" for i in reversed(range(2 * WORKERS))]
DISCARDING = "Connection pool is full"


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def _listen_to_urllib3() -> Iterator[list[str]]:
    """The warnings urllib3's connection pools log inside the block."""
    logger = logging.getLogger("urllib3.connectionpool")
    handler, level = _Collect(), logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.WARNING:
        logger.setLevel(logging.WARNING)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _check_fetch_concurrently(fetch_concurrently: Callable[..., Any]) -> str:
    lab = _lab.start()
    client_id = new_client_id("check")
    expected = [{"slept": float(path.split("=")[1])} for path in PATHS]
    with _watch_sessions() as seen, _listen_to_urllib3() as messages:
        answer = call(fetch_concurrently, lab.api, PATHS, client_id, WORKERS)
    stats = lab.stats(client_id)
    _require_client_id(stats)
    if stats["requests"] != len(PATHS):
        raise Incorrect(
            f"the course API saw {counted(stats['requests'], 'request')} with your client id "
            f"for {len(PATHS)} paths: send one GET per path"
        )
    if answer != expected:
        if isinstance(answer, list) and sorted(map(repr, answer)) == sorted(map(repr, expected)):
            raise Incorrect(
                "you returned the right bodies in the wrong order: return them in the order "
                "of paths (`executor.map` keeps it, `as_completed` does not)"
            )
        raise Incorrect(
            f"you returned {_shown(answer)}: return the JSON body of each response "
            "(`response.json()`), in a list in the order of paths"
        )
    peak = stats["peak_concurrency"]
    if peak < WORKERS - 2:  # the solution reaches WORKERS: each request waits 60 ms or more
        raise Incorrect(
            f"at most {counted(peak, 'request')} in flight at once, for {WORKERS} threads: run "
            f"them in `ThreadPoolExecutor(max_workers=workers)`, with `workers={WORKERS}` (its "
            "default is a few threads per CPU)"
        )
    if peak > WORKERS:
        raise Incorrect(
            f"{peak} requests were in flight at once, more than `workers={WORKERS}`: "
            "use `ThreadPoolExecutor(max_workers=workers)`"
        )
    if len(seen.opened) > 1:
        raise Incorrect(
            f"your function opened {len(seen.opened)} `requests.Session` objects: share one "
            "session among the threads"
        )
    if stats["connections"] > WORKERS:
        raise Incorrect(
            f"{stats['connections']} connections for {WORKERS} threads: share one session "
            "among the threads"
        )
    discarded = sum(1 for message in messages if message.startswith(DISCARDING))
    if discarded:
        adapter = seen.opened[0].get_adapter(lab.api) if seen.opened else None
        raise Incorrect(
            f"urllib3 threw away {counted(discarded, 'connection')} because the pool was full: "
            f"{_pool_advice(adapter)}"
        )
    adapter = seen.opened[0].get_adapter(lab.api) if seen.opened else None
    if isinstance(adapter, HTTPAdapter) and adapter._pool_maxsize < WORKERS:
        raise Incorrect(
            "no connection was thrown away, but the pool is smaller than the threads (with "
            f"`pool_block=True` the other threads wait for a connection): {_pool_advice(adapter)}"
        )
    _require_closed(seen)
    return (
        f"{len(PATHS)} requests on {WORKERS} threads sharing one session, no connection "
        "thrown away, results in order"
    )


def _pool_advice(adapter: Any) -> str:
    """What to change in the adapter that served the learner's requests."""
    if not isinstance(adapter, HTTPAdapter):
        return f"mount `HTTPAdapter(pool_maxsize=workers)` on the session ({WORKERS} threads)"
    connections, maxsize = adapter._pool_connections, adapter._pool_maxsize
    if (connections, maxsize) == (DEFAULT_POOLSIZE, DEFAULT_POOLSIZE):
        return (
            f"the default adapter keeps 10 connections per host, fewer than your {WORKERS} "
            "threads. Mount `HTTPAdapter(pool_maxsize=workers)` on the session"
        )
    if connections >= WORKERS > maxsize:
        return (
            f"your adapter has `pool_connections={connections}` but `pool_maxsize={maxsize}`. "
            "`pool_connections` is the number of pools, one per host the session talks to; "
            "`pool_maxsize` is the number of connections each pool keeps. All requests go to "
            "one host, so set `pool_maxsize=workers`"
        )
    return (
        f"your adapter keeps `pool_maxsize={maxsize}` connections per host, fewer than your "
        f"{WORKERS} threads: set `pool_maxsize=workers`"
    )


q3 = Exercise(
    "05.3",
    "A pool for threads",
    _check_fetch_concurrently,
    answer="fetch_concurrently",
    hints=[
        "Inside `with requests.Session() as session:`, mount "
        "`HTTPAdapter(pool_maxsize=workers)` for 'http://' and 'https://' with "
        "`session.mount(...)`.",
        "Write a small `fetch(path)` that calls `session.get(base_url + path, timeout=5)`, "
        "raises for status and returns `.json()`.",
        "`with ThreadPoolExecutor(max_workers=workers) as executor:` "
        "`return list(executor.map(fetch, paths))` keeps the order of paths.",
    ],
    solution="05-sessions.ipynb",
)
