"""Tests of the course API's streaming endpoints (httplab.courseapi.streaming)."""

from __future__ import annotations

import asyncio
import hashlib
import json

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from test_courseapi import expect_error

from httplab.courseapi import create_app

ME = {"X-Client-Id": "streamer"}
CHAT = {"messages": [{"role": "user", "content": "hello"}], "stream": True}


@pytest.fixture
async def client(aiohttp_client) -> TestClient:
    return await aiohttp_client(create_app())


async def streams(client: TestClient) -> list[dict]:
    """The client's streams, without their times."""
    response = await client.get("/api/stats/streamer/streams")
    kept = (await response.json())["streams"]
    for stream in kept:
        assert stream.pop("opened") <= (stream.pop("closed") or float("inf"))
    return kept


def events(text: str) -> list[dict[str, str]]:
    """Blocks separated by blank lines, as {field: value} (comments under ":")."""
    found = []
    for block in text.split("\n\n"):
        if block:
            fields: dict[str, str] = {}
            for line in block.split("\n"):
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
            found.append(fields)
    return found


# --- chunked body ----------------------------------------------------------------------------


async def test_chunks_are_chunked_lines_of_the_size_asked(client):
    response = await client.get("/api/stream/chunks?count=3&size=10", headers=ME)
    assert response.status == 200
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in response.headers
    assert await response.read() == b"0000001--\n0000002--\n0000003--\n"
    assert await streams(client) == [
        {"path": "/api/stream/chunks", "last_event_id": None, "sent": 3, "ended": "complete"}
    ]


@pytest.mark.parametrize(
    "query", ["count=0", "size=7", "delay=-1", "delay=abc", "count=100000&size=1048576"]
)
async def test_chunks_reject_bad_queries(client, query):
    await expect_error(await client.get(f"/api/stream/chunks?{query}"), 400)


async def test_a_client_that_stops_reading_is_noticed(client):
    async with client.get("/api/stream/chunks?count=1000&delay=0.01", headers=ME) as response:
        await response.content.readline()
    for _ in range(100):
        (stream,) = await streams(client)
        if stream["ended"]:
            break
        await asyncio.sleep(0.02)
    assert stream["ended"] == "client gone" and stream["sent"] < 1000


# --- upload ----------------------------------------------------------------------------------


async def test_upload_reads_a_streamed_body_and_keeps_nothing(client):
    async def body():
        for _ in range(4):
            yield b"x" * 1000

    response = await client.post("/api/upload", data=body())
    answer = await response.json()
    assert answer["bytes"] == 4000 and answer["chunked"] is True
    assert answer["sha256"] == hashlib.sha256(b"x" * 4000).hexdigest()
    assert answer["pieces"] >= 1


async def test_upload_with_content_length_over_the_limit_is_413_at_once(client):
    body = await expect_error(await client.post("/api/upload?limit=100", data=b"x" * 101), 413)
    assert "nothing was kept" in body["detail"]


async def test_a_streamed_upload_over_the_limit_is_413(client):
    async def body():
        for _ in range(10):
            yield b"x" * 50

    await expect_error(await client.post("/api/upload?limit=100", data=body()), 413)


async def test_upload_rejects_a_bad_limit(client):
    await expect_error(await client.post("/api/upload?limit=0", data=b"x"), 400)


# --- server-sent events ----------------------------------------------------------------------


async def test_feed_sends_retry_then_events_with_ids(client):
    response = await client.get("/api/sse/feed?count=3&interval=0&retry=250", headers=ME)
    assert response.content_type == "text/event-stream"
    assert response.headers["X-Accel-Buffering"] == "no"
    assert response.headers["Cache-Control"] == "no-cache"
    got = events(await response.text())
    assert got[0] == {"retry": "250"}
    assert got[1:] == [
        {"id": str(n), "event": "tick", "data": json.dumps({"n": n})} for n in (1, 2, 3)
    ]


async def test_feed_sends_heartbeats_while_idle(client):
    response = await client.get("/api/sse/feed?count=2&interval=0.2&heartbeat=0.05")
    assert sum(e == {"": "heartbeat"} for e in events(await response.text())) >= 2


async def test_feed_drops_then_resumes_after_last_event_id(client):
    query = "/api/sse/feed?count=5&interval=0&drop_after=2&key=k"
    with pytest.raises(aiohttp.ClientPayloadError):
        async with client.get(query, headers=ME) as response:
            await response.read()
    resumed = await client.get(query, headers={**ME, "Last-Event-ID": "2"})
    ids = [e["id"] for e in events(await resumed.text()) if "id" in e]
    assert ids == ["3", "4", "5"]
    done = await client.get(query, headers={**ME, "Last-Event-ID": "5"})
    assert done.status == 204
    assert [(s["last_event_id"], s["sent"], s["ended"]) for s in await streams(client)] == [
        (None, 2, "dropped"),
        ("2", 3, "complete"),
        ("5", 0, "complete"),
    ]


async def test_feed_can_drop_right_after_its_last_event(client):
    query = "/api/sse/feed?count=2&interval=0&drop_after=2&key=end"
    with pytest.raises(aiohttp.ClientPayloadError):
        async with client.get(query, headers=ME) as response:
            await response.read()
    resumed = await client.get(query, headers={**ME, "Last-Event-ID": "2"})
    assert resumed.status == 204
    assert [(s["sent"], s["ended"]) for s in await streams(client)] == [
        (2, "dropped"),
        (0, "complete"),
    ]


async def test_feed_reports_a_gap_older_than_its_replay_buffer(client):
    await (await client.get("/api/sse/feed?count=6&interval=0&replay=2", headers=ME)).read()
    response = await client.get(
        "/api/sse/feed?count=6&interval=0&replay=2", headers={**ME, "Last-Event-ID": "1"}
    )
    got = events(await response.text())
    assert got[1] == {"event": "gap", "data": json.dumps({"missed_from": 2, "resume_at": 5})}
    assert [e["id"] for e in got if "id" in e] == ["5", "6"]


async def test_feed_answers_head_at_once(client):
    response = await client.head("/api/sse/feed?count=5&interval=1")
    assert response.status == 200 and response.content_type == "text/event-stream"


@pytest.mark.parametrize("last", ["abc", "-1", "11"])
async def test_feed_rejects_a_bad_last_event_id(client, last):
    await expect_error(await client.get("/api/sse/feed", headers={"Last-Event-ID": last}), 400)


# --- LLM-style token stream ------------------------------------------------------------------


async def test_chat_completion_streams_tokens_then_done(client):
    response = await client.post("/api/llm/chat/completions?ttft=0&rate=1000", json=CHAT)
    assert response.content_type == "text/event-stream"
    data = [e["data"] for e in events(await response.text())]
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant"}
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text.startswith("Server-sent events carry each token")


async def test_chat_completion_without_stream_and_max_tokens(client):
    body = {**CHAT, "stream": False, "max_tokens": 2}
    response = await client.post("/api/llm/chat/completions?ttft=0&rate=1000", json=body)
    answer = await response.json()
    assert answer["choices"][0]["message"]["content"] == "Server-sent events"
    assert answer["choices"][0]["finish_reason"] == "length"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 422),
        ({"messages": []}, 422),
        ({"messages": [{"role": "user"}]}, 422),
        ({**CHAT, "max_tokens": 0}, 422),
        ([1], 400),
    ],
)
async def test_chat_completion_rejects_bad_bodies(client, body, status):
    await expect_error(await client.post("/api/llm/chat/completions", json=body), status)


async def test_chat_completion_rejects_a_bad_rate(client):
    await expect_error(await client.post("/api/llm/chat/completions?rate=0", json=CHAT), 400)


async def test_reset_forgets_streams(client):
    await (await client.get("/api/stream/chunks?count=1", headers=ME)).read()
    assert (await client.post("/api/reset")).status == 204
    assert await streams(client) == []
