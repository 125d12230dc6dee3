"""Streaming endpoints: a paced chunked body, a capped streaming upload, a server-sent events
feed that can drop its connection and resume with Last-Event-ID, and an LLM-style token stream.

Every streamed response is recorded per client (``GET /api/stats/{client}/streams``): how much
the server sent and how the stream ended ("complete", "dropped" on purpose, or "client gone"
when the client stopped reading and closed), so a lesson can prove that a server noticed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .errors import ApiError
from .inputs import query_float, query_int, read_json_object, text, validate
from .lru import LRUDict
from .stats import client_id

MAX_TRACKED = 1000  # clients and feeds remembered at most (oldest dropped)
STREAMS_KEPT = 50  # streams remembered per client
MAX_CHUNKED = 64 * 1024 * 1024  # bytes one /api/stream/chunks response may total
UPLOAD_LIMIT = 8 * 1024 * 1024  # default cap of /api/upload
UPLOAD_MAX = 64 * 1024 * 1024
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
REPLY = (
    "Server-sent events carry each token to you the moment it exists, so the first words "
    "arrive long before the last ones. Read them as they come, show them as they come, "
    "and stop reading when you have seen enough."
)

routes = web.RouteTableDef()


@dataclass
class Stream:
    """One streamed response: what it was, how much the server sent, how it ended."""

    path: str
    last_event_id: str | None = None
    sent: int = 0  # chunks, events or tokens written
    ended: str | None = None  # None while running; "complete", "dropped", "client gone"
    opened: float = field(default_factory=time.monotonic)  # the server's clock, in seconds
    closed: float | None = None

    def end(self, how: str) -> None:
        """Record how the stream ended (the first reason given wins) and when."""
        if self.ended is None:
            self.ended, self.closed = how, time.monotonic()

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "last_event_id": self.last_event_id,
            "sent": self.sent,
            "ended": self.ended,
            "opened": round(self.opened, 3),
            "closed": None if self.closed is None else round(self.closed, 3),
        }


@dataclass
class Feed:
    """The SSE feed of one (client, key): connections so far and the highest id published."""

    connections: int = 0
    published: int = 0


@dataclass
class StreamStore:
    """Recent streams per client, and the state of every SSE feed."""

    streams: LRUDict[str, deque[Stream]] = field(default_factory=lambda: LRUDict(MAX_TRACKED))
    feeds: LRUDict[tuple[str, str], Feed] = field(default_factory=lambda: LRUDict(MAX_TRACKED))

    def reset(self) -> None:
        """Forget every stream and feed."""
        self.streams = LRUDict(MAX_TRACKED)
        self.feeds = LRUDict(MAX_TRACKED)

    def start(self, request: web.Request, last_event_id: str | None = None) -> Stream:
        """Record a new stream of the requesting client."""
        kept = self.streams.get_or_create(client_id(request), lambda: deque(maxlen=STREAMS_KEPT))
        stream = Stream(request.path, last_event_id)
        kept.append(stream)
        return stream


STREAMS = web.AppKey("streams", StreamStore)


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def _send(request: web.Request, response: web.StreamResponse, data: bytes) -> None:
    """Write, or raise ConnectionResetError if the client has gone away."""
    if _gone(request):
        raise ConnectionResetError("the client went away")
    await response.write(data)


async def _run(stream: Stream, body: Any) -> None:
    """Await the coroutine `body` that writes the stream; record how the stream ended."""
    try:
        await body
    except ConnectionError:
        stream.end("client gone")
    except asyncio.CancelledError:
        stream.end("client gone")
        raise
    else:
        stream.end("complete")


def _chunk(number: int, size: int) -> bytes:
    """Chunk `number` of /api/stream/chunks: a line of `size` bytes, e.g. b"0000001----\\n"."""
    return f"{number:07d}".ljust(size - 1, "-").encode() + b"\n"


@routes.get("/api/stream/chunks")
async def chunks(request: web.Request) -> web.StreamResponse:
    """`count` lines of `size` bytes each, written `delay` seconds apart, chunked."""
    count = query_int(request, "count", 10, 1, 100_000)
    size = query_int(request, "size", 64, 8, 1024 * 1024)
    delay = query_float(request, "delay", 0.0, 0, 5)
    if count * size > MAX_CHUNKED:
        raise ApiError(400, f"count * size must be at most {MAX_CHUNKED} bytes")
    stream = request.app[STREAMS].start(request)
    response = web.StreamResponse(headers={"X-Accel-Buffering": "no"})
    response.content_type = "text/plain"
    response.enable_chunked_encoding()
    await response.prepare(request)
    if request.method == "HEAD":
        return response

    async def body() -> None:
        for number in range(1, count + 1):
            if number > 1 and delay:
                await asyncio.sleep(delay)
            await _send(request, response, _chunk(number, size))
            stream.sent = number
        await response.write_eof()

    await _run(stream, body())
    return response


@routes.post("/api/upload")
async def upload(request: web.Request) -> web.Response:
    """Read the body piece by piece: its size, SHA-256 and pieces; 413 past `limit` bytes."""
    limit = query_int(request, "limit", UPLOAD_LIMIT, 1, UPLOAD_MAX)
    too_large = ApiError(
        413,
        f"the body is larger than {limit} bytes; nothing was kept",
        headers={"Connection": "close"},
    )
    if request.content_length is not None and request.content_length > limit:
        raise too_large  # refused before reading a byte of it
    digest, size, pieces = hashlib.sha256(), 0, 0
    async for piece in request.content.iter_any():
        size += len(piece)
        if size > limit:
            raise too_large
        digest.update(piece)
        pieces += 1
    return web.json_response(
        {
            "bytes": size,
            "pieces": pieces,
            "sha256": digest.hexdigest(),
            "chunked": "chunked" in request.headers.get("Transfer-Encoding", "").lower(),
        }
    )


def sse_event(data: str, *, id: str | None = None, event: str | None = None) -> bytes:
    """One server-sent event: `id:`, `event:`, a `data:` line per line of data, a blank line."""
    lines = [f"id: {id}"] if id is not None else []
    lines += [f"event: {event}"] if event is not None else []
    lines += [f"data: {line}" for line in data.split("\n")]
    return ("\n".join(lines) + "\n\n").encode()


async def _open_sse(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers=SSE_HEADERS)
    response.content_type = "text/event-stream"
    response.enable_chunked_encoding()
    await response.prepare(request)
    return response


async def _wait(
    request: web.Request, response: web.StreamResponse, seconds: float, heartbeat: float
) -> None:
    """Sleep `seconds`, writing a `: heartbeat` comment every `heartbeat` seconds meanwhile."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if left > heartbeat:
            await asyncio.sleep(heartbeat)
            await _send(request, response, b": heartbeat\n\n")
        else:
            await asyncio.sleep(left)


@routes.get("/api/sse/feed")
async def feed(request: web.Request) -> web.StreamResponse:
    """Events 1..count (`id: n`, `event: tick`, `data: {"n": n}`), resumable with Last-Event-ID."""
    count = query_int(request, "count", 10, 1, 1000)
    interval = query_float(request, "interval", 0.05, 0, 5)
    heartbeat = query_float(request, "heartbeat", 15.0, 0.01, 60)
    retry = query_int(request, "retry", 1000, 0, 60_000)
    drop_after = query_int(request, "drop_after", 0, 0, 1000)
    drops = query_int(request, "drops", 1, 0, 100)
    replay = query_int(request, "replay", 100, 1, 1000)
    key = request.query.get("key", "default")[:64]
    raw_last = request.headers.get("Last-Event-ID")
    last = 0
    if raw_last is not None and raw_last.strip():
        if not raw_last.strip().isdigit() or int(raw_last) > count:
            raise ApiError(400, f"Last-Event-ID must be an event id from 1 to {count}")
        last = int(raw_last)
    store = request.app[STREAMS]
    state = store.feeds.get_or_create((client_id(request), key), Feed)
    state.connections += 1
    stream = store.start(request, raw_last)
    if last >= count:
        stream.end("complete")
        return web.Response(status=204)  # all delivered: an EventSource stops reconnecting
    if request.method == "HEAD":
        stream.end("complete")
        return web.Response(content_type="text/event-stream", headers=SSE_HEADERS)
    drop_here = drop_after if drop_after and state.connections <= drops else 0
    response = await _open_sse(request)

    async def body() -> None:
        await _send(request, response, f"retry: {retry}\n\n".encode())
        first = last + 1
        oldest = state.published - replay + 1
        if first < oldest:  # older than the replay buffer: say what was lost, go on from there
            gap = json.dumps({"missed_from": first, "resume_at": oldest})
            await _send(request, response, sse_event(gap, event="gap"))
            first = oldest
        for number in range(first, count + 1):
            if number > first:
                await _wait(request, response, interval, heartbeat)
            event = sse_event(json.dumps({"n": number}), id=str(number), event="tick")
            await _send(request, response, event)
            state.published = max(state.published, number)
            stream.sent += 1
            if drop_here and stream.sent >= drop_here:  # even after the last event
                stream.end("dropped")
                assert request.transport is not None
                request.transport.abort()  # mid-stream, without the last chunk
                return
        await response.write_eof()

    await _run(stream, body())
    return response


def _tokens(max_tokens: int) -> list[str]:
    words = REPLY.split(" ")
    return [word if i == 0 else " " + word for i, word in enumerate(words)][:max_tokens]


def _chunk_event(completion: str, delta: dict[str, str], finish: str | None) -> bytes:
    chunk = {
        "id": completion,
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return sse_event(json.dumps(chunk))


def _messages(value: Any) -> str | None:
    if not isinstance(value, list) or not value:
        return "must be a non-empty array of {role, content} objects"
    for message in value:
        if not isinstance(message, dict) or text(100_000)(message.get("content")) is not None:
            return "every message must be an object with a non-empty string content"
    return None


@routes.post("/api/llm/chat/completions")
async def chat_completions(request: web.Request) -> web.StreamResponse:
    """A chat-completion API: with `"stream": true`, tokens as `data: {json}`, then [DONE]."""
    ttft = query_float(request, "ttft", 0.2, 0, 10)
    rate = query_float(request, "rate", 50.0, 0, 10_000, minimum_allowed=False)
    body = await read_json_object(request)
    validate(body, {"messages": _messages})
    max_tokens = body.get("max_tokens", 1000)
    if type(max_tokens) is not int or max_tokens < 1:
        raise ApiError(422, "some fields are missing or invalid", fields={"max_tokens": ">= 1"})
    tokens = _tokens(max_tokens)
    finish = "stop" if len(tokens) == len(_tokens(1000)) else "length"
    completion = f"chatcmpl-{hashlib.sha256(json.dumps(body).encode()).hexdigest()[:12]}"
    if body.get("stream") is not True:
        await asyncio.sleep(ttft + len(tokens) / rate)
        message = {"role": "assistant", "content": "".join(tokens)}
        return web.json_response(
            {
                "id": completion,
                "object": "chat.completion",
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {"completion_tokens": len(tokens)},
            }
        )
    stream = request.app[STREAMS].start(request)
    response = await _open_sse(request)

    async def write() -> None:
        await _send(request, response, _chunk_event(completion, {"role": "assistant"}, None))
        await asyncio.sleep(ttft)
        for number, token in enumerate(tokens):
            if number:
                await asyncio.sleep(1 / rate)
            await _send(request, response, _chunk_event(completion, {"content": token}, None))
            stream.sent += 1
        await _send(request, response, _chunk_event(completion, {}, finish))
        await _send(request, response, b"data: [DONE]\n\n")
        await response.write_eof()

    await _run(stream, write())
    return response


@routes.get("/api/stats/{client}/streams")
async def streams(request: web.Request) -> web.Response:
    """The client's last streams, oldest first (not counted in its stats)."""
    client = request.match_info["client"]
    kept = request.app[STREAMS].streams.get(client) or ()
    return web.json_response({"client": client, "streams": [s.as_json() for s in kept]})
