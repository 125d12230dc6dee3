"""Credentials on the move (lesson 14): a redirect to another origin, and a landing page
that writes down which credentials arrived there.

A probe id in the landing URL's query names the record, so that a client's redirected
request is found again whichever headers it dropped on the way.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from .errors import ApiError
from .lru import LRUDict

MAX_PROBES = 1000
MAX_PER_PROBE = 20
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
REDIRECTS = {301, 302, 303, 307, 308}
WATCHED = ("Authorization", "Cookie", "X-Api-Key", "Proxy-Authorization")


class Landings(LRUDict[str, list[dict]]):
    """What arrived at the landing page, per probe (the oldest probes are forgotten)."""

    def __init__(self) -> None:
        super().__init__(MAX_PROBES)

    def reset(self) -> None:
        self.clear()


CREDENTIALS = web.AppKey("credentials", Landings)
routes = web.RouteTableDef()


@routes.get("/api/credentials/redirect")
async def redirect(request: web.Request) -> web.Response:
    """Redirect to `to` (an absolute http(s) URL on a loopback host) with `status`."""
    target = request.query.get("to", "")
    try:
        parts = urlsplit(target)
        scheme, host = parts.scheme, parts.hostname
    except ValueError:  # e.g. an unclosed [IPv6 address
        scheme, host = "", None
    if scheme not in ("http", "https") or host not in LOOPBACK:
        raise ApiError(400, "'to' must be an absolute http(s) URL on 127.0.0.1 or localhost")
    try:
        status = int(request.query.get("status", "302"))
    except ValueError:
        status = 0
    if status not in REDIRECTS:
        raise ApiError(400, "'status' must be one of 301, 302, 303, 307, 308")
    return web.Response(status=status, headers={"Location": target})


@routes.get("/api/credentials/landing")
async def landing(request: web.Request) -> web.Response:
    """Record which credentials arrived, under `probe`; answer with the same record."""
    probe = request.query.get("probe", "")
    if not probe or len(probe) > 64:
        raise ApiError(400, "'probe' must be 1 to 64 characters")
    record = {
        "host": request.host,
        "line": f"{request.method} {request.path_qs} HTTP/{request.version.major}."
        f"{request.version.minor}",
        "headers": {name: request.headers[name] for name in WATCHED if name in request.headers},
        "cookies": dict(request.cookies),
    }
    records = request.app[CREDENTIALS].get_or_create(probe, list)
    records.append(record)
    del records[:-MAX_PER_PROBE]
    return web.json_response(record)


@routes.get("/api/credentials/seen/{probe}")
async def seen(request: web.Request) -> web.Response:
    """What arrived at the landing page under this probe (oldest first; empty if nothing)."""
    probe = request.match_info["probe"]
    return web.json_response({"probe": probe, "arrived": request.app[CREDENTIALS].get(probe, [])})
