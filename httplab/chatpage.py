"""The browser chat of lesson 09: an aiohttp app with an HTML page at `/` and the chat's
WebSocket at `/ws`, so that a teacher can show a real browser joining the class's chat.

    server = httplab.serve_aiohttp(chatpage.create_app(), name="chat-page")
    IFrame(chatpage.page_url(server, name="screen"), width="100%", height=380)

The page opens its WebSocket at a URL relative to itself (`new URL('ws', location.href)`,
with the scheme switched to ws: or wss:), so the same page works straight on loopback,
`http://127.0.0.1:PORT/`, and through jupyter-server-proxy on a JupyterHub,
`<hub>/user/<name>/proxy/PORT/` (keep the trailing slash: without it the relative URL
resolves one level too high).

Protocol: JSON text messages, as in the lab's /ws/chat.

    browser -> server   {"type": "message", "text": "..."}   (plain text works too)
    server -> browser   {"type": "history", "messages": [...]}   first, the last 20 messages
                        {"type": "join" | "leave", "name": ..., "members": [sorted names]}
                        {"type": "message", "name": ..., "text": ...}

Query of /ws: `name` (at most 32 characters; none: "guest-N"; a name in use gets " (2)"),
and in classroom mode `join`, the token. A missing or wrong token: the handshake succeeds,
then the server closes with 1008 (policy violation) and a reason, which a browser can show;
a refused handshake would only give it an error event and code 1006. The parameter is not
called `token` because Jupyter reads `?token=` as its own login token.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import WSCloseCode, WSMsgType, web

SEND_TIMEOUT = 1.0  # seconds a member may take to accept a message before being dropped
MAX_NAME_LENGTH = 32
MAX_TEXT_LENGTH = 500  # characters kept of one chat message
MAX_MESSAGE_SIZE = 4096  # bytes of one incoming WebSocket message; larger: close 1009
HISTORY = 20  # messages shown to a newcomer
HEARTBEAT = 20.0  # seconds between the server's pings; no pong in time: connection closed


@dataclass
class Member:
    name: str
    ws: web.WebSocketResponse
    transport: asyncio.BaseTransport | None


@dataclass
class Room:
    """Who is in the chat, the last messages, and the join token (None: no token needed)."""

    token: str | None
    members: list[Member] = field(default_factory=list)
    history: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=HISTORY))
    guests: int = 0
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    closing: bool = False  # the server is shutting down: no more leave notices

    def names(self) -> list[str]:
        return sorted(member.name for member in self.members)

    def unique(self, wanted: str) -> str:
        taken = set(self.names())
        if not wanted:
            self.guests += 1
            wanted = f"guest-{self.guests}"
        name, number = wanted, 2
        while name in taken:
            name, number = f"{wanted} ({number})", number + 1
        return name


ROOM = web.AppKey("room", Room)


def create_app(token: str | None = None) -> web.Application:
    """The chat app; with a `token`, only clients that present it (`?join=`) may take part."""
    app = web.Application()
    app[ROOM] = Room(token)
    app.router.add_get("/", page)
    app.router.add_get("/ws", chat)
    app.on_shutdown.append(_close_all)
    return app


def page_url(server: Any, *, name: str | None = None, token: str | None = None) -> str:
    """Where a browser finds the page of `server` (a running httplab server).

    On a JupyterHub (JUPYTERHUB_SERVICE_PREFIX is set, e.g. "/user/alice/") the browser is not
    on the kernel's machine, so the page is reached through jupyter-server-proxy at
    "/user/alice/proxy/PORT/"; elsewhere straight at "http://127.0.0.1:PORT/". With `name` the
    page joins at once under that name; `token` is the classroom join token.
    """
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    base = f"{prefix.rstrip('/')}/proxy/{server.port}/" if prefix else f"{server.url}/"
    query = {key: value for key, value in (("name", name), ("join", token)) if value}
    return base + ("?" + urlencode(query) if query else "")


async def page(request: web.Request) -> web.Response:
    return web.Response(text=PAGE, content_type="text/html")


async def chat(request: web.Request) -> web.StreamResponse:
    """One chat member, from the handshake to the last goodbye."""
    room = request.app[ROOM]
    ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_SIZE, heartbeat=HEARTBEAT)
    if not ws.can_prepare(request).ok:
        return web.Response(
            status=426, text="this URL speaks WebSocket\n", headers={"Upgrade": "websocket"}
        )
    await ws.prepare(request)  # the 101 Switching Protocols answer
    if room.token is not None and not secrets.compare_digest(
        request.query.get("join", "").encode(), room.token.encode()
    ):
        await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"missing or wrong join token")
        return ws

    me = Member(
        room.unique(request.query.get("name", "").strip()[:MAX_NAME_LENGTH]),
        ws,
        request.transport,
    )
    with contextlib.suppress(ConnectionError):
        await ws.send_json({"type": "history", "messages": list(room.history)})
    room.members.append(me)
    try:
        await _broadcast(room, {"type": "join", "name": me.name, "members": room.names()})
        async for message in ws:
            if message.type is WSMsgType.TEXT:
                event = {"type": "message", "name": me.name, "text": _text(message.data)}
                room.history.append(event)
                await _broadcast(room, event)
    finally:
        # Still a member, or already dropped by _broadcast for being too slow: either way the
        # others hear that this member left. This handler may be ending because its client
        # vanished, so announce in a task.
        if me in room.members:
            room.members.remove(me)
        if not room.closing:
            event = {"type": "leave", "name": me.name, "members": room.names()}
            task = asyncio.ensure_future(_broadcast(room, event))
            room.tasks.add(task)
            task.add_done_callback(room.tasks.discard)
    return ws


def _text(raw: str) -> str:
    """The "text" of a JSON object, else the raw message; at most MAX_TEXT_LENGTH characters."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict) and isinstance(data.get("text"), str):
        raw = data["text"]
    return raw[:MAX_TEXT_LENGTH]


async def _send(member: Member, text: str) -> None:
    async with asyncio.timeout(SEND_TIMEOUT):
        await member.ws.send_str(text)


async def _broadcast(room: Room, event: dict[str, Any]) -> None:
    """Send to every member at once, each with a time limit: a member that does not accept
    the message in time (it stopped reading) is dropped instead of holding up the others."""
    text = json.dumps(event)
    members = list(room.members)
    results = await asyncio.gather(*(_send(m, text) for m in members), return_exceptions=True)
    for member, result in zip(members, results, strict=True):
        if isinstance(result, BaseException) and member in room.members:
            room.members.remove(member)
            if member.transport is not None:
                member.transport.abort()  # its handler then announces that it left


async def _close_all(app: web.Application) -> None:
    """On shutdown, say goodbye (1001, going away) so that the server stops at once."""
    room = app[ROOM]
    room.closing = True
    members, room.members = list(room.members), []
    await asyncio.gather(
        *(
            m.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")
            for m in members
        ),
        return_exceptions=True,
    )
    await asyncio.gather(*room.tasks, return_exceptions=True)


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Class chat</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0; padding: 12px; color: #222; }
  h1 { font-size: 18px; margin: 0 0 6px; }
  #status { color: #555; margin: 0 0 8px; }
  #log { list-style: none; padding: 6px 8px; margin: 0 0 8px; height: 200px; overflow-y: auto;
         border: 1px solid #ccc; border-radius: 4px; background: #fafafa; }
  #log .notice { color: #666; font-style: italic; }
  #log b { color: #0d47a1; }
  form { display: flex; gap: 6px; }
  [hidden] { display: none !important; }
  input { flex: 1; padding: 4px 6px; }
</style>
</head>
<body>
<h1>Class chat</h1>
<p id="status">Choose a name and join.</p>
<ul id="log"></ul>
<form id="join"><input id="name" placeholder="your name" maxlength="32" required>
  <button>Join</button></form>
<form id="say" hidden><input id="text" placeholder="say something" maxlength="500"
  autocomplete="off" required> <button>Send</button></form>
<script>
"use strict";
const log = document.getElementById("log");
const status = document.getElementById("status");
const joinForm = document.getElementById("join");
const sayForm = document.getElementById("say");
const nameInput = document.getElementById("name");
const textInput = document.getElementById("text");
const pageQuery = new URLSearchParams(location.search);
let socket = null;

// Other people's text is always inserted with textContent, never as HTML.
function show(parts, notice) {
  const item = document.createElement("li");
  if (notice) item.className = "notice";
  for (const [text, bold] of parts) {
    const node = bold ? document.createElement("b") : document.createTextNode(text);
    if (bold) node.textContent = text;
    item.append(node);
  }
  log.append(item);
  log.scrollTop = log.scrollHeight;
}

function render(event) {
  if (event.type === "history") {
    event.messages.forEach(render);
  } else if (event.type === "message") {
    show([[event.name, true], [": " + event.text, false]]);
  } else if (event.type === "join" || event.type === "leave") {
    const verb = event.type === "join" ? " joined" : " left";
    show([[event.name + verb + " (here: " + event.members.join(", ") + ")", false]], true);
  }
}

function join(name) {
  // The WebSocket URL is relative to this page: /ws here, and
  // /user/<you>/proxy/<port>/ws through a JupyterHub's proxy.
  const url = new URL("ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  url.search = "";
  url.searchParams.set("name", name);
  if (pageQuery.get("join")) url.searchParams.set("join", pageQuery.get("join"));
  socket = new WebSocket(url);
  status.textContent = "Connecting...";
  socket.addEventListener("open", () => {
    status.textContent = "Connected as " + name + ".";
    joinForm.hidden = true;
    sayForm.hidden = false;
    textInput.focus();
  });
  socket.addEventListener("message", (message) => render(JSON.parse(message.data)));
  socket.addEventListener("close", (closed) => {
    status.textContent = "Disconnected (close code " + closed.code +
      (closed.reason ? ": " + closed.reason : "") + ").";
    joinForm.hidden = false;
    sayForm.hidden = true;
  });
}

joinForm.addEventListener("submit", (submitted) => {
  submitted.preventDefault();
  join(nameInput.value.trim());
});
sayForm.addEventListener("submit", (submitted) => {
  submitted.preventDefault();
  socket.send(JSON.stringify({type: "message", text: textInput.value}));
  textInput.value = "";
});
if (pageQuery.get("name")) {
  nameInput.value = pageQuery.get("name");
  join(nameInput.value);
}
</script>
</body>
</html>
"""
