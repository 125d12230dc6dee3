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
                                 created): 200 ``{"remaining": n}`` with
                                 ``RateLimit-Limit`` and ``RateLimit-Remaining``; no token left:
                                 429 with ``Retry-After`` (whole seconds, >= 1).
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
"""

from __future__ import annotations

import weakref

from aiohttp import web

from . import auth, download, faults, items, stats, users, websockets
from .auth import AUTH, AuthStore
from .errors import error_middleware
from .faults import FAULTS, FaultState
from .items import ITEMS, ItemStore
from .stats import STATS, StatsStore, stats_middleware
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
    app[CHAT] = ChatRooms()
    app[OPEN] = weakref.WeakSet()
    app.on_shutdown.append(close_open_websockets)
    app.on_cleanup.append(finish_farewells)
    app.router.add_routes(routes)
    for module in (users, items, auth, stats, faults, download, websockets):
        app.router.add_routes(module.routes)
    return app
