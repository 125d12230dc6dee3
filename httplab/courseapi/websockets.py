"""WebSocket endpoints: an echo server and a chat with rooms."""

from __future__ import annotations

import asyncio
import contextlib
import json
import weakref
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from .errors import ApiError

SEND_TIMEOUT = 1.0  # seconds a chat member may take to accept a message before being dropped
MAX_NAME_LENGTH = 32

routes = web.RouteTableDef()


@dataclass(eq=False)  # members are compared by identity
class Member:
    """One connected chat client."""

    name: str
    ws: web.WebSocketResponse
    transport: asyncio.BaseTransport | None


@dataclass
class ChatRooms:
    """Chat members by room; rooms disappear when their last member leaves."""

    rooms: dict[str, list[Member]] = field(default_factory=dict)
    guests: int = 0
    farewells: set[asyncio.Task[None]] = field(default_factory=set)  # running "leave" broadcasts

    def announce_leave(self, members: list[Member], name: str) -> None:
        """Tell the remaining members that `name` left, in a task of its own.

        The leaving member's handler may be cancelled at this very moment (its client hung up),
        so it must not await the broadcast itself. The task is kept until it finishes.
        """
        event = {"type": "leave", "name": name, "members": _names(members)}
        task = asyncio.create_task(broadcast(members, event))
        self.farewells.add(task)
        task.add_done_callback(self.farewells.discard)


CHAT = web.AppKey("chat", ChatRooms)
OPEN = web.AppKey("open_websockets", weakref.WeakSet)  # every WebSocket still open


async def close_open_websockets(app: web.Application) -> None:
    """On shutdown, close every open WebSocket with 1001 (going away), so the server stops
    at once instead of waiting for its clients."""
    await asyncio.gather(
        *(
            ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")
            for ws in app[OPEN]
        ),
        return_exceptions=True,
    )


async def finish_farewells(app: web.Application) -> None:
    """At cleanup, let the last "leave" broadcasts finish (each takes at most SEND_TIMEOUT)."""
    await asyncio.gather(*app[CHAT].farewells, return_exceptions=True)


async def _open(request: web.Request) -> web.WebSocketResponse:
    """Complete the WebSocket handshake, or 426 if this is a plain HTTP request."""
    ws = web.WebSocketResponse()
    if not ws.can_prepare(request).ok:
        raise ApiError(
            426,
            "this endpoint speaks WebSocket: send an Upgrade request",
            headers={"Upgrade": "websocket"},
        )
    await ws.prepare(request)
    request.app[OPEN].add(ws)
    return ws


@routes.get("/ws/echo")
async def echo(request: web.Request) -> web.WebSocketResponse:
    """Send every text and binary message straight back."""
    ws = await _open(request)
    with contextlib.suppress(ConnectionError):  # the client vanished while we answered
        async for message in ws:
            if message.type is WSMsgType.TEXT:
                await ws.send_str(message.data)
            elif message.type is WSMsgType.BINARY:
                await ws.send_bytes(message.data)
    return ws


def _names(members: list[Member]) -> list[str]:
    return sorted(member.name for member in members)


async def _send(member: Member, text: str) -> None:
    async with asyncio.timeout(SEND_TIMEOUT):
        await member.ws.send_str(text)


async def broadcast(members: list[Member], event: dict[str, Any]) -> None:
    """Send `event` to all members at once; drop any member that fails or is too slow.

    Sending concurrently with a timeout means one stuck client cannot hold up the others.
    A dropped member's connection is aborted; its own handler then announces that it left.
    """
    text = json.dumps(event)
    recipients = list(members)
    results = await asyncio.gather(
        *(_send(member, text) for member in recipients), return_exceptions=True
    )
    for member, result in zip(recipients, results, strict=True):
        if isinstance(result, BaseException) and member in members:
            members.remove(member)
            if member.transport is not None:
                member.transport.abort()


def _chat_text(raw: str) -> str:
    """The text of a chat message: the "text" of a JSON object, else the raw message."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return raw
    if isinstance(data, dict) and isinstance(data.get("text"), str):
        return data["text"]
    return raw


@routes.get("/ws/chat")
async def chat(request: web.Request) -> web.WebSocketResponse:
    """Join a room (?name=, ?room=) and relay every text message to everybody in it."""
    chat_rooms = request.app[CHAT]
    name = request.query.get("name", "")
    room_name = request.query.get("room") or "lobby"
    for label, value in (("name", name), ("room", room_name)):
        if len(value) > MAX_NAME_LENGTH:
            raise ApiError(
                400, f"query parameter '{label}' must be at most {MAX_NAME_LENGTH} characters"
            )

    ws = await _open(request)
    if not name:
        chat_rooms.guests += 1
        name = f"guest-{chat_rooms.guests}"
    members = chat_rooms.rooms.setdefault(room_name, [])
    me = Member(name, ws, request.transport)
    members.append(me)
    try:
        await broadcast(members, {"type": "join", "name": name, "members": _names(members)})
        async for message in ws:
            if message.type is WSMsgType.TEXT:
                event = {"type": "message", "name": name, "text": _chat_text(message.data)}
                await broadcast(members, event)
    finally:
        if me in members:
            members.remove(me)
        if members:
            chat_rooms.announce_leave(members, name)
        elif chat_rooms.rooms.get(room_name) is members:
            del chat_rooms.rooms[room_name]
    return ws
