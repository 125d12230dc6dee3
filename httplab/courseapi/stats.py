"""Who did what: per-client request counts, connections, concurrency and a request log.

A client names itself with the ``X-Client-Id`` header (or the ``client`` query parameter);
exercise checks then read ``GET /api/stats/{client}`` to see how the client behaved.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from .lru import LRUDict

MAX_CLIENTS = 1000
LOG_LENGTH = 200

routes = web.RouteTableDef()


def client_id(request: web.Request) -> str:
    """The client's name: X-Client-Id header, else ?client=, else "anonymous"."""
    return request.headers.get("X-Client-Id") or request.query.get("client") or "anonymous"


@dataclass
class ClientStats:
    """What one client did since the last reset."""

    requests: int = 0
    # connection number → requests sent on it, in order of first use
    connections: dict[int, int] = field(default_factory=dict)
    in_flight: int = 0
    peak_concurrency: int = 0
    log: deque[tuple[str, str, int]] = field(default_factory=lambda: deque(maxlen=LOG_LENGTH))

    def as_json(self, client: str) -> dict[str, Any]:
        """The stats as GET /api/stats/{client} shows them."""
        return {
            "client": client,
            "requests": self.requests,
            "connections": len(self.connections),
            "requests_per_connection": list(self.connections.values()),
            "in_flight": self.in_flight,
            "peak_concurrency": self.peak_concurrency,
            "log": [{"method": m, "path": p, "status": s} for m, p, s in self.log],
        }


class StatsStore:
    """Stats per client, and a number for every TCP connection seen."""

    clients: LRUDict[str, ClientStats]
    # Keyed by the connection's transport; weak, so closed connections drop out by themselves.
    _connections: weakref.WeakKeyDictionary[asyncio.BaseTransport, int]

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget all clients."""
        self.clients = LRUDict(MAX_CLIENTS)
        self._connections = weakref.WeakKeyDictionary()
        self._connection_count = 0

    def connection_number(self, request: web.Request) -> int:
        """A number that stays the same for all requests sent on one connection."""
        transport = request.transport
        if transport is None or transport not in self._connections:
            self._connection_count += 1
            if transport is not None:
                self._connections[transport] = self._connection_count
            return self._connection_count
        return self._connections[transport]


STATS = web.AppKey("stats", StatsStore)


@web.middleware
async def stats_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count the request for its client (requests to /api/stats/ themselves are not counted)."""
    if request.path.startswith("/api/stats/"):
        return await handler(request)
    store = request.app[STATS]
    stats = store.clients.get_or_create(client_id(request), ClientStats)
    stats.requests += 1
    connection = store.connection_number(request)
    stats.connections[connection] = stats.connections.get(connection, 0) + 1
    stats.in_flight += 1
    stats.peak_concurrency = max(stats.peak_concurrency, stats.in_flight)
    try:
        response = await handler(request)
    finally:
        stats.in_flight -= 1
    stats.log.append((request.method, request.path, response.status))
    return response


@routes.get("/api/stats/{client}")
async def get_stats(request: web.Request) -> web.Response:
    """The stats of one client; all zeros for a client never seen."""
    client = request.match_info["client"]
    stats = request.app[STATS].clients.get(client) or ClientStats()
    return web.json_response(stats.as_json(client))


@routes.delete("/api/stats/{client}")
async def reset_stats(request: web.Request) -> web.Response:
    """Forget one client's stats; 204."""
    request.app[STATS].clients.pop(request.match_info["client"], None)
    return web.Response(status=204)
