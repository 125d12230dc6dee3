"""Misbehaving endpoints for practising timeouts, retries, rate limits and error handling."""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from ..misbehaving import closed_port
from .errors import ApiError
from .inputs import query_float, query_int
from .lru import LRUDict
from .stats import client_id

MAX_TRACKED = 1000  # flaky counters and rate-limit buckets kept at most (oldest dropped)
POLICY = "default"  # the name of /api/limited's quota policy in its RateLimit fields

HTML_PAGE = """<!doctype html>
<html>
  <head><title>Not JSON</title></head>
  <body><h1>This is an HTML page</h1><p>Calling .json() on this response fails.</p></body>
</html>
"""

routes = web.RouteTableDef()


@dataclass
class TokenBucket:
    """Holds up to `capacity` tokens and gains `per_second` tokens per second."""

    capacity: int
    per_second: float
    tokens: float
    updated: float

    def take(self, now: float) -> bool:
        """Refill for the time that passed, then take one token if there is one."""
        elapsed = now - self.updated
        self.tokens = min(self.capacity, self.tokens + elapsed * self.per_second)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def seconds_until_token(self) -> float:
        """Seconds until the whole number of tokens grows by one."""
        return (math.floor(self.tokens) + 1 - self.tokens) / self.per_second

    def headers(self) -> dict[str, str]:
        """The RateLimit-Policy and RateLimit fields of draft-ietf-httpapi-ratelimit-headers-11.

        The policy: quota `q` = the capacity, window `w` = the seconds an empty bucket takes
        to fill up. The service limit: `r` tokens left now, and no new one for `t` seconds.
        """
        window = max(1, math.ceil(self.capacity / self.per_second))
        wait = max(1, math.ceil(self.seconds_until_token()))
        return {
            "RateLimit-Policy": f'"{POLICY}";q={self.capacity};w={window}',
            "RateLimit": f'"{POLICY}";r={math.floor(self.tokens)};t={wait}',
        }


class FaultState:
    """Attempt counters of /api/flaky and token buckets of /api/limited."""

    attempts: LRUDict[tuple[str, str], int]
    buckets: LRUDict[str, TokenBucket]

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget all counters and buckets."""
        self.attempts = LRUDict(MAX_TRACKED)
        self.buckets = LRUDict(MAX_TRACKED)


FAULTS = web.AppKey("faults", FaultState)


@routes.get("/api/slow")
async def slow(request: web.Request) -> web.Response:
    """Wait `seconds` (0..30, default 0.2) before answering."""
    seconds = query_float(request, "seconds", 0.2, 0, 30)
    await asyncio.sleep(seconds)
    return web.json_response({"slept": seconds})


@routes.post("/api/flaky")  # the same, to show that a client does not retry a POST blindly
@routes.get("/api/flaky")
async def flaky(request: web.Request) -> web.Response:
    """Fail with 503 + Retry-After for the first `failures` calls per (client, key)."""
    failures = query_int(request, "failures", 2, 0, 100)
    retry_after = query_int(request, "retry_after", 1, 0, 3600)
    counter = (client_id(request), request.query.get("key", "default"))
    attempts = request.app[FAULTS].attempts
    attempts[counter] = attempts.get(counter, 0) + 1
    if attempts[counter] <= failures:
        raise ApiError(
            503,
            f"simulated failure {attempts[counter]} of {failures}; retry after {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )
    return web.json_response({"attempts": attempts[counter], "failures": failures})


@routes.get("/api/limited")
async def limited(request: web.Request) -> web.Response:
    """A per-client token bucket: 200 while tokens last, then 429 with Retry-After."""
    capacity = query_int(request, "capacity", 5, 1, 1000)
    per_second = query_float(request, "per_second", 1.0, 0, 1000, minimum_allowed=False)
    now = time.monotonic()
    bucket = request.app[FAULTS].buckets.get_or_create(
        client_id(request), lambda: TokenBucket(capacity, per_second, capacity, now)
    )
    allowed = bucket.take(now)
    headers = bucket.headers()
    if not allowed:
        headers["Retry-After"] = str(max(1, math.ceil(bucket.seconds_until_token())))
        raise ApiError(429, "rate limit exceeded; wait for Retry-After seconds", headers=headers)
    return web.json_response({"remaining": int(bucket.tokens)}, headers=headers)


@routes.get("/api/crash")
async def crash(request: web.Request) -> web.Response:
    """Raise on purpose: the error middleware answers 500 and logs nothing."""
    raise RuntimeError("deliberate crash for the error-handling lesson")


@routes.get("/api/gateway")
async def gateway(request: web.Request) -> web.Response:
    """Call an upstream that is down and answer 502 with the reason."""
    url = f"http://127.0.0.1:{closed_port()}/"
    reason = "it answered although it should be down"
    timeout = aiohttp.ClientTimeout(total=1)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url):
            pass
    except aiohttp.ClientConnectionError:  # the same words on every platform and version
        reason = "it refused the connection"
    except (aiohttp.ClientError, TimeoutError):
        reason = "it did not answer in time"
    raise ApiError(502, f"the upstream service failed: {reason}")


@routes.get("/api/maintenance")
async def maintenance(request: web.Request) -> web.Response:
    """Always 503 with Retry-After: 120."""
    raise ApiError(503, "down for maintenance; come back later", headers={"Retry-After": "120"})


@routes.get("/api/html")
async def html(request: web.Request) -> web.Response:
    """An HTML page where a client may expect JSON."""
    return web.Response(text=HTML_PAGE, content_type="text/html")
