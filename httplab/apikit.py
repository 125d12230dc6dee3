"""JSON errors for an aiohttp server: the helpers lesson 08 builds, for the exercises to import.

    app = web.Application(middlewares=[json_errors])

A handler raises `ApiError(status, detail)` when the client is at fault; `json_errors` turns
it, aiohttp's own HTTP errors (no route: 404, wrong method: 405, body too large: 413) and any
crash into a JSON object with "status", "error" and "detail". `read_json_object` and
`query_int` read a request's body and query parameters, answering 400 for bad input.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any

from aiohttp import web

KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")  # clients need them

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    """Raise it in a handler to answer with a JSON error."""

    def __init__(
        self, status: int, detail: str, headers: Mapping[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers, self.extra = status, detail, headers, extra


def error_response(
    status: int, detail: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> web.Response:
    """A JSON error: {"status", "error" (the reason phrase), "detail", **extra}."""
    body = {"status": status, "error": HTTPStatus(status).phrase, "detail": detail, **extra}
    return web.json_response(body, status=status, headers=headers)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer every error in JSON: ApiError, aiohttp's own HTTP errors, and crashes."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.detail, exc.headers, **exc.extra)
    except web.HTTPError as exc:  # 4xx and 5xx raised by aiohttp or by a handler
        headers = {name: exc.headers[name] for name in KEPT_HEADERS if name in exc.headers}
        default = exc.text == f"{exc.status}: {exc.reason}"  # aiohttp's own text
        detail = f"{exc.reason}: {request.method} {request.path}" if default else exc.text
        return error_response(exc.status, detail, headers)
    except Exception:  # a bug: log it for us, tell the client nothing about our code
        request.app.logger.exception("handler crashed on %s %s", request.method, request.path)
        return error_response(500, "the server hit an unexpected error")


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 that says what is wrong with it."""
    try:
        body = await request.json()  # over client_max_size: aiohttp raises 413 here
    except ValueError as exc:  # json.JSONDecodeError, or bytes that are not UTF-8
        raise ApiError(400, f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError(400, f"the body must be a JSON object, not {type(body).__name__}")
    return body


def query_int(
    request: web.Request, name: str, default: int, minimum: int, maximum: int | None = None
) -> int:
    """An integer query parameter within bounds, or a 400 that names it."""
    raw = request.query.get(name)
    if raw is None:
        return default
    # only plain digits: not "-1", "1.5", " 2", "²", "٣", nor 5000 digits that int() refuses
    value = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else None
    if value is None or value < minimum or (maximum is not None and value > maximum):
        upper = "" if maximum is None else f" and <= {maximum}"
        raise ApiError(400, f"{name} must be an integer >= {minimum}{upper}, not {raw!r}")
    return value
