"""Typed errors for an API client, and reading a response's body: what lesson 11 builds, for
the exercises to import.

    try:
        ...
    except NotFound:
        ...
    except RateLimited as exc:
        await asyncio.sleep(exc.retry_after or 1)

Every class carries the status, the server's `detail`, the decoded body and `retry_after`
(seconds, when the server sent Retry-After); `except APIError` catches them all.
"""

from __future__ import annotations

from typing import Any

import aiohttp


class APIError(Exception):
    """The API answered with an error: the status, the server's detail and its body."""

    def __init__(
        self, status: int, detail: str, body: Any = None, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.body = body
        self.retry_after = retry_after  # seconds, when the server sent Retry-After


class Unauthorized(APIError):
    """401: no credentials, or the server refused them."""


class Forbidden(APIError):
    """403: the server knows who you are, and the answer is still no."""


class NotFound(APIError):
    """404: there is no such resource."""


class RateLimited(APIError):
    """429: too many requests; `retry_after` says how long to wait."""


class ServerError(APIError):
    """5xx: the server, or one behind it, failed."""


async def read_body(response: aiohttp.ClientResponse) -> Any:
    """The decoded JSON body, the text of any other body, or None for 204."""
    if response.status == 204:
        return None
    if response.content_type == "application/json":
        return await response.json()
    return await response.text()
