"""Lesson 13's checks reject the classic mistakes, each with the message that names the fix,
and accept correct answers written differently from the solutions.

13.1: splitting on every newline, one read at a time, LF only, forgetting ids, the last data
line winning, strip(), empty events (also a `retry:`-only block), reading everything first,
retry through int(), a CRLF split across reads. 13.2: no reconnection, reconnecting without
Last-Event-ID or with the wrong one, at once, forever, a fixed number of times, raw strings,
no 204 check.
13.3: the whole body at the end, no blank lines, text/plain, going on after the client left,
compression, no ids, sleeping instead of working, no `done` event.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
import re
import time

import httpx
import pytest
import requests
from aiohttp import web
from aiohttp_sse import sse_response
from exercise_testing import assert_incorrect
from httpx_sse import connect_sse

from httplab.checks import Outcome
from httplab.exercises.lesson13 import q1, q2, q3, work

# --- 13.1 parse_sse --------------------------------------------------------------------------


def fields(line: str) -> tuple[str, str]:
    name, _, value = line.partition(":")
    return name, value.removeprefix(" ")


def lines_of(chunks, split=lambda text: text.split("\n")):
    """A learner's line reader: the stream decoded whole, then split (not lazy)."""
    text = b"".join(chunks).decode()
    return split(text)


def event_parser(
    lines, *, keep_id=True, join=True, strip=False, empty=False, reset=True, int_retry=False
):
    """A learner's dispatcher over lines, with one of the classic mistakes switched on."""
    event, data, last_id, retry = "", [], None, None
    for line in lines:
        if not line:
            if data or empty:
                yield {"event": event or "message", "data": "\n".join(data), "id": last_id,
                       "retry": retry}  # fmt: skip
            data = []
            event = "" if reset else event
            last_id = last_id if keep_id else None
            continue
        if line.startswith(":"):
            continue
        name, value = fields(line)
        value = value.strip() if strip else value
        if name == "event":
            event = value
        elif name == "data":
            data = [*data, value] if join else [value]
        elif name == "id":
            last_id = value
        elif name == "retry" and int_retry:
            with contextlib.suppress(ValueError):
                retry = int(value)
        elif name == "retry" and value.isdigit():
            retry = int(value)


def good_lines(chunks):
    """Lazy lines, all three line ends (a correct reader)."""
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        while True:
            cut = min((i for i in (buffer.find(b"\r"), buffer.find(b"\n")) if i >= 0), default=-1)
            if cut < 0 or (buffer[cut:] == b"\r"):
                break
            end = cut + 2 if buffer[cut : cut + 2] == b"\r\n" else cut + 1
            yield buffer[:cut].decode()
            buffer = buffer[end:]


def split_on_every_newline(chunks):
    for line in lines_of(chunks):
        if line.startswith("data:"):
            yield {"event": "message", "data": fields(line)[1], "id": None, "retry": None}


def one_read_at_a_time(chunks):
    for chunk in chunks:
        yield from event_parser(good_lines([chunk]))


def lf_only(chunks):
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        *complete, rest = buffer.split(b"\n")
        buffer = rest
        yield from event_parser(line.decode() for line in complete)


def forgets_ids(chunks):
    yield from event_parser(good_lines(chunks), keep_id=False)


def last_data_line_wins(chunks):
    yield from event_parser(good_lines(chunks), join=False)


def strips_values(chunks):
    yield from event_parser(good_lines(chunks), strip=True)


def yields_empty_events(chunks):
    yield from event_parser(good_lines(chunks), empty=True)


def keeps_the_event_type(chunks):
    yield from event_parser(good_lines(chunks), reset=False)


def reads_everything_first(chunks):
    text = b"".join(chunks).decode().replace("\r\n", "\n").replace("\r", "\n")
    yield from event_parser(text.split("\n"))


def yields_a_retry_only_block(chunks):
    """Yields every block that set any field, not only those with data."""
    event, data, last_id, retry, touched = "", [], None, None, False
    for line in good_lines(chunks):
        if not line:
            if data or touched:
                yield {"event": event or "message", "data": "\n".join(data), "id": last_id,
                       "retry": retry}  # fmt: skip
            event, data, touched = "", [], False
        elif not line.startswith(":"):
            name, value = fields(line)
            touched = True
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
            elif name == "id":
                last_id = value
            elif name == "retry" and value.isdigit():
                retry = int(value)


def retry_through_int(chunks):
    yield from event_parser(good_lines(chunks), int_retry=True)


def cr_ends_the_line_at_once(chunks):
    """Each line end as soon as it is seen, so a CRLF split across reads counts twice."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    pending = ""

    def lines():
        nonlocal pending
        for chunk in chunks:
            pending += decoder.decode(chunk)
            while match := re.search("\r\n|\r|\n", pending):
                yield pending[: match.start()]
                pending = pending[match.end() :]

    yield from event_parser(lines())


def returns_a_list(chunks):
    return list(event_parser(good_lines(chunks)))


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (split_on_every_newline, "an event ends at a blank line"),
        (one_read_at_a_time, "keep what is left over"),
        (lf_only, "lines may end in \\r\\n, \\n or \\r"),
        (forgets_ids, "stays in force for later events"),
        (last_data_line_wins, 'join them with "\\n"'),
        (strips_values, "remove only ONE space"),
        (yields_empty_events, "a block with no `data:` line yields no"),
        (keeps_the_event_type, 'is a "message" again'),
        (reads_everything_first, "yield each event as soon as its blank"),
        (returns_a_list, "make it a generator"),
        (yields_a_retry_only_block, "a block of only `retry:`"),
        (retry_through_int, "`int()` also accepts `-1`"),
        (cr_ends_the_line_at_once, "may be the first half of `\\r\\n`"),
    ],
)
def test_parse_sse_wrong_answers(wrong, message):
    assert_incorrect(q1.check(wrong), message)


def test_parse_sse_accepts_a_different_correct_answer():
    def parse_sse(chunks):
        decoder = codecs.getincrementaldecoder("utf-8")()
        pending, held_cr = "", False
        state = {"event": "", "data": None, "id": None, "retry": None}
        for chunk in chunks:
            text = ("\r" if held_cr else "") + decoder.decode(chunk)
            held_cr = text.endswith("\r")
            text = text[:-1] if held_cr else text
            pending += text.replace("\r\n", "\n").replace("\r", "\n")
            *complete, pending = pending.split("\n")
            for line in complete:
                if line == "":
                    if state["data"] is not None:
                        yield {"event": state["event"] or "message", "data": state["data"],
                               "id": state["id"], "retry": state["retry"]}  # fmt: skip
                    state["event"], state["data"] = "", None
                elif not line.startswith(":"):
                    name, value = fields(line)
                    if name == "data":
                        state["data"] = (
                            value if state["data"] is None else state["data"] + "\n" + value
                        )
                    elif name in ("event", "id"):
                        state[name] = value
                    elif name == "retry" and value.isdigit():
                        state["retry"] = int(value)

    result = q1.check(parse_sse)
    assert result.outcome is Outcome.CORRECT, result.message


# --- 13.2 follow -----------------------------------------------------------------------------


def follower(*, resume=True, wait=True, offset=0, decode=True, only_ticks=True, attempts=None):
    """A learner's follow(url) with httpx-sse, one of the classic mistakes switched on."""

    def follow(url):
        received, last_id, retry = [], None, 1000
        with httpx.Client(timeout=5) as client:
            for _attempt in range(attempts or 1000):
                headers = {}
                if resume and last_id:
                    headers["Last-Event-ID"] = str(int(last_id) + offset)
                try:
                    with connect_sse(client, "GET", url, headers=headers) as source:
                        if source.response.status_code == 204 and attempts is None:
                            return received
                        if source.response.status_code == 204:
                            continue
                        for sse in source.iter_sse():
                            retry = sse.retry if sse.retry is not None else retry
                            if sse.event == "tick" or not only_ticks:
                                received.append(json.loads(sse.data) if decode else sse.data)
                                last_id = sse.id
                    if attempts is None:
                        return received
                except httpx.TransportError:
                    if wait:
                        time.sleep(retry / 1000)
        return received

    return follow


def gives_up_at_the_drop(url):
    received = []
    with httpx.Client(timeout=5) as client:
        try:
            with connect_sse(client, "GET", url) as source:
                for sse in source.iter_sse():
                    if sse.event == "tick":
                        received.append(json.loads(sse.data))
        except httpx.RemoteProtocolError:
            pass
    return received


def no_204_check(url):
    """Resumes after every drop, but reads the 204 that ends the feed as an event stream."""
    received, last_id = [], None
    with httpx.Client(timeout=5) as client:
        while True:
            headers = {"Last-Event-ID": last_id} if last_id else {}
            try:
                with connect_sse(client, "GET", url, headers=headers) as source:
                    for sse in source.iter_sse():
                        if sse.event == "tick":
                            received.append(json.loads(sse.data))
                            last_id = sse.id
                return received
            except httpx.RemoteProtocolError:
                time.sleep(0.15)


def never_catches_the_drop(url):
    with httpx.Client(timeout=5) as client, connect_sse(client, "GET", url) as source:
        return [json.loads(sse.data) for sse in source.iter_sse() if sse.event == "tick"]


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (gives_up_at_the_drop, "you did not connect again"),
        (never_catches_the_drop, "raised RemoteProtocolError when the"),
        (follower(resume=False), "without the Last-Event-ID header"),
        (follower(offset=1), "send the id of the last event you received"),
        (follower(wait=False), "you reconnected at once"),
        (follower(attempts=6), "after the feed had ended"),
        (follower(attempts=3), "dropped the stream after event 9 and you did not connect"),
        (no_204_check, "`event_source.response.status_code == 204`"),
        (follower(decode=False), "decoded from JSON"),
        (follower(only_ticks=False), "keep only the `tick` events"),
    ],
)
def test_follow_wrong_answers(wrong, message):
    assert_incorrect(q2.check(wrong), message)


def test_follow_accepts_a_different_correct_answer():
    def follow(url):
        received, headers, delay = [], {}, 1.0
        with requests.Session() as session:
            while True:
                try:
                    with session.get(url, headers=headers, stream=True, timeout=5) as response:
                        if response.status_code == 204:
                            return received
                        event = {}
                        for line in response.iter_lines(decode_unicode=True):
                            if line:
                                name, value = fields(line)
                                event[name] = value
                                continue
                            if "retry" in event:
                                delay = int(event["retry"]) / 1000
                            if event.get("event") == "tick":
                                received.append(json.loads(event["data"]))
                                headers["Last-Event-ID"] = event["id"]
                            event = {}
                    return received
                except requests.exceptions.ChunkedEncodingError:
                    time.sleep(delay)

    result = q2.check(follow)
    assert result.outcome is Outcome.CORRECT, result.message


# --- 13.3 progress ---------------------------------------------------------------------------


def event_bytes(steps: int, done: int, *, end: str = "\n\n", with_id: bool = True) -> bytes:
    data = json.dumps({"done": done, "total": steps})
    head = f"id: {done}\n" if with_id else ""
    return f"{head}event: progress\ndata: {data}{end}".encode()


def done_bytes(steps: int, end: str = "\n\n") -> bytes:
    return f"event: done\ndata: {json.dumps({'total': steps})}{end}".encode()


def streamer(*, end="\n\n", media="text/event-stream", go_on=False, compress=False, ids=True):
    """A learner's handler that streams, with one of the classic mistakes switched on."""

    async def progress(request):
        steps = int(request.query["steps"])
        response = web.StreamResponse()
        response.content_type = media
        if compress:
            response.enable_compression()
        await response.prepare(request)
        for done in range(1, steps + 1):
            await work(request)
            try:
                await response.write(event_bytes(steps, done, end=end, with_id=ids))
            except ConnectionResetError:
                if not go_on:
                    raise
        await response.write(done_bytes(steps, end))
        return response

    return progress


async def sleeps_instead_of_working(request):
    steps = int(request.query["steps"])
    response = web.StreamResponse()
    response.content_type = "text/event-stream"
    await response.prepare(request)
    for done in range(1, steps + 1):
        await asyncio.sleep(0.04)
        await response.write(event_bytes(steps, done))
    await response.write(done_bytes(steps))
    return response


async def forgets_the_done_event(request):
    steps = int(request.query["steps"])
    response = web.StreamResponse()
    response.content_type = "text/event-stream"
    await response.prepare(request)
    for done in range(1, steps + 1):
        await work(request)
        await response.write(event_bytes(steps, done))
    return response


async def whole_body_at_the_end(request):
    steps = int(request.query["steps"])
    body = b""
    for done in range(1, steps + 1):
        await work(request)
        body += event_bytes(steps, done)
    return web.Response(body=body + done_bytes(steps), content_type="text/event-stream")


RUNNING: set[asyncio.Future] = set()


async def job_in_a_task_of_its_own(request):
    steps = int(request.query["steps"])
    events: asyncio.Queue[bytes] = asyncio.Queue()

    async def job():
        for done in range(1, steps + 1):
            await work(request)
            await events.put(event_bytes(steps, done))
        await events.put(done_bytes(steps))

    RUNNING.add(asyncio.ensure_future(job()))  # never cancelled: it outlives the request
    response = web.StreamResponse()
    response.content_type = "text/event-stream"
    await response.prepare(request)
    for _ in range(steps + 1):
        await response.write(await events.get())
    return response


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (whole_body_at_the_end, "send each event as soon as its step"),
        (streamer(end="\n"), "not separated by blank lines"),
        (streamer(media="text/plain"), "`text/event-stream`"),
        (streamer(go_on=True), "stop the job when the client goes away"),
        (job_in_a_task_of_its_own, "the server went on to step"),
        (streamer(compress=True), "do not enable it on an event stream"),
        (streamer(ids=False), "event 1 of steps=6 should be id: 1"),
        (sleeps_instead_of_working, "each step is `await work(request)`"),
        (forgets_the_done_event, "event 7 of steps=6 should be event: done"),
    ],
)
def test_progress_wrong_answers(wrong, message):
    assert_incorrect(q3.check(wrong), message)


def test_progress_rejects_a_plain_function():
    def progress(request):
        return web.Response(text="no")

    assert_incorrect(q3.check(progress), "write it with `async def`")


def test_progress_accepts_a_different_correct_answer():
    async def progress(request):
        steps = int(request.query["steps"])
        async with sse_response(request) as events:
            for done in range(1, steps + 1):
                await work(request)
                data = json.dumps({"done": done, "total": steps})
                await events.send(data, id=str(done), event="progress")
            await events.send(json.dumps({"total": steps}), event="done")
        return events

    result = q3.check(progress)
    assert result.outcome is Outcome.CORRECT, result.message
