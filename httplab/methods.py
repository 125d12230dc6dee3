"""A counter service that breaks HTTP's method promises on purpose (lesson 02 and its checks).

Safe and idempotent are promises a server makes about its methods; HTTP cannot enforce them.
This service keeps one promise and breaks two, so that an experiment can tell them apart:

=======  ==============  ========================================================================
Method   Path            What it does
=======  ==============  ========================================================================
GET      /counter        ``{"value": n}``: reads the counter (safe, as a GET should be).
GET      /counter/hit    Adds 1, then ``{"value": n}``: a GET that changes state (NOT safe),
                         like a "hit counter" link that a crawler or a link preview follows.
PATCH    /counter        ``{"add": k}`` adds k: ``{"value": n}`` (NOT idempotent: twice adds 2k).
PUT      /counter        ``{"value": n}`` sets n: ``{"value": n}`` (idempotent, as PUT must be).
=======  ==============  ========================================================================

A body that is not a JSON object with an integer field: 400 or 422 (Unprocessable Content) with
a JSON error ``{"status", "error", "detail"}``.

    >>> url = serve_counter()        # a fresh counter at 0, on 127.0.0.1
    >>> requests.patch(f"{url}/counter", json={"add": 1}, timeout=5).json()
    {'value': 1}
"""

from __future__ import annotations

import json

from aiohttp import web

from . import servers

COUNT = web.AppKey("count", list)


def counter_app() -> web.Application:
    """A new counter service whose value starts at 0."""
    app = web.Application()
    app[COUNT] = [0]
    routes = web.RouteTableDef()

    def answer(request: web.Request) -> web.Response:
        return web.json_response({"value": request.app[COUNT][0]})

    @routes.get("/counter")
    async def read(request: web.Request) -> web.Response:
        return answer(request)

    @routes.get("/counter/hit")
    async def hit(request: web.Request) -> web.Response:
        request.app[COUNT][0] += 1
        return answer(request)

    @routes.patch("/counter")
    async def add(request: web.Request) -> web.Response:
        request.app[COUNT][0] += await _integer(request, "add")
        return answer(request)

    @routes.put("/counter")
    async def replace(request: web.Request) -> web.Response:
        request.app[COUNT][0] = await _integer(request, "value")
        return answer(request)

    app.router.add_routes(routes)
    return app


async def _integer(request: web.Request, field: str) -> int:
    """The integer `field` of the JSON object in the request body, or a JSON error."""
    try:
        body = await request.json()
    except ValueError:
        raise _error(400, "the body must be JSON") from None
    value = body.get(field) if isinstance(body, dict) else None
    if not isinstance(value, int) or isinstance(value, bool):
        raise _error(422, f'send a JSON object {{"{field}": <integer>}}')
    return value


# RFC 9110's phrases, as the course API sends them (aiohttp and Python < 3.13 still say
# "Unprocessable Entity" for 422).
PHRASES = {400: "Bad Request", 422: "Unprocessable Content"}


def _error(status: int, detail: str) -> web.HTTPException:
    """A JSON error like the course API's: {"status", "error", "detail"}."""
    kind = web.HTTPBadRequest if status == 400 else web.HTTPUnprocessableEntity
    body = json.dumps({"status": status, "error": PHRASES[status], "detail": detail})
    return kind(text=body, content_type="application/json", reason=PHRASES[status])


def serve_counter(name: str = "counter") -> str:
    """Start a fresh counter service (replacing one of the same name); return its base URL."""
    return servers.serve_aiohttp(counter_app, name=name).url
