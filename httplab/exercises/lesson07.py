"""Exercises of lesson 07: many requests with a limit, in order, keeping the good results;
a deadline for a batch of requests.

The checks call the learner's coroutine function with URLs of the course API that carry a
fresh `?client=` id, then read what the server saw for that client (`/api/stats/{client}`):
how many requests, and how many were in flight at once. Among the URLs are a closed port and
a socket that accepts connections and never answers (only a timeout ends a request there).
The checks also watch the aiohttp sessions the learner's code opens, and close any it left
open.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from .. import lab as _lab
from ..checks import Exercise, Incorrect, NotAttempted, acall
from ..misbehaving import closed_port, silent_port
from ..sessionwatch import close_left_open, left_open_advice, watch_sessions

# Markers among the delays of ROUNDS: a URL that answers 500, one where nothing listens, and
# one that accepts the connection and never answers.
CRASH = "/api/crash"
REFUSED = None
SILENT = "silent"


async def _stats(api: str, client: str) -> dict[str, Any]:
    timeout = aiohttp.ClientTimeout(total=5)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.get(f"{api}/api/stats/{client}") as response,
    ):
        response.raise_for_status()
        return await response.json()


def _what(exc: BaseException) -> str:
    """An exception, named in a message that stays the same from run to run (no ports)."""
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"{type(exc).__name__} (status {exc.status})"
    return type(exc).__name__


def _shown(value: Any) -> str:
    if isinstance(value, dict | list | tuple | str | int | float | bool | type(None)):
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    return f"a {type(value).__name__}"


def _is_async(function: Callable[..., Any]) -> bool:
    """An `async def` function (or an object whose __call__ is one)."""
    method = vars(type(function)).get("__call__")
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(method)


async def _answer(
    function: Callable[..., Any],
    name: str,
    *args: Any,
    within: float,
    advice: str = "",
    on_timeout: str = "",
) -> Any:
    """Await the learner's coroutine function for at most `within` seconds.

    Its exceptions become messages without ports or timings (an aiohttp.ClientError gets
    `advice` added, a TimeoutError `on_timeout`); the stub is "not attempted". A plain `def`
    is not called at all: it would block the event loop, and fail in ways that hide the fix.
    """
    if not callable(function):
        return await acall(function, *args)  # acall says what to pass instead
    if not _is_async(function):
        raise Incorrect(f"{name} must be a coroutine function: write it with `async def`")
    try:
        async with asyncio.timeout(within) as deadline:
            result = function(*args)
            if not inspect.isawaitable(result):
                raise Incorrect(f"{name} must be a coroutine function: write it with `async def`")
            return await result
    except (Incorrect, NotAttempted):
        raise
    except NotImplementedError:
        raise NotAttempted from None
    except TimeoutError as exc:
        if deadline.expired():
            raise Incorrect(f"{name} was still running after {within:g} s") from None
        raise Incorrect(f"{name} raised {_what(exc)}{on_timeout}") from None
    except aiohttp.ClientError as exc:
        raise Incorrect(f"{name} raised {_what(exc)}{advice}") from None
    except Exception as exc:
        raise Incorrect(f"{name} raised {_what(exc)}") from None


# --- 07.1 fetch_all(urls, limit, request_timeout) -------------------------------------------

# Each round: the delays of /api/slow (each one distinct, so an answer names its URL), with
# failing URLs among them; the first `limit` URLs are the slowest, so that a correct answer
# reaches exactly `limit` requests in flight. The silent URL comes last, when the slow ones are
# done, so that waiting for it does not lower the peak.
# The first `limit` URLs are slow enough to overlap even on a busy machine.
ROUNDS = (
    (3, [0.3, 0.26, 0.28, CRASH, 0.05, 0.09, 0.06, REFUSED, 0.08, 0.07, SILENT]),
    (5, [0.3, 0.27, 0.29, 0.26, 0.28, 0.04, REFUSED, 0.06, CRASH, 0.05, 0.07]),
)
TIMEOUT = 1.0  # the `request_timeout` the check passes: seconds for each request
ROUND_GUARD = 6.0  # a round must end by then (the silent URL times out after TIMEOUT)

KEEP = (
    ": a failing URL must not cost the others their results; catch each request's error "
    "and return it (or use `asyncio.gather(..., return_exceptions=True)`)"
)
TIMEOUT_IS_NOT_A_CLIENT_ERROR = (
    ": one URL never answers, and a timeout raises TimeoutError, which is not an "
    "aiohttp.ClientError; catch `(aiohttp.ClientError, TimeoutError)` around each request "
    "and return the error, so that the other URLs keep their results"
)


def _plan(
    api: str, client: str, items: list[Any], silent: str
) -> tuple[list[str], list[Any], list[str]]:
    """URLs, the expected answer of each (dict, or None for a failure), and what each is."""
    urls, expected, described = [], [], []
    for item in items:
        if item is CRASH:
            urls.append(f"{api}{CRASH}?client={client}")
            expected.append(None)
            described.append("/api/crash answers 500")
        elif item is REFUSED:
            urls.append(f"http://127.0.0.1:{closed_port()}/?client={client}")
            expected.append(None)
            described.append("nothing listens on its port, so the connection is refused")
        elif item is SILENT:
            urls.append(f"{silent}?client={client}")
            expected.append(None)
            described.append("its server accepts the connection and never answers: a timeout")
        else:
            urls.append(f"{api}/api/slow?seconds={item}&client={client}")
            expected.append({"slept": item})
            described.append(f"/api/slow answers {{'slept': {item}}}")
    return urls, expected, described


def _check_results(answer: Any, expected: list[Any], described: list[str]) -> None:
    if not isinstance(answer, list) or len(answer) != len(expected):
        got = f"a list of {len(answer)}" if isinstance(answer, list) else _shown(answer)
        raise Incorrect(
            f"return a list with one result per URL, in the order of `urls` "
            f"({len(expected)} URLs; you returned {got})"
        )
    # Answers that belong to another URL first: that is a question of order.
    for index, item in enumerate(answer):
        if isinstance(item, dict) and item != expected[index] and item in expected:
            other = expected.index(item)
            raise Incorrect(
                f"the results are out of order: result {index} is the answer of urls[{other}]. "
                "Return them in the order of `urls` (`asyncio.gather` keeps that order; "
                "`as_completed` gives them in the order they finish)"
            )
    for index, (item, wanted) in enumerate(zip(answer, expected, strict=True)):
        if wanted is None and not isinstance(item, Exception):
            raise Incorrect(
                f"urls[{index}] fails ({described[index]}), so result {index} should be the "
                f"exception that request raised; you returned {_shown(item)}"
            )
        if wanted is not None and isinstance(item, BaseException):
            raise Incorrect(
                f"urls[{index}] succeeds ({described[index]}), but result {index} is "
                f"{_what(item)}: each request must keep its own result, whatever the others do"
            )
        if wanted is not None and item != wanted:
            raise Incorrect(
                f"result {index} should be the decoded JSON body {wanted!r}; "
                f"you returned {_shown(item)}"
            )


async def _watched(function: Callable[..., Any], name: str, *args: Any, **options: Any) -> Any:
    """`_answer`, and then no aiohttp.ClientSession may be left open (the check closes it)."""
    with watch_sessions() as opened:
        try:
            answer = await _answer(function, name, *args, **options)
        finally:
            left = await close_left_open(opened)
    if left:
        raise Incorrect(left_open_advice(left, name.split("(")[0]))
    return answer


async def _check_fetch_all(fetch_all: Callable[..., Any]) -> str:
    api = _lab.start().api
    for limit, items in ROUNDS:
        client = _lab.new_client_id("fetchall")
        with silent_port(ROUND_GUARD + 1) as port:
            urls, expected, described = _plan(api, client, items, f"http://127.0.0.1:{port}/")
            name = f"fetch_all(urls, limit={limit}, request_timeout={TIMEOUT})"
            try:
                answer = await _watched(
                    fetch_all,
                    name,
                    urls,
                    limit,
                    TIMEOUT,
                    within=ROUND_GUARD,
                    advice=KEEP,
                    on_timeout=TIMEOUT_IS_NOT_A_CLIENT_ERROR,
                )
            except Incorrect as wrong:
                if "still running" in str(wrong):
                    raise Incorrect(
                        f"{name} was still running after {ROUND_GUARD:g} s: one URL accepts the "
                        "connection and never answers; give each request "
                        "`aiohttp.ClientTimeout(total=request_timeout)`, so that it fails "
                        "after `request_timeout` seconds"
                    ) from None
                raise
        seen = await _stats(api, client)
        peak, sent = seen["peak_concurrency"], seen["requests"]
        wanted = sum(1 for item in items if item is not REFUSED and item is not SILENT)
        if peak > limit:
            raise Incorrect(
                f"with limit={limit} the server saw {peak} of your requests in flight at once: "
                "keep at most `limit` in flight, e.g. with an `asyncio.Semaphore(limit)` around "
                "each request, or `aiohttp.TCPConnector(limit=limit)`"
            )
        if peak < limit - 1:  # one short of the limit: a busy machine may start them late
            raise Incorrect(
                f"with limit={limit} the server never saw more than {peak} of your requests at "
                f"once: start them together (`asyncio.gather`) and let up to {limit} run at the "
                "same time"
            )
        if sent != wanted:
            raise Incorrect(
                f"the course API got {sent} requests for the {wanted} URLs it serves: "
                "request each URL exactly once"
            )
        _check_results(answer, expected, described)
    return (
        "at most `limit` requests in flight (the server saw 3, then 5), results in the order "
        "of the URLs, failures and a timeout reported as exceptions without losing a success, "
        "and the session closed"
    )


q1 = Exercise(
    "07.1",
    "fetch_all: a limit, a timeout, input order, no lost results",
    _check_fetch_all,
    answer="fetch_all",
    hints=[
        "One session for all the requests, `async with aiohttp.ClientSession(timeout=...)`, "
        "with `aiohttp.ClientTimeout(total=request_timeout)`; one coroutine per URL; "
        "`asyncio.gather(...)` returns their results in the order you passed them.",
        "Create `asyncio.Semaphore(limit)` inside fetch_all and wrap each request in "
        "`async with semaphore:`; or give the session `aiohttp.TCPConnector(limit=limit)`.",
        "Inside the coroutine for one URL, `try:` the request (with `raise_for_status()`) "
        "and `except (aiohttp.ClientError, TimeoutError) as error: return error`: a timeout "
        "is a TimeoutError, not an aiohttp.ClientError.",
    ],
    solution="07-async-clients.ipynb",
)


# --- 07.2 fetch_within(urls, seconds) -----------------------------------------------------

# Margins that hold on a busy 2-core machine: the answers due in time arrive 0.65 s early.
DEADLINE = 0.8
TOO_SLOW = 3.0  # seconds the slow URLs take, far past the deadline
GUARD = 2.5  # give up waiting for the answer (less than TOO_SLOW)
LATE = DEADLINE + 1.2  # an answer later than this did not stop at the deadline
BATCH = [TOO_SLOW, 0.05, TOO_SLOW, 0.1, TOO_SLOW, 0.15]


async def _check_fetch_within(fetch_within: Callable[..., Any]) -> str:
    api = _lab.start().api
    client = _lab.new_client_id("deadline")
    urls = [f"{api}/api/slow?seconds={seconds}&client={client}" for seconds in BATCH]
    name = f"fetch_within(urls, {DEADLINE})"
    started = time.perf_counter()
    try:
        answer = await _watched(fetch_within, name, urls, DEADLINE, within=GUARD)
    except Incorrect as wrong:
        if "raised TimeoutError" in str(wrong):
            raise Incorrect(
                f"{wrong}: catch the timeout, and keep the answers that did arrive in time "
                "(None only for the others)"
            ) from None
        if "still running" in str(wrong):
            raise Incorrect(
                f"{name} was still running after {GUARD:g} s: start all the requests together "
                f"and stop waiting at the deadline, {DEADLINE} s after the call"
            ) from None
        raise
    elapsed = time.perf_counter() - started
    if elapsed > LATE:
        raise Incorrect(
            f"{name} took longer than {LATE:g} s: send all the requests at once and return "
            f"at the deadline, {DEADLINE} s after the call (a timeout per request, one after "
            "another, adds up)"
        )
    if not isinstance(answer, list) or len(answer) != len(urls):
        got = f"a list of {len(answer)}" if isinstance(answer, list) else _shown(answer)
        raise Incorrect(f"return a list with one result per URL ({len(urls)} URLs; got {got})")
    for index, (item, seconds) in enumerate(zip(answer, BATCH, strict=True)):
        if seconds > DEADLINE and item is not None:
            raise Incorrect(
                f"urls[{index}] answers only after {seconds} s, past the deadline: its result "
                f"should be None, not {_shown(item)}"
            )
        if seconds < DEADLINE and item != {"slept": seconds}:
            raise Incorrect(
                f"urls[{index}] answers after {seconds} s, within the deadline, so its result "
                f"should be {{'slept': {seconds}}}; you returned {_shown(item)}"
            )
    seen = await _stats(api, client)
    if seen["requests"] != len(urls):
        raise Incorrect(
            f"the server got {seen['requests']} requests for {len(urls)} URLs: "
            "request each URL exactly once"
        )
    return (
        f"returned at the deadline with the {sum(s < DEADLINE for s in BATCH)} answers that "
        "arrived in time, and None for the 3 that were too slow"
    )


q2 = Exercise(
    "07.2",
    "fetch_within: a deadline for a batch",
    _check_fetch_within,
    answer="fetch_within",
    hints=[
        "All the requests start at once; the deadline is `seconds` after fetch_within was "
        "called, for all of them together.",
        "`deadline = asyncio.get_running_loop().time() + seconds`, then in each request's "
        "coroutine `async with asyncio.timeout_at(deadline):` around the request.",
        "Catch `TimeoutError` inside each request's coroutine and return None there, so that "
        "`asyncio.gather` still gets every answer that arrived in time; open the session with "
        "`async with`, so that it is closed.",
    ],
    solution="07-async-clients.ipynb",
)
