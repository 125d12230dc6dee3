"""Exercises of lesson 12: choose Cache-Control for five resources; update a note without
losing anybody's change (If-Match, 412, re-read, retry); an aiohttp middleware that adds
ETags and answers If-None-Match.

The checks read what the lab saw (the request log of a fresh client id) and play the other
writer themselves, in the middle of the learner's read-modify-write.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from aiohttp import web

from .. import lab as _lab
from .. import servers
from ..checks import Exercise, Incorrect, NotAttempted, call, describe
from ..lab import new_client_id
from ..misbehaving import PATIENCE, socket_timeouts

TIMEOUT = 5
SOLUTION = "12-caching.ipynb"

# --- 12.1 cache_control_for(resource) --------------------------------------------------------

RESOURCES = {
    "/static/app.3f9a2c.js": (
        "a build artifact: its file name changes with every release, so its content never does"
    ),
    "/api/me/statement": "a user's bank statement: no cache anywhere may keep a copy",
    "/api/me/profile": (
        "the logged-in user's profile: their browser may reuse it for up to 60 s; "
        "a shared cache (CDN, proxy) must not keep it"
    ),
    "/news/front-page": (
        "public; any cache may reuse it for 60 s, and once stale it must never be served "
        "without asking the origin, not even when the origin is down"
    ),
    "/api/prices": (
        "public, and it may change at any moment: caches may keep it, but must check with the "
        "origin (ETag → 304) before every use"
    ),
}
YEAR = 31_536_000
KNOWN_DIRECTIVES = {
    "max-age",
    "s-maxage",
    "no-cache",
    "no-store",
    "private",
    "public",
    "must-revalidate",
    "proxy-revalidate",
    "immutable",
    "stale-while-revalidate",
    "stale-if-error",
    "no-transform",
    "must-understand",
}


def parse_cache_control(value: str) -> dict[str, str | None]:
    """`"public, max-age=60"` → {"public": None, "max-age": "60"} (names lowercased)."""
    directives: dict[str, str | None] = {}
    for part in value.split(","):
        name, _, argument = part.strip().partition("=")
        if name:
            directives[name.strip().lower()] = argument.strip().strip('"') or None
    return directives


def _seconds(directives: dict[str, str | None], name: str) -> int | None:
    raw = directives.get(name)
    return int(raw) if raw is not None and raw.isdigit() else None


def _judge_syntax(resource: str, value: str) -> None:
    """Raise Incorrect, naming the fix, if `value` is not a list of Cache-Control directives."""
    if value.strip().lower().startswith("cache-control"):
        raise Incorrect(
            f"{resource}: {value!r} holds the header's name: return only its value, e.g. "
            "`private, max-age=60`"
        )
    if ";" in value:
        raise Incorrect(
            f"{resource}: {value!r}: separate directives with commas, not semicolons, e.g. "
            "`private, max-age=60`"
        )
    for part in value.split(","):
        if re.search(r"\s=|=\s", part):
            raise Incorrect(
                f"{resource}: {part.strip()!r}: no spaces around `=` in a directive (RFC 9111 "
                "§5.2), e.g. `max-age=60`"
            )
        if ":" in part:
            raise Incorrect(
                f"{resource}: {part.strip()!r}: a directive's argument follows `=`, e.g. "
                "`max-age=60`"
            )
    unknown = sorted(set(parse_cache_control(value)) - KNOWN_DIRECTIVES)
    if unknown:
        raise Incorrect(
            f"{resource}: {unknown[0]!r} is not a Cache-Control directive; directives are "
            "words with hyphens, e.g. `max-age=60`, `no-store`, `must-revalidate`"
        )


def _judge(resource: str, value: str) -> None:
    """Raise Incorrect, with the reason, if `value` is not a right Cache-Control for it."""
    _judge_syntax(resource, value)
    cc = parse_cache_control(value)
    max_age = _seconds(cc, "max-age")
    where = f"{resource} ({RESOURCES[resource]})"
    if resource == "/static/app.3f9a2c.js":
        if "no-cache" in cc or "no-store" in cc or "private" in cc:
            raise Incorrect(
                f"{where}: every cache, CDNs included, should keep it; drop `no-cache`, "
                "`no-store` and `private`"
            )
        if max_age is None or max_age < YEAR:
            raise Incorrect(
                f"{where}: a fingerprinted file can be fresh for a year: `max-age={YEAR}`"
            )
        if "immutable" not in cc:
            raise Incorrect(
                f"{where}: add `immutable`, so that a reload does not revalidate it (RFC 8246)"
            )
    elif resource == "/api/me/statement":
        if "no-store" not in cc:
            reason = (
                "`no-cache` still lets caches store it (they only revalidate before use)"
                if "no-cache" in cc
                else "`private` still lets the browser store it"
                if "private" in cc
                else "nothing here forbids storing it"
            )
            raise Incorrect(f"{where}: {reason}; `no-store` forbids keeping any copy")
    elif resource == "/api/me/profile":
        if "no-store" in cc:
            raise Incorrect(
                f"{where}: `no-store` forbids even the browser to keep it; drop it, "
                "`private, max-age=60` keeps it in the browser only"
            )
        if "no-cache" in cc:
            raise Incorrect(
                f"{where}: `no-cache` makes the browser ask the origin before every use, but it "
                "may reuse it for 60 s without asking: `max-age=60` instead"
            )
        if "private" not in cc:
            raise Incorrect(
                f"{where}: without `private` a shared cache may store one user's profile and "
                "serve it to others; add `private`"
            )
        if "public" in cc or (_seconds(cc, "s-maxage") or 0) > 0:
            raise Incorrect(f"{where}: `public` and `s-maxage` invite shared caches; drop them")
        if max_age is None or not 1 <= max_age <= 60:
            raise Incorrect(f"{where}: let the browser reuse it for 60 s: `max-age=60`")
    elif resource == "/news/front-page":
        if "private" in cc or "no-store" in cc or "no-cache" in cc:
            raise Incorrect(
                f"{where}: any cache may reuse it for 60 s without asking: `max-age=60`, "
                "without `private`, `no-store` or `no-cache`"
            )
        if max_age != 60:
            raise Incorrect(f"{where}: fresh for 60 s is `max-age=60`")
        if "must-revalidate" not in cc:
            raise Incorrect(
                f"{where}: a cache may serve a stale copy when the origin is down unless the "
                "response says `must-revalidate` (RFC 9111 §5.2.2.2); add it"
            )
        stale_ok = sorted({"stale-while-revalidate", "stale-if-error"} & set(cc))
        if stale_ok:
            raise Incorrect(
                f"{where}: `{stale_ok[0]}` lets a cache serve the stale copy without asking "
                "first (RFC 5861), the opposite of `must-revalidate`; drop it"
            )
    elif resource == "/api/prices":
        if "no-store" in cc:
            raise Incorrect(
                f"{where}: `no-store` throws the body away, so no 304 can reuse it; `no-cache` "
                "keeps it and revalidates before every use"
            )
        revalidates_always = "no-cache" in cc or (max_age == 0 and "must-revalidate" in cc)
        if not revalidates_always:
            raise Incorrect(
                f"{where}: a cache may reuse it without asking; `no-cache` (or `max-age=0, "
                "must-revalidate`) makes it revalidate before every use"
            )
        if "private" in cc:
            raise Incorrect(f"{where}: it is public, so shared caches may keep it; drop `private`")


def _check_cache_control_for(cache_control_for: Callable[[str], Any]) -> str:
    for resource in RESOURCES:
        value = call(cache_control_for, resource)
        if not isinstance(value, str) or not value.strip():
            raise Incorrect(
                f"cache_control_for({resource!r}) returned {value!r}: return the header value "
                "as a string, e.g. `'max-age=60'`"
            )
        _judge(resource, value)
    return "five resources, five right policies (each one is tried out in the lesson)"


q1 = Exercise(
    "12.1",
    "Choose Cache-Control for five resources",
    _check_cache_control_for,
    answer="cache_control_for",
    hints=[
        "Read each description for three questions: may anybody store it? may a shared "
        "cache? for how long may it be reused without asking the origin?",
        "Storing forbidden: no-store. Browser only: private. Always ask first: no-cache. "
        "Never serve stale: must-revalidate. Never changes: immutable with a long max-age.",
        "A year is max-age=31536000; a minute is max-age=60.",
    ],
    solution=SOLUTION,
)


# --- 12.2 update_note(url, change, max_attempts) ---------------------------------------------

WRITES = ("PUT", "PATCH")


class _Rival:
    """Another writer: while the learner's `change` runs, it changes the note first."""

    def __init__(self, client: str, url: str, times: int) -> None:
        self.client, self.url, self.times = client, url, times
        self.calls = 0
        self.positions: set[int] = set()  # indexes of its requests in the server's log

    def change(self, data: Any) -> Any:
        """The learner's change: add the tag "mine" (after the rival wrote, if its turn)."""
        self.calls += 1
        if self.calls <= self.times:
            start = len(_lab.start().stats(self.client)["log"])
            current = requests.get(self.url, timeout=TIMEOUT)
            tags = current.json()["data"]["tags"] + [f"rival-{self.calls}"]
            headers = {"If-Match": current.headers["ETag"]}
            requests.put(self.url, json={"tags": tags}, headers=headers, timeout=TIMEOUT)
            self.positions.update({start, start + 1})
        if not isinstance(data, dict) or not isinstance(data.get("tags"), list):
            raise Incorrect(
                f"`change()` was called with {data!r}: pass it the note's data, the "
                '`"data"` field of the JSON you read, e.g. `{"tags": [...]}`'
            )
        return {**data, "tags": [*data["tags"], "mine"]}


def _learner_log(lab: _lab.Lab, rival: _Rival) -> list[tuple[str, int, bool]]:
    """(method, status, a rival wrote just before) for each of the learner's requests."""
    entries, rival_before = [], False
    for index, entry in enumerate(lab.stats(rival.client)["log"]):
        if index in rival.positions:
            rival_before = rival_before or entry["method"] == "PUT"
            continue
        entries.append((entry["method"], entry["status"], rival_before))
        rival_before = False
    return entries[1:]  # the check's own PUT that created the note


def _judge_log(log: list[tuple[str, int, bool]], max_attempts: int) -> None:
    other = [method for method, _, _ in log if method not in ("GET", "HEAD", *WRITES)]
    if other:
        raise Incorrect(f"you sent a {other[0]}: update the note with `PUT` (or `PATCH`)")
    writes = [(m, s, rival) for m, s, rival in log if m in WRITES]
    refused = [(m, s) for m, s, _ in writes if s not in (200, 412, 428)]
    if refused:
        method, status = refused[0]
        raise Incorrect(
            f"your {method} got {status}: send the new data as a JSON object, "
            f"`requests.{method.lower()}(url, json=new_data, headers=..., timeout=5)`"
        )
    if any(status == 428 for _, status, _ in writes):
        raise Incorrect(
            "the lab answered 428 Precondition Required: send `If-Match` with the ETag your GET "
            "returned on every PUT or PATCH"
        )
    if any(status == 200 and rival for _, status, rival in writes):
        raise Incorrect(
            "your write succeeded although another writer changed the note after your GET: "
            "`If-Match` must carry the exact ETag of your GET (`If-Match: *` matches any version)"
        )
    if len(writes) > max_attempts:
        raise Incorrect(
            f"you sent {len(writes)} writes with max_attempts={max_attempts}: stop after "
            "`max_attempts` writes"
        )
    for before, after in zip(log, log[1:], strict=False):
        if before[0] in WRITES and before[1] == 412 and after[0] != "GET":
            raise Incorrect(
                "after a 412 you wrote again without reading: the old ETag will never match "
                "again; GET the note, call `change()` on its new data, then retry with the new "
                "ETag"
            )
    if log and log[0][0] != "GET":
        raise Incorrect("start with a GET of the note: its ETag is what `If-Match` sends back")
    if any(status == 412 and not rival for _, status, rival in writes):
        raise Incorrect(
            "a write got 412 although nobody else wrote after your latest GET: send "
            "`If-Match` with the `ETag` header of that GET exactly as it came (quotes "
            "included, no `W/`)"
        )


def _outcome(update_note: Callable[..., Any], *args: Any) -> tuple[Any, Exception | None]:
    """What the learner's function returned, or the exception it raised."""
    try:
        result = update_note(*args)
    except NotImplementedError:
        raise NotAttempted from None
    except (Incorrect, NotAttempted):
        raise
    except Exception as exc:  # judged by the check, with what the lab saw
        return None, exc
    if inspect.iscoroutine(result):
        result.close()
        raise Incorrect("update_note returned a coroutine: write it with `def`, not `async def`")
    return result, None


def _note(url: str) -> dict[str, Any]:
    response = requests.get(url, timeout=TIMEOUT)
    response.raise_for_status()
    return response.json()["data"]


def _round(
    update_note: Callable[..., Any], rivals: int, max_attempts: int
) -> tuple[Any, Exception | None, list[tuple[str, int, bool]], dict[str, Any], _Rival]:
    lab = _lab.start()
    client = new_client_id("notes")
    url = f"{lab.api}/api/cache/guarded/list?client={client}"
    created = requests.put(
        url, json={"tags": ["start"]}, headers={"If-None-Match": "*"}, timeout=TIMEOUT
    )
    created.raise_for_status()
    rival = _Rival(client, url, rivals)
    if not callable(update_note):
        raise Incorrect(f"pass your function itself, not {update_note!r}")
    result, error = _outcome(update_note, url, rival.change, max_attempts)
    log = _learner_log(lab, rival)
    return result, error, log, _note(url), rival


def _check_update_note(update_note: Callable[..., Any]) -> str:
    # 1. Two rivals, four attempts allowed: the third write succeeds.
    result, error, log, final, rival = _round(update_note, rivals=2, max_attempts=4)
    _judge_log(log, 4)
    if error is not None and not isinstance(error, requests.HTTPError):
        raise Incorrect(f"update_note raised {describe(error)}")
    writes = [status for method, status, _ in log if method in WRITES]
    rivals = [f"rival-{n}" for n in range(1, min(rival.calls, rival.times) + 1)]
    wanted = ["start", *rivals, "mine"]
    if "mine" in final.get("tags", []) and final["tags"] != wanted:
        raise Incorrect(
            f"the note ends as {final!r}, so another writer's change was lost: call `change()` "
            "on the data of your latest GET, not on the data you read first"
        )
    if error is not None or writes != [412, 412, 200]:
        raise Incorrect(
            "with two other writers in the way and max_attempts=4, the third write should "
            f"succeed; your writes got {writes or 'no answer'}: on 412, GET the note again, "
            "call `change()` on its new data, and retry"
        )
    if result != final:
        raise Incorrect(f'return the note\'s data as stored (the `"data"` field), {final!r}')
    # 2. A rival every time, two attempts: give up with the 412.
    result, error, log, final, rival = _round(update_note, rivals=99, max_attempts=2)
    _judge_log(log, 2)
    writes = [status for method, status, _ in log if method in WRITES]
    if error is None:
        raise Incorrect(
            f"after max_attempts=2 writes answered 412 your function returned {result!r}: "
            "raise instead (`response.raise_for_status()` raises `requests.HTTPError`)"
        )
    if not isinstance(error, requests.HTTPError):
        raise Incorrect(
            f"after max_attempts=2 writes answered 412 your function raised "
            f"{describe(error)}: raise `requests.HTTPError` instead "
            "(`response.raise_for_status()` on the last 412 does it)"
        )
    if writes != [412, 412]:
        raise Incorrect(f"with max_attempts=2, make exactly 2 writes; you made {len(writes)}")
    for silent in ("GET", "PUT"):
        _require_timeout(update_note, silent)
    return (
        "three writes when two other writers got in first, no change lost, a 412 raised "
        "after `max_attempts` when the note kept changing, and a timeout on every request"
    )


HANG = 5.0  # seconds a request to the silent note waits before the check lets it go


def _silent_note(silent: str, arrived: list[Any], released: threading.Event) -> web.Application:
    """A note whose GET (silent="GET") or writes (silent="PUT") do not answer until `released`;
    `arrived` gets the address of each client that waits there."""

    async def note(request: web.Request) -> web.Response:
        kind = "PUT" if request.method in WRITES else request.method
        if kind == silent:
            arrived.append(request.transport.get_extra_info("peername"))
            for _ in range(round(HANG / 0.02)):  # released by the check, else let go
                if released.is_set():
                    break
                await asyncio.sleep(0.02)
            return web.json_response({"error": "the check stopped waiting"}, status=503)
        body = {"key": "list", "version": 1, "data": {"tags": ["start"]}}
        return web.json_response(body, headers={"ETag": '"v1"'})

    app = web.Application()
    app.router.add_route("*", "/note", note)
    return app


def _require_timeout(update_note: Callable[..., Any], silent: str) -> None:
    """Incorrect unless the learner's socket waits with a timeout while the note's GET (or
    its write) does not answer. The timeout is read from the socket, so nothing waits long."""
    arrived: list[Any] = []
    released = threading.Event()
    server = servers.serve_aiohttp(_silent_note(silent, arrived, released), name="check-12.2")

    def run() -> None:
        try:
            update_note(f"{server.url}/note", lambda data: {**data, "tags": ["mine"]}, 2)
        except BaseException:  # judged by the other rounds; here only the timeout counts
            pass

    worker = threading.Thread(target=run, name="httplab-check-12.2", daemon=True)
    seen: list[float | None] = []
    try:
        worker.start()
        deadline = time.monotonic() + HANG
        while not arrived and worker.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        looks = 0
        while arrived and looks < 8 and None not in seen and worker.is_alive():
            time.sleep(0.1)  # the client may set its read timeout just after sending
            found = socket_timeouts(local=arrived[0])
            seen += found
            looks += 4 if found else 1
    finally:
        released.set()
        worker.join(HANG)
        server.stop()
    what = "GET" if silent == "GET" else "PUT (or PATCH)"
    if None in seen:
        raise Incorrect(
            f"when the note's {what} never answers, your function waits forever: give every "
            "request a timeout, `requests.get(url, timeout=5)`, `requests.put(..., timeout=5)`"
        )
    if max((t for t in seen if t is not None), default=0.0) > PATIENCE:
        raise Incorrect(
            f"when the note's {what} never answers, your function waits more than "
            f"{PATIENCE:g} s: give up after a few seconds, e.g. `timeout=5`"
        )


q2 = Exercise(
    "12.2",
    "update_note: If-Match, 412, re-read, retry",
    _check_update_note,
    answer="update_note",
    hints=[
        "One attempt: GET the note (keep response.headers['ETag'] and response.json()['data']), "
        "new = change(data), PUT new with headers={'If-Match': etag}.",
        "A 412 means somebody wrote after your GET: loop back to the GET (new ETag, new "
        "data) and call change() again; never resend the old ETag.",
        "Loop `for attempt in range(max_attempts)`; return on success; after the loop, "
        "raise the last 412 with response.raise_for_status().",
    ],
    solution=SOLUTION,
)


# --- 12.3 etag_middleware -------------------------------------------------------------------


def _etag_app(middleware: Any, errors: list[BaseException]) -> web.Application:
    """A small app whose responses the learner's middleware must tag and answer."""
    state = {"text": "first version"}

    @web.middleware
    async def catch(request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception as exc:  # the learner's mistake, reported by the check
            errors.append(exc)
            return web.Response(status=500, text="the middleware raised")

    async def doc(request: web.Request) -> web.Response:
        return web.json_response(state)

    async def change(request: web.Request) -> web.Response:
        state["text"] = (await request.json())["text"]
        return web.json_response(state)

    async def tagged(request: web.Request) -> web.Response:
        headers = {"ETag": 'W/"v7"', "Cache-Control": "max-age=60"}
        return web.json_response({"version": 7}, headers=headers)

    async def secret(request: web.Request) -> web.Response:
        return web.json_response({"pin": "1234"}, headers={"Cache-Control": SECRET_POLICY})

    async def missing(request: web.Request) -> web.Response:
        return web.json_response({"error": "not here"}, status=404)

    app = web.Application(middlewares=[catch, middleware])
    app.router.add_get("/doc", doc)
    app.router.add_post("/doc", change)
    app.router.add_get("/tagged", tagged)
    app.router.add_get("/secret", secret)
    app.router.add_get("/missing", missing)
    return app


ETAG = re.compile(r'(W/)?"[^"]*"')
SECRET_POLICY = "private, no-store"  # a list of directives: no-store is one of them


def _check_etag_middleware(etag_middleware: Any) -> str:
    if not callable(etag_middleware):
        raise Incorrect(f"pass your middleware itself, not {etag_middleware!r}")
    if getattr(etag_middleware, "__middleware_version__", None) != 1:
        raise Incorrect("decorate your middleware with `@web.middleware`")
    if not inspect.iscoroutinefunction(etag_middleware):
        raise Incorrect(
            "write the middleware with `async def` and `response = await handler(request)`"
        )
    errors: list[BaseException] = []
    server = servers.serve_aiohttp(_etag_app(etag_middleware, errors), name="check-12.3")
    try:
        return _probe(server.url, errors)
    finally:
        server.stop()


def _get(base: str, path: str, errors: list[BaseException], **headers: str) -> requests.Response:
    response = requests.get(base + path, headers=headers, timeout=TIMEOUT)
    _raise_learner_error(errors)
    return response


def _head(base: str, path: str, errors: list[BaseException], **headers: str) -> requests.Response:
    response = requests.head(base + path, headers=headers, timeout=TIMEOUT)
    _raise_learner_error(errors)
    return response


def _raise_learner_error(errors: list[BaseException]) -> None:
    if errors:
        error = errors[0]
        if isinstance(error, NotImplementedError):
            raise NotAttempted
        text = str(error).strip().splitlines()
        described = f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
        raise Incorrect(f"etag_middleware raised {described}")


def _probe(base: str, errors: list[BaseException]) -> str:
    first = _get(base, "/doc", errors)
    etag = first.headers.get("ETag")
    if etag is None:
        raise Incorrect("GET /doc answered 200 without an ETag: add one to 200 responses of GET")
    if not ETAG.fullmatch(etag):
        raise Incorrect(
            f"the ETag {etag!r} is not an entity tag: put it in double quotes, e.g. "
            "`'\"' + digest + '\"'`"
        )
    if etag.startswith("W/"):
        raise Incorrect("make the ETag strong (no `W/`): it is a hash of the exact bytes")
    if _get(base, "/doc", errors).headers.get("ETag") != etag:
        raise Incorrect(
            "the ETag changed although the body did not: compute it from the body's bytes "
            "(e.g. `body_etag(response.body)`)"
        )
    head = _head(base, "/doc", errors)
    head_304 = _head(base, "/doc", errors, **{"If-None-Match": etag})
    if head.headers.get("ETag") != etag or head_304.status_code != 304:
        raise Incorrect(
            f"HEAD /doc answered {head.status_code} with ETag {head.headers.get('ETag')!r}, "
            f"and {head_304.status_code} to a matching `If-None-Match`: treat HEAD like GET "
            '(`request.method in ("GET", "HEAD")`)'
        )
    for header in (etag, f"W/{etag}", f'"something-else", {etag}', "*"):
        again = _get(base, "/doc", errors, **{"If-None-Match": header})
        if again.status_code != 304:
            raise Incorrect(
                f"`If-None-Match: {header}` names the current ETag, yet you answered "
                f"{again.status_code}: compare with the weak comparison (ignore `W/` on both "
                "sides), accept a list of tags and `*`, and answer 304"
            )
        if again.content:
            raise Incorrect("a 304 has no body: return `web.Response(status=304, headers=...)`")
        if again.headers.get("ETag") != etag:
            raise Incorrect("a 304 carries the ETag it confirms: copy it into the 304")
    other = _get(base, "/doc", errors, **{"If-None-Match": '"not-this-one"'})
    if other.status_code != 200 or not other.content:
        raise Incorrect(
            "`If-None-Match` named another ETag, yet you did not answer 200 with the body: "
            "answer 304 only when a tag matches"
        )
    posted = requests.post(
        base + "/doc",
        json={"text": "second version"},
        headers={"If-None-Match": "*"},
        timeout=TIMEOUT,
    )
    _raise_learner_error(errors)
    if posted.status_code != 200 or not posted.content:
        raise Incorrect(
            f"POST /doc answered {posted.status_code}: leave requests other than GET and "
            "HEAD alone (a 304 answers only a GET or HEAD)"
        )
    changed = _get(base, "/doc", errors, **{"If-None-Match": etag})
    if changed.status_code != 200 or changed.headers.get("ETag") in (None, etag):
        raise Incorrect(
            "after the document changed, `If-None-Match` with the old ETag got "
            f"{changed.status_code} with ETag {changed.headers.get('ETag')!r}: compute the "
            "ETag from each response's body, so a new body gets a new ETag"
        )
    tagged = _get(base, "/tagged", errors, **{"If-None-Match": '"v7"'})
    if tagged.status_code != 304 or tagged.headers.get("ETag") != 'W/"v7"':
        raise Incorrect(
            'the handler of /tagged sets its own ETag `W/"v7"`: keep it, and compare '
            '`If-None-Match: "v7"` with it weakly (a 304 with ETag `W/"v7"`)'
        )
    if tagged.headers.get("Cache-Control") != "max-age=60":
        raise Incorrect(
            "a 304 must carry the `Cache-Control` the 200 would have (RFC 9110 §15.4.5)"
        )
    secret = _get(base, "/secret", errors, **{"If-None-Match": "*"})
    if secret.status_code != 200 or "ETag" in secret.headers:
        raise Incorrect(
            f"/secret says `Cache-Control: {SECRET_POLICY}`, yet you added an ETag or answered "
            "304: look for `no-store` among the directives and leave such responses alone, "
            "nobody may keep a copy to revalidate"
        )
    missing = _get(base, "/missing", errors)
    if "ETag" in missing.headers:
        raise Incorrect("a 404 got an ETag: tag only successful (200) responses")
    return (
        "strong ETags from the body, 304 without a body for a weak match, lists and `*`, "
        "HEAD like GET, the handler's own ETag kept, `no-store`, POST and 404 left alone"
    )


def body_etag(body: bytes) -> str:
    """A strong entity tag for these bytes: a quoted, shortened SHA-256."""
    return '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


q3 = Exercise(
    "12.3",
    "An aiohttp middleware that adds ETags and answers 304",
    _check_etag_middleware,
    answer="etag_middleware",
    hints=[
        "`response = await handler(request)`; act only if request.method is GET or HEAD, "
        "response.status == 200 and 'no-store' is not in response.headers.get('Cache-Control', "
        "''). Otherwise return the response unchanged.",
        "`etag = response.headers.get('ETag') or body_etag(response.body)`; set it on the "
        "response. Weak comparison: strip a leading W/ from your ETag and from each tag of "
        "If-None-Match (split on commas); `*` matches everything.",
        "On a match return `web.Response(status=304, headers=...)` with the ETag and "
        "Cache-Control of the full response, and no body.",
    ],
    solution=SOLUTION,
)
