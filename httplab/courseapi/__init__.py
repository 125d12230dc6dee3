"""The course API: one aiohttp application with every endpoint the lessons and exercises use.

Notebooks reach it as ``httplab.start().api``; ``web.run_app(create_app(), port=8080)`` serves
it on its own. Each ``create_app()`` call builds an independent app with fresh, deterministic
seed data.

Conventions
===========

* Request bodies are JSON objects of at most 1 MiB (larger: 413). Fields an endpoint does not
  know are ignored. Malformed JSON or a body that is not an object: 400. Missing or invalid
  fields: 422 with ``"fields": {"email": "must contain @", ...}``.
* Every error, aiohttp's own 404/405/413 included, is JSON:
  ``{"status": 404, "error": "Not Found", "detail": "<human message>"}``.
  405 keeps ``Allow``, 401 keeps ``WWW-Authenticate``, 429 and 503 keep ``Retry-After``.
  A crash is a 500 with detail "the server hit an unexpected error"; nothing is ever logged.
* Every GET endpoint also answers HEAD (same status and headers, no body).
* Bad query values (``page=abc``, ``per_page=0``, ``seconds=-1``, ...): 400 naming the parameter.
* Clients name themselves with the ``X-Client-Id`` header (else the ``client`` query parameter,
  else "anonymous"); stats, /api/flaky and /api/limited are kept per client.

Users and orders
================

Seed: users 1..42 named "Ada 1", "Alan 2", ... with e-mail "ada1@example.com", ...;
orders 1..4 (users 1, 1, 2 and 5). User: ``{"id", "name", "email"}``.
Order: ``{"id", "user_id", "item", "quantity"}``.

=======  ======================  ===============================================================
Method   Path                    What it does
=======  ======================  ===============================================================
GET      /api/users              ``?page=1&per_page=20``: ``{"data": [user...], "page",
                                 "per_page", "total"}`` and a ``Link`` header with absolute
                                 URLs (rel first, prev, next, last; other query parameters
                                 kept). page >= 1, per_page 1..100, else 400. A page past the
                                 end: 200 with empty data.
POST     /api/users              ``{"name": non-blank str, "email": str with @}``: 201, the
                                 user, ``Location: /api/users/{id}``, ``ETag``. 409 if the
                                 e-mail is taken (case-insensitive).
OPTIONS  /api/users              204, ``Allow: GET, HEAD, OPTIONS, POST``.
GET      /api/users/{id}         The user with a strong ``ETag``; 304 with no body if
                                 ``If-None-Match`` names it (or is ``*``). Unknown or
                                 non-integer id: 404.
PUT      /api/users/{id}         Replace name and email (both required): 200, the user with its
                                 new ``ETag``. 409 if the e-mail belongs to another user.
PATCH    /api/users/{id}         Change some of name, email (same checks): 200, the user.
DELETE   /api/users/{id}         Delete the user and their orders: 204 (again: 404).
OPTIONS  /api/users/{id}         204, ``Allow: DELETE, GET, HEAD, OPTIONS, PATCH, PUT``.
GET      /api/users/{id}/orders  ``{"data": [order...]}``, that user's orders. Unknown user: 404.
POST     /api/users/{id}/orders  ``{"item": non-blank str, "quantity": int >= 1}``: 201, the
                                 order, ``Location: /api/orders/{oid}``.
GET      /api/orders/{oid}       One order.
POST     /api/reset              Restore the seed users, orders and items, log everybody out,
                                 clear flaky counters, rate-limit buckets and stats: 204.
=======  ======================  ===============================================================

Any other method on these paths: 405 with ``Allow``.

Key-value store
===============

Seed: ``{"greeting": "hello", "answer": 42}``.

=======  ======================  ===============================================================
Method   Path                    What it does
=======  ======================  ===============================================================
GET      /items                  All items as one object ``{"<key>": <value>, ...}``.
GET      /items/{key}            ``{"key", "value"}``; 404 "Key 'x' not found".
POST     /items/{key}            Body ``{"value": <any JSON>}``: stores it (replacing an old
                                 value), 201 ``{"key", "value"}``. No "value": 422.
PUT      /items/{key}            Same, but 200 if the key existed, 201 if it is new.
DELETE   /items/{key}            204; 404 if the key does not exist.
=======  ======================  ===============================================================

Authentication
==============

Accounts: ``alice``/``wonderland`` (role "user") and ``admin``/``letmein`` (role "admin").

=======  ======================  ===============================================================
Method   Path                    What it does
=======  ======================  ===============================================================
POST     /api/login              username and password as a JSON object, or as form fields
                                 (urlencoded or multipart Content-Type): 200
                                 ``{"username"}`` and ``Set-Cookie: session=<token>; HttpOnly;
                                 Path=/; SameSite=Lax``. Wrong credentials: 401.
POST     /api/logout             Forget the session and expire the cookie: 204.
GET      /api/me                 With a valid session cookie ``{"username", "role"}``, else 401.
POST     /api/token              HTTP Basic credentials: ``{"access_token", "token_type":
                                 "Bearer"}``. Missing or wrong: 401 with
                                 ``WWW-Authenticate: Basic realm="course"``.
GET      /api/private            ``Authorization: Bearer <token>``: ``{"username"}``. No bearer
                                 token: 401 with ``WWW-Authenticate: Bearer realm="course"``;
                                 unknown token: 401 with ``WWW-Authenticate: Bearer
                                 realm="course", error="invalid_token"``.
GET      /api/admin              Bearer token or session cookie of the admin: 200
                                 ``{"username", "role"}``; another user: 403; nobody: 401.
=======  ======================  ===============================================================

Client stats
============

=======  ======================  ===============================================================
Method   Path                    What it does
=======  ======================  ===============================================================
GET      /api/stats/{client}     ``{"client", "requests", "connections",
                                 "requests_per_connection": [n, ...], "in_flight",
                                 "peak_concurrency", "log": [{"method", "path", "status"}]}``
                                 (the last 200 requests). A connection is one TCP connection;
                                 the list is in order of first use. An open WebSocket counts
                                 as a request in flight. Requests to /api/stats/ are not
                                 counted. Unknown client: all zeros.
DELETE   /api/stats/{client}     Forget that client's stats: 204.
=======  ======================  ===============================================================

Faults
======

=======  ======================  ===============================================================
Method   Path                    What it does
=======  ======================  ===============================================================
GET      /api/slow               ``?seconds=0.2`` (0..30): sleep, then ``{"slept": seconds}``.
GET      /api/flaky              ``?failures=2&retry_after=1&key=default`` (failures 0..100,
                                 retry_after 0..3600): per (client, key) the first `failures`
                                 calls get 503 with ``Retry-After: <retry_after>``, later ones
                                 200 ``{"attempts": n, "failures": failures}`` (n counts every
                                 call).
POST     /api/flaky              The same (same counters; the body is ignored), to show that
                                 a client does not retry a POST blindly.
GET      /api/limited            ``?capacity=5&per_second=1.0`` (capacity 1..1000, per_second
                                 > 0 and <= 1000; both fixed when the client's bucket is
                                 created): 200 ``{"remaining": n}``; no token left: 429 with
                                 ``Retry-After`` (whole seconds, >= 1). Both carry the fields of
                                 draft-ietf-httpapi-ratelimit-headers-11: ``RateLimit-Policy:
                                 "default";q=<capacity>;w=<seconds to refill>`` and ``RateLimit:
                                 "default";r=<tokens left>;t=<seconds to the next token>``.
GET      /api/crash              Raises RuntimeError: 500 ``{"status": 500, "error": "Internal
                                 Server Error", "detail": "the server hit an unexpected error"}``.
GET      /api/gateway            Calls an upstream on a closed loopback port: 502 with the reason.
GET      /api/maintenance        503 with ``Retry-After: 120``.
GET      /api/download           ``?size=1048576&seed=0`` (size 0..64 MiB): exactly `size`
                                 pseudo-random bytes (the same for the same size and seed),
                                 ``Content-Type: application/octet-stream``, ``Content-Length``,
                                 ``X-Checksum-SHA256: <hex digest of the body>``.
GET      /api/html               An HTML page (200, text/html) for "not JSON" demos.
=======  ======================  ===============================================================

WebSockets and index
====================

=======  ======================  ===============================================================
Method   Path                    What it does
=======  ======================  ===============================================================
GET      /ws/echo                WebSocket: every text and binary message comes back unchanged.
                                 A plain HTTP request gets 426.
GET      /ws/chat                WebSocket, ``?name=<nick>&room=lobby`` (each at most 32
                                 characters; no name: "guest-N"). Everybody in the room,
                                 the joiner included, gets ``{"type": "join", "name",
                                 "members": [sorted names]}``; a text message goes to everybody
                                 (sender included) as ``{"type": "message", "name", "text"}``
                                 (the "text" of a JSON object, else the raw text; binary
                                 messages are ignored); when a member leaves the others get
                                 ``{"type": "leave", "name", "members"}``. A member that does
                                 not accept a message within 1 s is disconnected.
GET      /                       JSON index of the endpoint groups.
=======  ======================  ===============================================================

Streaming (lesson 13)
=====================

=======  ======================  ===============================================================
Method   Path                    What it does
=======  ======================  ===============================================================
GET      /api/stream/chunks      ``?count=10&size=64&delay=0`` (count 1..100000, size 8..1 MiB,
                                 delay 0..5 s, count*size <= 64 MiB): chunked ``text/plain``, no
                                 Content-Length; chunk n is a line of `size` bytes,
                                 ``0000001-----...``, written `delay` s after the previous one.
POST     /api/upload             ``?limit=8388608`` (1..64 MiB): reads the body piece by piece and
                                 answers ``{"bytes", "pieces", "sha256", "chunked"}``; nothing is
                                 kept. More than `limit` bytes: 413 (at once if Content-Length
                                 says so, else as soon as the count passes the limit).
GET      /api/sse/feed           ``text/event-stream``: ``retry: <retry>`` then events 1..count
                                 (``id: n``, ``event: tick``, ``data: {"n": n}``) `interval` s
                                 apart, with a ``: heartbeat`` comment every `heartbeat` s of
                                 silence. ``Last-Event-ID: k`` resumes after k (all delivered:
                                 204, which stops an EventSource); ids older than the last
                                 `replay` published get ``event: gap``. ``drop_after=N``: the
                                 first `drops` (default 1) connections of this (client, `key`)
                                 are cut after N events, without the final chunk. Query: count
                                 1..1000, interval 0..5, heartbeat 0.01..60 (15), retry ms
                                 0..60000 (1000), replay 1..1000 (100). A bad Last-Event-ID: 400.
POST     /api/llm/chat/com-      A chat-completion API (``{"messages": [{"role", "content"}],
         pletions                "stream", "max_tokens"}``): ``"stream": true`` answers
                                 ``data: {"object": "chat.completion.chunk", "choices": [{"delta":
                                 {"content": token}}]}`` events, a last chunk with
                                 ``finish_reason``, then ``data: [DONE]``. Query ``ttft`` (s before
                                 the first token, 0.2) and ``rate`` (tokens/s, 50).
GET      /api/stats/{client}/    ``{"client", "streams": [{"path", "last_event_id", "sent",
         streams                 "ended", "opened", "closed"}]}``: the client's last 50 streams;
                                 sent counts chunks, events or tokens; ended is null while
                                 running, else "complete", "dropped" or "client gone" (it
                                 stopped reading and closed); opened and closed are seconds on
                                 the server's monotonic clock.
=======  ======================  ===============================================================

Caching and conditional requests (lesson 12)
============================================

=======  ======================  ===============================================================
Method   Path                    What it does
=======  ======================  ===============================================================
GET      /api/cache/policy/      A JSON resource served with one caching policy: max-age,
         {name}                  no-cache, no-store, private, public, immutable, must-revalidate,
                                 stale-while-revalidate (``Cache-Control``), expires (``Expires``
                                 = Date + max_age), heuristic (only ``Last-Modified``). Every one
                                 has a strong ``ETag`` (weak ``W/"..."`` with ``weak=true``) and
                                 ``Last-Modified`` (`modified_at`, Unix seconds; default 10 days
                                 before the app started). Query: max_age 0..1 year (60), swr
                                 (60), size 0..1 MiB of payload (64), delay 0..5 s before the
                                 answer (0). If-None-Match (weak) or
                                 If-Modified-Since: 304 without a body; If-Match (strong): 412.
GET      /api/cache/greeting     ``Vary: Accept-Language``, ``max-age=60``: ``{"language",
                                 "greeting"}`` in en, fr, de or es (else en), an ETag per variant.
GET      /api/cache/notes/{key}  A note of this client (key: 1..64 of ``A-Za-z0-9_.-``):
PUT                              ``{"key", "version", "data"}``, ``ETag`` (changes on every
PATCH                            write), ``Cache-Control: no-cache``. PUT a JSON object: 201
DELETE                           (new) or 200; PATCH: JSON Merge Patch; DELETE: 204. If-Match
                                 (strong comparison) that does not match: 412; If-None-Match: *
                                 on an existing note: 412. Writes without a condition win.
GET ...  /api/cache/guarded/     The same notes (another collection), but a PUT, PATCH or DELETE
         {key}                   without If-Match or If-None-Match gets 428 Precondition Required.
=======  ======================  ===============================================================
Credentials on the move (lesson 14)
===================================

=======  ======================  ===============================================================
Method   Path                    What it does
=======  ======================  ===============================================================
GET      /api/credentials/       ``?to=<URL>&status=302``: redirect (301, 302, 303, 307 or 308)
         redirect                to `to`, an absolute http(s) URL on 127.0.0.1, localhost or
                                 ::1 (else 400).
GET      /api/credentials/       ``?probe=<id>`` (1..64 characters): records, under the probe,
         landing                 the Host, the request line and which of Authorization,
                                 Cookie, X-Api-Key, Proxy-Authorization arrived (and the
                                 cookies); answers with that record.
GET      /api/credentials/seen/  ``{"probe", "arrived": [record...]}``, oldest first (the last
         {probe}                 20 per probe); unknown probe: empty list.
=======  ======================  ===============================================================
"""

from __future__ import annotations

import weakref

from aiohttp import web

from . import (
    auth,
    caching,
    credentials,
    download,
    faults,
    items,
    stats,
    streaming,
    users,
    websockets,
)
from .auth import AUTH, AuthStore
from .caching import CACHE, CacheLab
from .credentials import CREDENTIALS, Landings
from .errors import error_middleware
from .faults import FAULTS, FaultState
from .items import ITEMS, ItemStore
from .stats import STATS, StatsStore, stats_middleware
from .streaming import STREAMS, StreamStore
from .users import USERS, UserStore
from .websockets import CHAT, OPEN, ChatRooms, close_open_websockets, finish_farewells

__all__ = ["create_app"]

MAX_BODY_SIZE = 1024 * 1024

INDEX = {
    "name": "httplab course API",
    "groups": {
        "users and orders": [
            "/api/users",
            "/api/users/{id}",
            "/api/users/{id}/orders",
            "/api/orders/{oid}",
            "/api/reset",
        ],
        "key-value store": ["/items", "/items/{key}"],
        "authentication": [
            "/api/login",
            "/api/logout",
            "/api/me",
            "/api/token",
            "/api/private",
            "/api/admin",
        ],
        "client stats": ["/api/stats/{client}"],
        "faults": [
            "/api/slow",
            "/api/flaky",
            "/api/limited",
            "/api/crash",
            "/api/gateway",
            "/api/maintenance",
            "/api/download",
            "/api/html",
        ],
        "websockets": ["/ws/echo", "/ws/chat"],
        "caching": [
            "/api/cache/policy/{name}",
            "/api/cache/greeting",
            "/api/cache/notes/{key}",
            "/api/cache/guarded/{key}",
        ],
        "streaming": [
            "/api/stream/chunks",
            "/api/upload",
            "/api/sse/feed",
            "/api/llm/chat/completions",
        ],
        "credentials": [
            "/api/credentials/redirect",
            "/api/credentials/landing",
            "/api/credentials/seen/{probe}",
        ],
    },
}

routes = web.RouteTableDef()


@routes.get("/")
async def index(request: web.Request) -> web.Response:
    """The endpoint groups, for humans exploring the API."""
    return web.json_response(INDEX)


@routes.post("/api/reset")
async def reset(request: web.Request) -> web.Response:
    """Put every store back to its seed state (open WebSocket chats are left alone)."""
    app = request.app
    app[USERS].reset()
    app[ITEMS].reset()
    app[AUTH].reset()
    app[FAULTS].reset()
    app[STATS].reset()
    app[CACHE].reset()
    app[STREAMS].reset()
    app[CREDENTIALS].reset()
    return web.Response(status=204)


def create_app() -> web.Application:
    """Build a course API app with its own state and the seed data."""
    # The stats middleware is outermost so it records the final status, errors included.
    app = web.Application(
        middlewares=[stats_middleware, error_middleware], client_max_size=MAX_BODY_SIZE
    )
    app[USERS] = UserStore()
    app[ITEMS] = ItemStore()
    app[AUTH] = AuthStore()
    app[FAULTS] = FaultState()
    app[STATS] = StatsStore()
    app[CACHE] = CacheLab()
    app[STREAMS] = StreamStore()
    app[CREDENTIALS] = Landings()
    app[CHAT] = ChatRooms()
    app[OPEN] = weakref.WeakSet()
    app.on_shutdown.append(close_open_websockets)
    app.on_cleanup.append(finish_farewells)
    app.router.add_routes(routes)
    for module in (
        users,
        items,
        auth,
        stats,
        faults,
        download,
        websockets,
        streaming,
        caching,
        credentials,
    ):
        app.router.add_routes(module.routes)
    return app
