"""The chapter's key-value store: /items/{key} holds any JSON value."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .errors import ApiError
from .inputs import any_json, read_json_object, validate

SEED_ITEMS = {"greeting": "hello", "answer": 42}

routes = web.RouteTableDef()


class ItemStore:
    """Keys mapped to JSON values."""

    items: dict[str, Any]

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Go back to the seed items."""
        self.items = dict(SEED_ITEMS)


ITEMS = web.AppKey("items", ItemStore)


async def _read_value(request: web.Request) -> Any:
    body = await read_json_object(request)
    return validate(body, {"value": any_json})["value"]


@routes.get("/items")
async def list_items(request: web.Request) -> web.Response:
    """All items as one JSON object."""
    return web.json_response(request.app[ITEMS].items)


@routes.get("/items/{key}")
async def get_item(request: web.Request) -> web.Response:
    """One item as {"key", "value"}."""
    key = request.match_info["key"]
    items = request.app[ITEMS].items
    if key not in items:
        raise ApiError(404, f"Key {key!r} not found")
    return web.json_response({"key": key, "value": items[key]})


@routes.post("/items/{key}")
async def create_item(request: web.Request) -> web.Response:
    """Store {"value": ...} under the key (replacing any old value); 201."""
    key = request.match_info["key"]
    value = await _read_value(request)
    request.app[ITEMS].items[key] = value
    return web.json_response({"key": key, "value": value}, status=201)


@routes.put("/items/{key}")
async def put_item(request: web.Request) -> web.Response:
    """Store {"value": ...} under the key; 201 if the key is new, 200 if it existed."""
    key = request.match_info["key"]
    value = await _read_value(request)
    items = request.app[ITEMS].items
    status = 200 if key in items else 201
    items[key] = value
    return web.json_response({"key": key, "value": value}, status=status)


@routes.delete("/items/{key}")
async def delete_item(request: web.Request) -> web.Response:
    """Remove the key: 204, or 404 if it is not there."""
    key = request.match_info["key"]
    items = request.app[ITEMS].items
    if key not in items:
        raise ApiError(404, f"Key {key!r} not found")
    del items[key]
    return web.Response(status=204)
