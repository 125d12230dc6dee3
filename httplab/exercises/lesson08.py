"""Exercises of lesson 08: walk the pages of an API by its Link headers; a rate-limit
middleware; a notes resource with CRUD, pagination and validation.

Each check serves what it needs with `httplab.serve_aiohttp` (a thread with its own event
loop) and reads what really happened: the URLs the server was asked for, the status codes and
headers it answered, the memory a limiter keeps. The learner's server-side errors are
captured (never printed into the cell) and named in the message.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import math
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import requests
from aiohttp import web

from .. import servers
from ..checks import Exercise, Incorrect, call, short, without_ports
from ..misbehaving import silent_port

TIMEOUT = 5


# --- shared helpers --------------------------------------------------------------------------


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


# Where aiohttp logs a handler's crash: the thread runner's request handler, aiohttp's
# default server logger, and the app's own logger (`request.app.logger`).
_SERVER_LOGGERS = ("httplab.aiohttp", "aiohttp.server", "aiohttp.web")


@contextlib.contextmanager
def _server_errors() -> Iterator[list[logging.LogRecord]]:
    """Collect what the served app logs at ERROR level, instead of printing it in the cell."""
    handler = _Records()
    saved = []
    for name in _SERVER_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, logger.propagate, list(logger.handlers)))
        logger.handlers = [handler]
        logger.setLevel(logging.ERROR)
        logger.propagate = False
    try:
        yield handler.records
    finally:
        for logger, level, propagate, handlers in saved:
            logger.handlers = handlers
            logger.setLevel(level)
            logger.propagate = propagate


def _crash(records: list[logging.LogRecord], since: int) -> str:
    """' (your code raised KeyError: 'x')' for the first crash logged after `since`."""
    for record in records[since:]:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            text = str(exc).strip().splitlines()
            shown = f"{type(exc).__name__}: {text[0][:80]}" if text else type(exc).__name__
            return f" (your code raised {shown})"
    return ""


@contextlib.contextmanager
def _serving(app: web.Application, name: str) -> Iterator[servers.Server]:
    try:
        server = servers.serve_aiohttp(app, name=name)
    except servers.ServerStartError as exc:
        raise Incorrect(f"your app did not start: {exc}") from None
    try:
        yield server
    finally:
        server.stop()


def _media_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip()


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


# --- exercise 1: follow the Link headers -----------------------------------------------------

WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india"]
MAX_PAGE_REQUESTS = 40


def _cursor_app(
    records: list[dict], page_size: int, asked: list[str], elsewhere: str | None = None
) -> web.Application:
    """Records in pages of `page_size`; the next page is behind an opaque cursor that only
    the Link header names. Every request's path and query is appended to `asked`. With
    `elsewhere`, the next links point there instead (a server that never answers)."""
    starts = range(page_size, len(records), page_size)
    cursors = {secrets.token_hex(6): start for start in starts}
    cursor_of = {start: cursor for cursor, start in cursors.items()}

    def refuse(detail: str) -> web.Response:
        return web.json_response({"error": "Bad Request", "detail": detail}, status=400)

    async def page(request: web.Request) -> web.Response:
        asked.append(request.path_qs)
        if len(asked) > MAX_PAGE_REQUESTS:
            return refuse("too many requests for so few pages")
        unknown = sorted(set(request.query) - {"cursor"})
        if unknown:
            return refuse(f"unknown query parameter {unknown[0]!r}: follow the Link header")
        cursor = request.query.get("cursor")
        if cursor is not None and cursor not in cursors:
            return refuse("unknown cursor: follow the Link header")
        start = 0 if cursor is None else cursors[cursor]
        end = start + page_size
        links = [f'<{request.url.with_query(None)}>; rel="first"']
        if end < len(records):
            following = request.url.with_query(cursor=cursor_of[end])
            if elsewhere is not None:
                following = following.with_host("127.0.0.1").with_port(int(elsewhere))
            links.append(f'<{following}>; rel="next"')
        return web.json_response({"data": records[start:end]}, headers={"Link": ", ".join(links)})

    app = web.Application()
    app.router.add_get("/records", page)
    return app


def _check_collect_all(collect_all: Callable[..., Any]) -> str:
    for total, page_size in ((23, 5), (10, 5), (0, 5)):
        records = [{"id": n, "word": WORDS[n % len(WORDS)]} for n in range(1, total + 1)]
        pages = max(1, math.ceil(total / page_size))
        asked: list[str] = []
        with _serving(_cursor_app(records, page_size, asked), "lesson08-check-pages") as server:
            try:
                result = call(collect_all, f"{server.url}/records", TIMEOUT)
            except Incorrect as wrong:  # (the message must not show the port)
                message = str(wrong).replace(without_ports(server.url), "")
                raise Incorrect(_pages_advice(asked, pages) or message) from None
        advice = _pages_advice(asked, pages)
        if advice:
            raise Incorrect(advice)
        if not isinstance(result, list):
            raise Incorrect(f"return a list of the records, not {type(result).__name__}")
        if result != records:
            got = [r.get("id") if isinstance(r, dict) else r for r in result]
            if len(result) < total:
                raise Incorrect(
                    f"with {total} records in {pages} pages you returned {len(result)}: "
                    'follow the rel="next" link until there is none'
                )
            raise Incorrect(
                f"return every record once, in the server's order: ids 1 to {total}, "
                f"not {short(got)}"
            )
        if len(asked) != pages:
            raise Incorrect(
                f"you made {len(asked)} requests for {pages} pages: one request per page is enough"
            )
    _check_silent_page(collect_all)
    return (
        'followed rel="next" through 5, 2 and 1 pages, one request per page, and gave up on a '
        "page that never came, after `timeout`"
    )


SILENT_TIMEOUT = 0.5  # the timeout the check passes when page 2 never answers
SILENT_LIFETIME = 3.0  # then the silent server closes: a client without a timeout gets a reset


def _check_silent_page(collect_all: Callable[..., Any]) -> None:
    """Page 2 is on a server that never answers: the learner's timeout must end the wait."""
    records = [{"id": n, "word": WORDS[n % len(WORDS)]} for n in range(1, 11)]
    asked: list[str] = []
    what = f"when page 2 never answers (collect_all(url, timeout={SILENT_TIMEOUT}))"
    with silent_port(SILENT_LIFETIME) as port:
        app = _cursor_app(records, 5, asked, elsewhere=str(port))
        with _serving(app, "lesson08-check-pages") as server:
            started = time.perf_counter()
            try:
                result = call(collect_all, f"{server.url}/records", SILENT_TIMEOUT)
            except Incorrect:
                result = None
                raised = True
            else:
                raised = False
            seconds = time.perf_counter() - started
    if seconds >= SILENT_LIFETIME - 0.2:
        raise Incorrect(
            f"{what} your function waited until the check gave up on it: pass "
            "`timeout=timeout` to every request, so that a server that never answers cannot "
            "hold it forever"
        )
    if not raised:
        raise Incorrect(
            f"{what} your function returned {short(result)}: let the timeout raise "
            "(`requests.Timeout`), so that the caller knows the records are incomplete"
        )


def _pages_advice(asked: list[str], pages: int) -> str:
    invented = [q for q in asked if "?" in q and not q.split("?", 1)[1].startswith("cursor=")]
    if invented:
        return (
            f"you asked for {invented[0]}, a URL the server never gave you: this API pages "
            'with opaque cursors, so follow the URL of the Link header with rel="next"'
        )
    if len(asked) > MAX_PAGE_REQUESTS:
        return (
            f"you made more than {MAX_PAGE_REQUESTS} requests for {pages} pages: follow only "
            'rel="next" (not rel="first"), and stop when the response has no rel="next" link'
        )
    return ""


q1 = Exercise(
    "08.1",
    "Follow the Link headers",
    _check_collect_all,
    answer="collect_all",
    hints=[
        "`requests` parses the Link header for you: `response.links` is a dict by rel, and "
        '`response.links["next"]["url"]` is the next page\'s URL.',
        'Loop: GET the URL, add `response.json()["data"]` to your list, then take the '
        '"next" URL; stop when `response.links` has no "next". Use `.get("next")`, not [].',
        "Never build a page URL yourself (no `?page=`): this API uses opaque cursors, and only "
        "the Link header knows them. One Session for all pages, `timeout=timeout` on each "
        "request, and no `try`/`except` around it: a timeout must reach the caller.",
    ],
    solution="08-aiohttp-server.ipynb",
)


# --- exercise 2: a rate-limit middleware -----------------------------------------------------


async def _pong(request: web.Request) -> web.Response:
    return web.json_response({"pong": True})


def _limited_app(middleware: Any) -> web.Application:
    app = web.Application(middlewares=[middleware])
    app.router.add_get("/ping", _pong)
    return app


def _middleware(make_rate_limiter: Callable[..., Any], capacity: int, per_second: float) -> Any:
    middleware = call(make_rate_limiter, capacity, per_second)
    if not callable(middleware):
        raise Incorrect(
            f"make_rate_limiter({capacity}, {per_second}) returned {short(middleware)}: return "
            "the middleware, an `async def` function decorated with @web.middleware"
        )
    if getattr(middleware, "__middleware_version__", None) != 1:
        raise Incorrect(
            "decorate your middleware with `@web.middleware`: without it aiohttp treats it as an "
            "old-style middleware factory"
        )
    return middleware


class _Limited:
    """A served app behind the learner's middleware, and a client that names itself."""

    def __init__(self, session: aiohttp.ClientSession, url: str, records: list) -> None:
        self.session, self.url, self.records = session, url, records

    async def get(self, client: str) -> tuple[int, dict[str, str], Any]:
        seen = len(self.records)
        try:
            async with self.session.get(self.url, headers={"X-Client-Id": client}) as response:
                text = await response.text()
                status, headers = response.status, dict(response.headers)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Incorrect(
                f"GET /ping from client {client!r} got no answer ({type(exc).__name__})"
            ) from None
        if status >= 500:
            raise Incorrect(
                f"GET /ping from client {client!r} answered {status}{_crash(self.records, seen)}"
            )
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        return status, headers, body


@contextlib.asynccontextmanager
async def _limited(make_rate_limiter: Callable[..., Any], capacity: int, per_second: float):
    middleware = _middleware(make_rate_limiter, capacity, per_second)
    # Serving first: the thread runner sets its logger up as it starts.
    with (
        _serving(_limited_app(middleware), "lesson08-check-limit") as s,
        _server_errors() as records,
    ):
        timeout = aiohttp.ClientTimeout(total=TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            yield _Limited(session, f"{s.url}/ping", records)


def _retry_after(headers: dict[str, str], capacity: int, per_second: float, expected: int) -> None:
    value = headers.get("Retry-After")
    if value is None:
        raise Incorrect(
            "a 429 must say when to come back: add a Retry-After header (whole seconds until "
            "the client's next token)"
        )
    if not (value.isascii() and value.isdigit()):
        raise Incorrect(
            f'Retry-After must be a whole number of seconds, such as "1"; not {value!r}'
        )
    if not expected <= int(value) <= expected + 1:
        raise Incorrect(
            f"with capacity={capacity}, per_second={per_second}, an empty bucket gets its next "
            f"token in {1 / per_second:g} s, so Retry-After should be {expected} (seconds, "
            f"rounded up); yours says {value}"
        )


async def _check_rate_limiter(make_rate_limiter: Callable[..., Any]) -> str:
    # A burst: capacity passes, the rest is refused with 429, Retry-After and a JSON body.
    async with _limited(make_rate_limiter, 3, 1.0) as server:
        answers = [await server.get("a") for _ in range(5)]
        statuses = [status for status, _, _ in answers]
        if statuses[0] == 429:
            raise Incorrect(
                "the first request of a new client got 429: a new client's bucket starts full "
                "(capacity tokens)"
            )
        if statuses[:3] != [200] * 3:
            raise Incorrect(
                f"with capacity=3 the first 3 requests of a new client must pass (200); "
                f"5 requests at once got {statuses}"
            )
        if any(body != {"pong": True} for _, _, body in answers[:3]):
            raise Incorrect(
                "an allowed request must reach the handler, and its response go back unchanged"
            )
        if statuses[3:] != [429, 429]:
            raise Incorrect(
                f"with capacity=3 and per_second=1, 5 requests at once got {statuses}: "
                "the 4th and 5th must get 429 Too Many Requests"
            )
        _, headers, body = answers[3]
        _retry_after(headers, 3, 1.0, 1)
        if not isinstance(body, dict) or not headers.get("Content-Type", "").startswith(
            "application/json"
        ):
            raise Incorrect("the 429 must have a JSON object as its body, like every error")
        status, _, _ = await server.get("b")
        if status != 200:
            raise Incorrect(
                f"client 'b' got {status} although it had sent nothing yet: keep one bucket "
                "per client, found by the X-Client-Id header"
            )

    # Retry-After is the time until the next token, not a constant.
    async with _limited(make_rate_limiter, 1, 0.25) as server:
        first, second = await server.get("slow"), await server.get("slow")
        if (first[0], second[0]) != (200, 429):
            raise Incorrect(
                f"with capacity=1, two requests at once must get 200 then 429, not "
                f"{first[0]} then {second[0]}"
            )
        _retry_after(second[1], 1, 0.25, 4)

    # Tokens come back with time: a client asking every 0.02 s earns one every 0.05 s.
    async with _limited(make_rate_limiter, 1, 20.0) as server:
        sent, passed = [], 0
        for _ in range(15):
            sent.append(time.perf_counter())
            passed += (await server.get("r"))[0] == 200
            await asyncio.sleep(0.02)
        due = _bucket_would_pass(sent, 1, 20.0)  # what a correct bucket lets through
        if passed < due - 2:
            raise Incorrect(
                "with capacity=1 and per_second=20 a token comes back every 0.05 s, yet a "
                "client asking every 0.02 s for 0.3 s got far fewer requests through than a "
                "token bucket lets through: on each request add "
                "`(now - updated) * per_second` tokens, with `now = time.monotonic()`, a float "
                "in seconds (whole seconds give nothing back for a second)"
            )

    # ... but never more than the capacity, even for a client that never goes quiet.
    async with _limited(make_rate_limiter, 5, 20.0) as server:
        for _ in range(5):
            await server.get("c")  # empty the bucket
        for _ in range(4):  # each pause earns 3 tokens, each request spends 1
            await asyncio.sleep(0.15)
            await server.get("c")
        started = time.perf_counter()
        burst = [(await server.get("c"))[0] for _ in range(14)]
        most = 5 + math.floor(20 * (time.perf_counter() - started)) + 1
        if burst.count(200) > most:
            raise Incorrect(
                "with capacity=5, a client that paused between requests (earning more tokens "
                "than it spent), then sent a burst of 14, got more of the burst through than "
                "the 5 tokens a full bucket holds: cap the tokens at the capacity, "
                "`tokens = min(capacity, tokens + ...)`"
            )

    # Memory: 300 clients send one request each; their buckets are full again 2 ms later.
    async with _limited(make_rate_limiter, 2, 1000.0) as server:
        per_client = await _kept_per_client(server)
    if per_client > 1:
        raise Incorrect(
            "after 300 clients sent one request each and went quiet (their buckets full "
            "again), your limiter still holds memory for each of them: forget a client once "
            "its bucket is full again (hint 3)"
        )
    return "bursts, per-client buckets, refill, capacity, Retry-After and bounded memory"


def _bucket_would_pass(times: list[float], capacity: float, per_second: float) -> int:
    """How many requests sent at `times` a correct token bucket lets through."""
    tokens, updated, passed = capacity, times[0], 0
    for now in times:
        tokens = min(capacity, tokens + (now - updated) * per_second)
        updated = now
        if tokens >= 1:
            tokens -= 1
            passed += 1
    return passed


async def _kept_per_client(server: _Limited, clients: int = 300) -> float:
    """Memory blocks the process still holds per client after `clients` came and went."""
    for n in range(50):  # warm up: first-time allocations are not the limiter's
        await server.get(f"warm-{n}")
    await asyncio.sleep(0.01)
    await server.get("warm")
    gc.collect()
    before = sys.getallocatedblocks()
    for n in range(clients):
        await server.get(f"client-{n:05d}")
    await asyncio.sleep(0.02)  # with per_second=1000, every bucket is full again
    await server.get("late")
    gc.collect()
    return (sys.getallocatedblocks() - before) / clients


q2 = Exercise(
    "08.2",
    "A rate-limit middleware",
    _check_rate_limiter,
    answer="make_rate_limiter",
    hints=[
        "Return a middleware: `@web.middleware async def middleware(request, handler)`. It keeps "
        'its buckets in the closure; the client is `request.headers.get("X-Client-Id")` '
        "(or `request.remote`).",
        "A bucket is (tokens, updated). On each request: tokens = min(capacity, tokens + "
        "(now - updated) * per_second) with now = time.monotonic(); if tokens >= 1 take one and "
        "call the handler, else answer 429 with Retry-After = ceil((1 - tokens) / per_second).",
        "A bucket left alone for capacity / per_second seconds is full again, the same as a new "
        "one: keep buckets in an OrderedDict in order of last use (pop and re-insert), and "
        "before each request drop the oldest while they have been quiet that long.",
    ],
    solution="08-aiohttp-server.ipynb",
)


# --- exercise 3: a notes resource ------------------------------------------------------------

NOTES = 12
MISSING = object()


class _Contract:
    """Sends requests to the learner's notes app and holds it to the contract."""

    def __init__(self, url: str, records: list[logging.LogRecord]) -> None:
        self.url, self.records = url, records
        self.http = requests.Session()

    def send(
        self, method: str, path: str, what: str, *, body: Any = MISSING, raw: bytes | None = None
    ) -> requests.Response:
        seen = len(self.records)
        headers = {"Content-Type": "application/json"} if raw is not None else None
        kwargs: dict[str, Any] = {"data": raw, "headers": headers, "timeout": TIMEOUT}
        if body is not MISSING:
            kwargs["json"] = body
        try:
            response = self.http.request(method, self.url + path, **kwargs)
        except requests.Timeout:
            raise Incorrect(f"{what}: no answer within {TIMEOUT} s") from None
        except requests.ConnectionError:
            raise Incorrect(f"{what}: the connection failed (did the server stop?)") from None
        if response.status_code >= 500:
            crash = _crash(self.records, seen)
            advice = (
                "put `json_errors` in the app's middlewares: it answers an ApiError as JSON"
                if "raised ApiError" in crash
                else "a server error means a bug; a client's mistake is a 4xx"
            )
            raise Incorrect(f"{what} answered {response.status_code}{crash}: {advice}")
        return response

    def ok(self, response: requests.Response, status: int, what: str, advice: str = "") -> Any:
        """The JSON body of a success that must have `status`."""
        if response.status_code != status:
            extra = f": {advice}" if advice else ""
            raise Incorrect(f"{what} answered {response.status_code}; expected {status}{extra}")
        if status == 204:
            if response.content:
                raise Incorrect(f"{what} answered 204 with a body: 204 No Content has none")
            return None
        body = _json(response)
        if _media_type(response) != "application/json" or body is None:
            raise Incorrect(f"{what} must answer JSON (Content-Type: application/json)")
        return body

    def error(self, response: requests.Response, statuses: tuple[int, ...], what: str) -> None:
        """A client error: one of `statuses`, with a JSON object body that has "error"."""
        expected = " or ".join(map(str, statuses))
        if response.status_code not in statuses:
            if response.status_code < 400:
                advice = (
                    "cap request bodies with web.Application(client_max_size=16 * 1024)"
                    if statuses == (413,)
                    else "validate the input before you act on it"
                )
                raise Incorrect(
                    f"{what} answered {response.status_code}; expected {expected}: {advice}"
                )
            raise Incorrect(f"{what} answered {response.status_code}; expected {expected}")
        body = _json(response)
        if _media_type(response) != "application/json" or not isinstance(body, dict):
            shown = _media_type(response) or "no Content-Type"
            raise Incorrect(
                f"{what} answered {response.status_code} with {shown}: every error must be a "
                'JSON object with an "error" key (an error middleware, as in the lesson, also '
                "covers aiohttp's own 404, 405 and 413)"
            )
        if "error" not in body:
            raise Incorrect(f'{what}: the JSON error {short(body)} has no "error" key')


def _page_ids(contract: _Contract, query: str, expected: list[int], total: int) -> None:
    what = f"GET /notes{query}"
    body = contract.ok(contract.send("GET", f"/notes{query}", what), 200, what)
    if not isinstance(body, dict) or not {"data", "page", "per_page", "total"} <= set(body):
        raise Incorrect(
            f'{what} must answer a JSON object with "data", "page", "per_page", "total"'
        )
    data = body["data"]
    ids = [note.get("id") if isinstance(note, dict) else note for note in data]
    if ids != expected:
        raise Incorrect(
            f"{what} returned ids {short(ids)}; expected {short(expected)}, in id order"
        )
    if body["total"] != total:
        raise Incorrect(f"{what}: total is {body['total']!r}, but there are {total} notes")


def _check_notes_app(make_notes_app: Callable[[], Any]) -> str:
    app = call(make_notes_app)
    if not isinstance(app, web.Application):
        raise Incorrect(f"make_notes_app() must return a web.Application, not {short(app)}")
    with _serving(app, "lesson08-check-notes") as server, _server_errors() as records:
        contract = _Contract(server.url, records)
        with contract.http:
            return _notes_contract(contract)


def _notes_contract(c: _Contract) -> str:
    body = c.ok(c.send("GET", "/notes", "GET /notes"), 200, "GET /notes")
    if not isinstance(body, dict) or not {"data", "page", "per_page", "total"} <= set(body):
        raise Incorrect(
            'GET /notes must answer a JSON object with "data", "page", "per_page", "total"'
        )
    if body["total"] != 0 or body["data"] != []:
        raise Incorrect(
            f"a new app must have no notes, but GET /notes says total={body['total']!r}: keep "
            "the notes inside make_notes_app (a fresh dict for each app), not in a global"
        )
    if (body["page"], body["per_page"]) != (1, 10):
        raise Incorrect(
            f"GET /notes without parameters must be page 1 with per_page 10, not "
            f"page={body['page']!r}, per_page={body['per_page']!r}"
        )

    # Create.
    notes = []
    for n in range(1, NOTES + 1):
        sent = {"title": f"note {n}"} if n == 7 else {"title": f"note {n}", "body": f"text {n}"}
        what = f"POST /notes {short(sent, 50)}"
        response = c.send("POST", "/notes", what, body=sent)
        note = c.ok(response, 201, what, "creating a note answers 201 Created")
        wanted = {"title": sent["title"], "body": sent.get("body", "")}
        if not isinstance(note, dict) or {k: note.get(k) for k in wanted} != wanted:
            if n == 7:
                raise Incorrect(
                    f'a note sent without "body" must get the body "", not {short(note)}'
                )
            raise Incorrect(
                f'{what} must answer the new note {{"id", "title", "body"}}, not {short(note)}'
            )
        if type(note.get("id")) is not int or any(note["id"] == old["id"] for old in notes):
            raise Incorrect(f"each note needs its own integer id; got {short(note.get('id'))}")
        location = response.headers.get("Location")
        if location is None:
            raise Incorrect(
                f"{what} answered 201 without a Location header: send Location: /notes/<id>"
            )
        if location.split("://", 1)[-1].split("/", 1)[-1] != f"notes/{note['id']}":
            raise Incorrect(f"Location is {location!r}; expected /notes/{note['id']}")
        notes.append(note)
    ids = [note["id"] for note in notes]

    # Read one, and pages.
    first = c.ok(c.send("GET", f"/notes/{ids[0]}", "GET /notes/<id>"), 200, "GET /notes/<id>")
    if first != notes[0]:
        raise Incorrect(f"GET /notes/<id> must answer the note as created; got {short(first)}")
    _page_ids(c, "", ids[:10], NOTES)
    _page_ids(c, "?page=2&per_page=5", ids[5:10], NOTES)
    _page_ids(c, "?page=3&per_page=5", ids[10:], NOTES)
    _page_ids(c, "?page=4&per_page=5", [], NOTES)
    _page_ids(c, "?per_page=50", ids, NOTES)

    # Update and delete.
    changed = {"title": "changed", "body": "new text"}
    what = "PUT /notes/<id> with a new title and body"
    note = c.ok(c.send("PUT", f"/notes/{ids[0]}", what, body=changed), 200, what)
    if note != {"id": ids[0], **changed}:
        raise Incorrect(f"{what} must answer the updated note; got {short(note)}")
    again = c.ok(c.send("GET", f"/notes/{ids[0]}", "GET after PUT"), 200, "GET after PUT")
    if again != note:
        raise Incorrect(f"after a PUT, GET /notes/<id> still answers {short(again)}")
    what = "DELETE /notes/<id>"
    c.ok(c.send("DELETE", f"/notes/{ids[1]}", what), 204, what, "a deletion answers 204 No Content")
    c.error(
        c.send("GET", f"/notes/{ids[1]}", "GET of a deleted note"), (404,), "GET of a deleted note"
    )
    what = "DELETE of a note already deleted"
    c.error(c.send("DELETE", f"/notes/{ids[1]}", what), (404,), what)

    # Bad input: the right 4xx, as JSON, and nothing created or changed.
    unknown = max(ids) + 1000
    bad = [
        ("POST", "/notes", "POST /notes with malformed JSON", MISSING, b'{"title": "x",', (400,)),
        ("POST", "/notes", "POST /notes with a JSON array", MISSING, b'["title"]', (400, 422)),
        ("POST", "/notes", "POST /notes without a title", {"body": "b"}, None, (400, 422)),
        (
            "POST",
            "/notes",
            "POST /notes with a title that is a number",
            {"title": 123},
            None,
            (400, 422),
        ),
        ("POST", "/notes", "POST /notes with a blank title", {"title": "   "}, None, (400, 422)),
        (
            "POST",
            "/notes",
            "POST /notes with a body that is a number",
            {"title": "t", "body": 5},
            None,
            (400, 422),
        ),
        (
            "POST",
            "/notes",
            "POST /notes with a 20 KB body",
            {"title": "t", "body": "x" * 20_000},
            None,
            (413,),
        ),
        (
            "PUT",
            f"/notes/{ids[0]}",
            "PUT /notes/<id> with malformed JSON",
            MISSING,
            b"{oops",
            (400,),
        ),
        (
            "PUT",
            f"/notes/{ids[0]}",
            "PUT /notes/<id> without a title",
            {"body": "b"},
            None,
            (400, 422),
        ),
        ("PUT", f"/notes/{unknown}", "PUT of an unknown id", {"title": "t"}, None, (404,)),
        ("GET", "/notes?page=abc", "GET /notes?page=abc", MISSING, None, (400,)),
        ("GET", "/notes?page=0", "GET /notes?page=0", MISSING, None, (400,)),
        ("GET", "/notes?page=-1", "GET /notes?page=-1", MISSING, None, (400,)),
        ("GET", "/notes?page=1.5", "GET /notes?page=1.5", MISSING, None, (400,)),
        ("GET", "/notes?per_page=0", "GET /notes?per_page=0", MISSING, None, (400,)),
        ("GET", "/notes?per_page=51", "GET /notes?per_page=51", MISSING, None, (400,)),
        ("GET", "/notes?per_page=ten", "GET /notes?per_page=ten", MISSING, None, (400,)),
        ("GET", "/notes?page=²", "GET /notes?page=² (a superscript two)", MISSING, None, (400,)),
        ("GET", "/notes?per_page=¹", "GET /notes?per_page=¹", MISSING, None, (400,)),
        ("GET", "/notes?page=1e3", "GET /notes?page=1e3", MISSING, None, (400,)),
        ("GET", f"/notes/{unknown}", "GET of an unknown id", MISSING, None, (404,)),
        ("GET", "/notes/abc", "GET /notes/abc", MISSING, None, (404,)),
        ("DELETE", f"/notes/{unknown}", "DELETE of an unknown id", MISSING, None, (404,)),
        ("GET", "/nothing", "GET /nothing (no such route)", MISSING, None, (404,)),
        ("DELETE", "/notes", "DELETE /notes (no such method)", MISSING, None, (405,)),
    ]
    for method, path, what, sent, raw, statuses in bad:
        c.error(c.send(method, path, what, body=sent, raw=raw), statuses, what)

    # Still serving, and the bad requests changed nothing.
    _page_ids(c, "?per_page=50", [ids[0], *ids[2:]], NOTES - 1)
    kept = c.ok(
        c.send("GET", f"/notes/{ids[0]}", "GET after bad input"), 200, "GET after bad input"
    )
    if kept != note:
        raise Incorrect(f"a rejected PUT must not change the note; it is now {short(kept)}")
    return f"CRUD, pagination and {len(bad)} kinds of bad input as the contract says; still serving"


q3 = Exercise(
    "08.3",
    "A notes resource",
    _check_notes_app,
    answer="make_notes_app",
    hints=[
        "Build the app inside make_notes_app: a dict of notes and an id counter there too (so "
        "each app starts empty), handlers as inner `async def`s, and "
        "`web.Application(middlewares=[json_errors], client_max_size=16 * 1024)`.",
        "Put `json_errors` (given) in the app's middlewares: it answers JSON for your "
        "`ApiError(status, detail)` and for aiohttp's own 404, 405 and 413. Routes: `/notes` "
        "and `/notes/{id:[0-9]+}`, so that `/notes/abc` is the router's 404.",
        "Read bodies with `read_json_object` (a 400 for bad JSON or a non-object), then check "
        "the fields yourself (`ApiError(422, ...)`). Pages: `query_int(request, 'per_page', 10, "
        "minimum=1, maximum=50)`; beware `raw.isdigit()` alone, which is true for '²', "
        "where `int()` raises. 201 + Location on POST, 204 on DELETE.",
    ],
    solution="08-aiohttp-server.ipynb",
)
