"""The live feed page of lesson 13: an aiohttp app with an HTML page at `/` that follows the
server-sent events of `events` with the browser's `EventSource`, and `publish` for the kernel.

    server = httplab.serve_aiohttp(ssepage.create_app(), name="feed-page")
    IFrame(ssepage.page_url(server), width="100%", height=300)
    requests.post(f"{server.url}/publish", json={"text": "hello"}, timeout=5)

The page opens its stream at a URL relative to itself (`new URL('events', location.href)`),
so it works straight on loopback and through jupyter-server-proxy on a JupyterHub
(`<hub>/user/<name>/proxy/PORT/`, trailing slash kept), exactly like lesson 09's chat page,
whose `page_url` this module reuses. jupyter-server-proxy 4.6 passes a response on piece by
piece only when the request says `Accept: text/event-stream`, which EventSource does.

    GET  events     text/event-stream: `retry: 1000`, then every message as `id: n`,
                    `event: note`, `data: <text>`; a newcomer first gets the last messages,
                    a reconnecting EventSource (Last-Event-ID) only the ones it missed; a
                    `: heartbeat` comment after HEARTBEAT seconds of silence
    POST publish    {"text": "..."} (at most 500 characters): 204; bad body: 400
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass, field

from aiohttp import web

from .chatpage import page_url
from .courseapi.streaming import sse_event

__all__ = ["create_app", "page_url"]

HISTORY = 100  # messages kept for newcomers and for reconnecting pages
QUEUED = 100  # messages waiting for one slow page before it is dropped
HEARTBEAT = 15.0  # seconds of silence before a comment keeps proxies from closing the stream
MAX_TEXT_LENGTH = 500


@dataclass
class Feed:
    """The messages so far and the queue of every page listening."""

    history: deque[tuple[int, str]] = field(default_factory=lambda: deque(maxlen=HISTORY))
    listeners: set[asyncio.Queue[tuple[int, str] | None]] = field(default_factory=set)
    last_id: int = 0

    def publish(self, text: str) -> None:
        self.last_id += 1
        message = (self.last_id, text)
        self.history.append(message)
        for queue in list(self.listeners):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:  # a page that stopped reading: let it go
                self.listeners.discard(queue)
                queue.get_nowait()
                queue.put_nowait(None)


FEED = web.AppKey("feed", Feed)


def create_app() -> web.Application:
    """The page, its event stream and the publish endpoint."""
    app = web.Application()
    app[FEED] = Feed()
    app.router.add_get("/", page)
    app.router.add_get("/events", events)
    app.router.add_post("/publish", publish)
    app.on_shutdown.append(_end_streams)
    return app


async def page(request: web.Request) -> web.Response:
    return web.Response(text=PAGE, content_type="text/html")


def _event(message: tuple[int, str]) -> bytes:
    number, text = message
    return sse_event(text, id=str(number), event="note")


async def events(request: web.Request) -> web.StreamResponse:
    """One listening page, from its first byte until it goes away."""
    feed = request.app[FEED]
    last = request.headers.get("Last-Event-ID", "")
    queue: asyncio.Queue[tuple[int, str] | None] = asyncio.Queue(QUEUED)
    feed.listeners.add(queue)
    response = web.StreamResponse(headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    response.content_type = "text/event-stream"
    try:
        await response.prepare(request)
        await response.write(b"retry: 1000\n\n")
        after = int(last) if last.isdigit() else 0
        for message in list(feed.history):
            if message[0] > after:
                await response.write(_event(message))
        while True:
            try:
                async with asyncio.timeout(HEARTBEAT):
                    message = await queue.get()
            except TimeoutError:
                await response.write(b": heartbeat\n\n")
                continue
            if message is None:  # the server is stopping, or this page fell behind
                break
            await response.write(_event(message))
    except ConnectionError:  # the page went away
        pass
    finally:
        feed.listeners.discard(queue)
    return response


async def publish(request: web.Request) -> web.Response:
    """Send {"text": ...} to every listening page."""
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        return web.json_response({"error": 'send {"text": "..."}'}, status=400)
    request.app[FEED].publish(text[:MAX_TEXT_LENGTH])
    return web.Response(status=204)


async def _end_streams(app: web.Application) -> None:
    """On shutdown, end every stream so that the server stops at once."""
    for queue in list(app[FEED].listeners):
        with contextlib.suppress(asyncio.QueueFull):
            queue.put_nowait(None)


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Live feed</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0; padding: 12px; color: #222; }
  h1 { font-size: 18px; margin: 0 0 6px; }
  #status { color: #555; margin: 0 0 8px; }
  #log { list-style: none; padding: 6px 8px; margin: 0; height: 180px; overflow-y: auto;
         border: 1px solid #ccc; border-radius: 4px; background: #fafafa; }
  #log b { color: #0d47a1; margin-right: 6px; }
</style>
</head>
<body>
<h1>Live feed</h1>
<p id="status">Connecting...</p>
<ul id="log"></ul>
<script>
"use strict";
const log = document.getElementById("log");
const status = document.getElementById("status");
// Relative to this page: /events here, /user/<you>/proxy/<port>/events through a hub.
const source = new EventSource(new URL("events", location.href));
source.addEventListener("open", () => { status.textContent = "Connected."; });
source.addEventListener("error", () => {
  status.textContent = source.readyState === EventSource.CONNECTING
    ? "Reconnecting..." : "Closed.";
});
source.addEventListener("note", (event) => {
  const item = document.createElement("li");
  const number = document.createElement("b");
  number.textContent = "#" + event.lastEventId;
  item.append(number, document.createTextNode(event.data));  // text, never HTML
  log.append(item);
  log.scrollTop = log.scrollHeight;
});
</script>
</body>
</html>
"""
