"""JSON errors: the `ApiError` exception and the middleware that turns every failure into JSON.

Every error response has the body ``{"status": 404, "error": "Not Found", "detail": "..."}``
(422 responses add ``"fields"``). Headers that matter to clients survive: ``Allow`` on 405,
``WWW-Authenticate`` on 401, ``Retry-After`` on 429 and 503.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler
from multidict import CIMultiDict


class ApiError(Exception):
    """Raised by a handler to answer with a JSON error instead of its normal response."""

    def __init__(
        self, status: int, detail: str, *, headers: Mapping[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra


# RFC 9110 renamed these; Python before 3.13 still has the old phrases. The lab sends the
# current names whatever Python runs it, so that every learner sees the same responses.
RFC9110_PHRASES = {
    413: "Content Too Large",
    414: "URI Too Long",
    416: "Range Not Satisfiable",
    422: "Unprocessable Content",
}


def phrase(status: int) -> str:
    """The reason phrase of a status code, as RFC 9110 names it."""
    return RFC9110_PHRASES.get(status, HTTPStatus(status).phrase)


def error_response(
    status: int, detail: str, *, headers: Mapping[str, str] | None = None, **extra: Any
) -> web.Response:
    """Build the JSON error response used for every 4xx and 5xx answer."""
    body = {"status": status, "error": phrase(status), "detail": detail, **extra}
    return web.json_response(body, status=status, reason=phrase(status), headers=headers)


def _from_aiohttp(request: web.Request, exc: web.HTTPError) -> web.Response:
    """Rewrite one of aiohttp's own errors (404, 405, 413, ...) in our JSON shape."""
    headers = CIMultiDict(exc.headers)
    headers.popall("Content-Type", None)
    if isinstance(exc, web.HTTPNotFound):
        detail = f"there is no endpoint at {request.path} (GET / lists them)"
    elif isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        headers["Allow"] = allowed
        detail = f"{exc.method} is not allowed on {request.path}; allowed: {allowed}"
    elif exc.text and exc.text != f"{exc.status}: {exc.reason}":
        detail = exc.text
    else:
        detail = HTTPStatus(exc.status).description
    return error_response(exc.status, detail, headers=headers)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn `ApiError`, aiohttp's HTTP and parsing errors and any crash into JSON errors."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.detail, headers=exc.headers, **exc.extra)
    except web.HTTPError as exc:
        return _from_aiohttp(request, exc)
    except HttpProcessingError as exc:  # aiohttp could not parse the body (chunks, multipart)
        return error_response(400, f"the request body is malformed: {exc.message}")
    except Exception:  # a bug or a deliberate crash: answer 500, reveal nothing, log nothing
        return error_response(500, "the server hit an unexpected error")
