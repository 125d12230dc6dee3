"""Exercises of lesson 13: parse an event stream by hand, follow a feed that drops, and serve
the progress of a long job as server-sent events.

13.1 feeds the learner's generator byte streams cut into network reads and watches when each
event comes out. 13.2 hands the learner's function a URL of the lab's /api/sse/feed that
drops the connection three times (the last right after event 9, so that the next
connection gets 204 No Content), then reads the server's record of every connection
(`/api/stats/{client}/streams`): the Last-Event-ID it carried and when it opened. 13.3 serves
the learner's aiohttp handler in a background thread, reads its stream as it arrives, then
hangs up mid-job and counts the steps the server still did.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from aiohttp import web

from .. import lab as _lab
from .. import servers
from ..checks import Exercise, Incorrect, NotAttempted, call, call_within


def _shown(value: Any, limit: int = 70) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- 13.1 parse_sse(chunks) -----------------------------------------------------------------


def _event(data: str, event: str = "message", id: str | None = None, retry: int | None = None):
    return {"event": event, "data": data, "id": id, "retry": retry}


SPLIT_READS = (
    "a network read may end anywhere, even inside a line or a UTF-8 character: keep what "
    "is left over and prepend it to the next read (and decode only complete lines, or "
    "use codecs.getincrementaldecoder('utf-8'))"
)
BLANK_LINE = (
    "an event ends at a blank line, not at every newline: collect its field lines until an "
    "empty line, then yield one event"
)

# (what the stream shows, its network reads, the events, what to fix when they differ)
CASES: list[tuple[str, list[bytes], list[dict[str, Any]], str]] = [
    (
        "one event",
        [b"data: hello\n\n"],
        [_event("hello")],
        "yield one dict per event with the keys event, data, id and retry (event is "
        '"message" unless an `event:` line names it; id and retry are None until set)',
    ),
    (
        "multi-line data",
        [b"data: first\ndata: second\n\n"],
        [_event("first\nsecond")],
        'every `data:` line adds a line to the data: join them with "\\n"',
    ),
    (
        "two named events",
        [b"event: tick\ndata: 1\n\nevent: tock\ndata: 2\n\ndata: 3\n\n"],
        [_event("1", "tick"), _event("2", "tock"), _event("3")],
        "`event:` sets the type of the one event it belongs to: the next event is a "
        '"message" again unless it has its own `event:` line',
    ),
    (
        "comments and heartbeats",
        [b": heartbeat\n\ndata: x\n:no space\ndata: y\n\n"],
        [_event("x\ny")],
        "a line that starts with `:` is a comment (a heartbeat): skip it, and a block with "
        "no `data:` line yields no event",
    ),
    (
        "ids",
        [b"id: 7\ndata: a\n\ndata: b\n\nid: 9\ndata: c\n\n"],
        [_event("a", id="7"), _event("b", id="7"), _event("c", id="9")],
        "`id:` sets the last event id, and it stays in force for later events until the next "
        "`id:` line: give every event the last id seen so far (a client resumes from it)",
    ),
    (
        "retry",
        [b"retry: 1500\n\ndata: a\n\nretry: soon\ndata: b\n\n"],
        [_event("a", retry=1500), _event("b", retry=1500)],
        "`retry:` followed by ASCII digits sets the reconnection time in ms (an int) for this "
        "and later events, even in a block with no data; ignore any other value",
    ),
    (
        "one space after the colon",
        [b"data:  two spaces\ndata:none\n\n"],
        [_event(" two spaces\nnone")],
        "remove only ONE space after the colon, if there is one (`data:  x` has the data "
        "' x'); strip() removes too much",
    ),
    (
        "CRLF and CR line ends",
        [b"event: tick\r\ndata: 1\r\n\r\ndata: a\rdata: b\r\rdata: c\n\n"],
        [_event("1", "tick"), _event("a\nb"), _event("c")],
        "lines may end in \\r\\n, \\n or \\r: treat all three as a line end",
    ),
    (
        "an event split across reads",
        [b"id: 3\nev", b"ent: tick\nda", b"ta: caf\xc3", b"\xa9\n", b"\n", b"data: ok\n\n"],
        [_event("café", "tick", id="3"), _event("ok", id="3")],
        SPLIT_READS,
    ),
    (
        "an incomplete last event",
        [b"data: a\n\ndata: cut off"],
        [_event("a")],
        "when the stream ends, an event without its blank line is incomplete: discard it",
    ),
    (
        "a block without data",
        [b"event: ping\n\ndata: x\n\n"],
        [_event("x")],
        "a block without `data:` yields no event, and its `event:` does not carry over: "
        'the next event is a "message" again',
    ),
    (
        "a CRLF split across reads",
        [b"data: a\r", b"\ndata: b\r\n\r\n"],
        [_event("a\nb")],
        "a `\\r` at the end of a read may be the first half of `\\r\\n`: keep it until the "
        "next read comes, or the `\\n` after it becomes an empty line that ends the event early",
    ),
    (
        "retry values that are not all digits",
        [b"retry: 1500\ndata: a\n\nretry: -1\nretry: +5\nretry:  7\nretry: 1_000\ndata: b\n\n"],
        [_event("a", retry=1500), _event("b", retry=1500)],
        "`retry:` counts only when its value is all ASCII digits "
        "(`value.isascii() and value.isdigit()`); `int()` also accepts `-1`, `+5`, ` 7` and "
        "`1_000`: ignore those",
    ),
]


class _Reads:
    """The network reads of one stream, counting how many the parser has taken."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.taken = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.taken += 1
            yield chunk


def _parse(parse_sse: Callable[..., Any], reads: _Reads, name: str) -> list[tuple[Any, int]]:
    """Every event the learner's generator yields, with the reads taken when it came out."""
    produced = call(parse_sse, iter(reads))
    if not isinstance(produced, Iterator):
        raise Incorrect(
            f"parse_sse returned {_shown(produced)}: make it a generator that yields each "
            "event as soon as it is complete (`yield` inside the loop over the chunks)"
        )
    seen = []
    try:
        for event in produced:
            seen.append((event, reads.taken))
            if len(seen) > 20:
                break
    except NotImplementedError:
        raise NotAttempted from None
    except Exception as exc:
        if isinstance(exc, UnicodeDecodeError):
            raise Incorrect(f"on the stream '{name}': {SPLIT_READS}") from None
        raise Incorrect(
            f"parse_sse raised {type(exc).__name__} on the stream '{name}': {exc}"
        ) from None
    return seen


def _check_parse_sse(parse_sse: Callable[..., Any]) -> str:
    for name, chunks, expected, fix in CASES:
        seen = _parse(parse_sse, _Reads(chunks), name)
        got = [event for event, _ in seen]
        if got == expected:
            continue
        if name == "multi-line data" and len(got) == 2:
            fix = BLANK_LINE
        elif any(isinstance(event, dict) and event.get("data") == "" for event in got):
            fix = (
                "a block with no `data:` line yields no event: a block of only `retry:`, "
                "`id:`, `event:` or comments sets what it sets, and yields nothing"
            )
        stream = b"".join(chunks)
        raise Incorrect(
            f"for the stream {stream!r} you yielded {_shown(got, 160)}, expected "
            f"{_shown(expected, 160)}: {fix}"
        )
    # Laziness: one event per read; each must come out before the next read is taken.
    reads = _Reads([f"id: {n}\ndata: {n}\n\n".encode() for n in range(1, 5)])
    for number, (_, taken) in enumerate(_parse(parse_sse, reads, "four reads"), start=1):
        if taken != number:
            raise Incorrect(
                "yield each event as soon as its blank line has arrived: your generator took "
                f"{taken} reads before yielding event {number}, so a live stream would wait "
                "(do not read the whole stream first)"
            )
    return (
        f"{len(CASES)} streams parsed as a browser would, each event yielded as soon as its "
        "blank line arrived"
    )


q1 = Exercise(
    "13.1",
    "parse an event stream by hand",
    _check_parse_sse,
    answer="parse_sse",
    hints=[
        "Keep a bytes buffer: add each chunk to it, then take complete lines off its front "
        "(a line ends at \\r\\n, \\n or \\r); what is left waits for the next chunk.",
        "For each line: empty means dispatch (if there is data), `:` first means comment, "
        "else `field, _, value = line.partition(':')` and drop one leading space of value.",
        "Keep event type, data lines, last id and retry in variables; on a blank line yield "
        "`{'event': event or 'message', 'data': '\\n'.join(lines), 'id': last_id, "
        "'retry': retry}` if there were data lines, then reset the event type and the data "
        "(not the id, not the retry).",
    ],
    solution="13-streaming-and-sse.ipynb",
)


# --- 13.2 follow(url) ------------------------------------------------------------------------

FEED_COUNT = 9
DROP_AFTER = 3
RETRY_MS = 150
WITHIN = 6.0  # seconds the learner's function may take
DROPPED = ("RemoteProtocolError", "ReadError", "ChunkedEncodingError", "ClientPayloadError")


def _streams(client: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{_lab.start().api}/api/stats/{client}/streams", timeout=5)
    response.raise_for_status()
    return response.json()["streams"]


def _follow_mistake(answer: Any, streams: list[dict[str, Any]]) -> str | None:
    """What is wrong with the connections the learner's function made, if anything."""
    expected = [{"n": n} for n in range(1, FEED_COUNT + 1)]
    if len(streams) == 1:
        return (
            f"the server dropped the stream after event {DROP_AFTER} and you did not connect "
            "again: catch the error (httpx.TransportError) and reconnect"
        )
    for before, after in zip(streams, streams[1:], strict=False):
        if after["last_event_id"] is None:
            return (
                "you reconnected without the Last-Event-ID header, so the feed started again "
                "from event 1: send the id of the last event you received as Last-Event-ID"
            )
        received = before["sent"] + int(before["last_event_id"] or 0)
        if before["ended"] == "dropped" and after["last_event_id"] != str(received):
            return (
                f"after event {received} you reconnected with Last-Event-ID: "
                f"{after['last_event_id']}: send the id of the last event you received "
                "(sse.id), nothing else"
            )
        if before["ended"] == "dropped" and after["opened"] - before["closed"] < 0.1:
            return (
                f"you reconnected at once: wait the reconnection time the server sent in its "
                f"`retry:` field ({RETRY_MS} ms, sse.retry) before connecting again"
            )
    if streams[-1]["ended"] == "dropped":
        return (
            f"the server dropped the stream after event {FEED_COUNT} and you did not connect "
            "again: the feed is over only when a stream ends without an error or the server "
            "answers 204 No Content; after any drop, reconnect with Last-Event-ID"
        )
    if len(streams) > 4:
        return (
            "you connected again after the feed had ended: stop when the stream ends "
            "cleanly (or the server answers 204 No Content)"
        )
    if isinstance(answer, list) and answer and all(isinstance(a, str) for a in answer):
        return "return the data of each event decoded from JSON (json.loads(sse.data))"
    if isinstance(answer, list) and len(answer) > FEED_COUNT and expected[0] in answer:
        return (
            "keep only the `tick` events (sse.event == 'tick'): the `retry:` block comes "
            "out of httpx-sse as an event with empty data"
        )
    if answer != expected:
        return (
            f"return the data of the {FEED_COUNT} tick events, in order, each exactly once; "
            f"you returned {_shown(answer)}"
        )
    return None


def _check_follow(follow: Callable[..., Any]) -> str:
    api = _lab.start().api
    client = _lab.new_client_id("follow")
    url = (
        f"{api}/api/sse/feed?count={FEED_COUNT}&interval=0&drop_after={DROP_AFTER}&drops=3"
        f"&retry={RETRY_MS}&key={client}&client={client}"
    )
    try:
        answer = call_within(
            follow,
            url,
            seconds=WITHIN,
            late=f"follow(url) was still running after {WITHIN:g} s: stop when the stream ends "
            "cleanly or the server answers 204 No Content (all events delivered)",
            thread="httplab-check-13",
        )
    except Incorrect as wrong:
        if any(name in str(wrong) for name in DROPPED):
            raise Incorrect(
                f"follow(url) raised {str(wrong).split(' raised ')[-1].split(':')[0]} when the "
                "server dropped the stream: catch it (httpx.TransportError) and reconnect "
                "with Last-Event-ID"
            ) from None
        if "SSEError" in str(wrong):
            raise Incorrect(
                "follow(url) raised SSEError: after the last event the server answers "
                "204 No Content, which is not an event stream; check "
                "`event_source.response.status_code == 204` before iter_sse() and stop there"
            ) from None
        if "JSONDecodeError" in str(wrong):
            raise Incorrect(
                "json.loads failed on an event's data: keep only the `tick` events "
                "(sse.event == 'tick'); the `retry:` block comes out of httpx-sse as an event "
                "with empty data"
            ) from None
        raise
    mistake = _follow_mistake(answer, _streams(client))
    if mistake:
        raise Incorrect(mistake)
    return (
        f"all {FEED_COUNT} events exactly once across three drops; each reconnection carried "
        f"Last-Event-ID and waited the {RETRY_MS} ms the server asked for"
    )


q2 = Exercise(
    "13.2",
    "a consumer that resumes after a drop",
    _check_follow,
    answer="follow",
    hints=[
        "A loop around `with httpx.Client(timeout=5) as client:` ... `connect_sse(client, "
        "'GET', url, headers=headers)`; inside, `for sse in event_source.iter_sse():`.",
        "Remember `sse.id` of every tick you keep, and `sse.retry` when it is not None. "
        "Catch httpx.TransportError around the connection: that is the drop.",
        "Before reconnecting, `time.sleep(retry / 1000)` and set "
        "`headers['Last-Event-ID'] = last_id`. Leave the loop when iter_sse() ends without "
        "an error, or when the response status is 204.",
    ],
    solution="13-streaming-and-sse.ipynb",
)


# --- 13.3 progress(request) ------------------------------------------------------------------

STEP_SECONDS = 0.04
STEPS = 6


@dataclass
class Job:
    """The steps of the job done so far (the check reads it)."""

    steps: int = 0


JOB = web.AppKey("job", Job)


async def work(request: web.Request) -> None:
    """One step of the long job: takes a moment, and is counted by the check."""
    await asyncio.sleep(STEP_SECONDS)
    job = request.app.get(JOB)
    if job is not None:
        job.steps += 1


async def _cancel_others() -> None:
    others = asyncio.all_tasks() - {asyncio.current_task()}
    for task in others:
        task.cancel()
    await asyncio.wait(others, timeout=2)


class _Served:
    """The learner's handler at /progress, served in a thread, and what it raised."""

    def __init__(self, handler: Callable[..., Any]) -> None:
        self.handler = handler
        self.job = Job()
        self.errors: list[BaseException] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        app = web.Application()
        app[JOB] = self.job
        app.router.add_get("/progress", self._serve)
        self.server = servers.serve_aiohttp(app, name="check-13-progress")

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        self.loop = asyncio.get_running_loop()
        try:
            return await self.handler(request)
        except (ConnectionError, asyncio.CancelledError):
            raise
        except BaseException as exc:
            self.errors.append(exc)
            raise

    def stop(self) -> None:
        """Cancel whatever the handler left running (a job that went on), then stop."""
        if self.loop is not None:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(_cancel_others(), self.loop).result(3)
        self.server.stop()

    def raise_errors(self) -> None:
        for error in self.errors:
            if isinstance(error, NotImplementedError):
                raise NotAttempted
            raise Incorrect(f"your handler raised {type(error).__name__}: {error}")


def _lf(text: str) -> str:
    """The stream with every line end (\\r\\n, \\r, \\n) made \\n."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _blocks(text: str) -> list[dict[str, str]]:
    """The events of a stream, comments left out."""
    found = []
    for block in text.split("\n\n"):
        fields = {}
        for line in block.split("\n"):
            if line and not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
        if fields:
            found.append(fields)
    return found


def _expected_events(steps: int) -> list[dict[str, str]]:
    events = [
        {"id": str(i), "event": "progress", "data": json.dumps({"done": i, "total": steps})}
        for i in range(1, steps + 1)
    ]
    return [*events, {"event": "done", "data": json.dumps({"total": steps})}]


def _same_event(got: dict[str, str], wanted: dict[str, str]) -> bool:
    try:
        data = json.loads(got.get("data", ""))
    except ValueError:
        return False
    fields = {k: v for k, v in got.items() if k != "data"}
    return fields == {k: v for k, v in wanted.items() if k != "data"} and data == json.loads(
        wanted["data"]
    )


def _read_whole_job(served: _Served, steps: int) -> None:
    url = f"{served.server.url}/progress?steps={steps}"
    arrivals, text = [], ""
    with (
        httpx.Client(timeout=5) as client,
        client.stream("GET", url, headers={"Accept-Encoding": "gzip, deflate"}) as response,
    ):
        started = time.perf_counter()
        if response.headers.get("Content-Encoding"):
            raise Incorrect(
                "your event stream is compressed "
                f"(Content-Encoding: {response.headers['Content-Encoding']}): compression "
                "buffers events until a block is full, so do not enable it on an event stream"
            )
        for piece in response.iter_text():
            text += piece
            arrivals.append((time.perf_counter() - started, _lf(text).count("\n\n")))
    served.raise_errors()
    if response.status_code != 200:
        raise Incorrect(f"GET /progress answered {response.status_code}; expected 200")
    media = response.headers.get("Content-Type", "").split(";")[0].strip()
    if media != "text/event-stream":
        raise Incorrect(
            f"the Content-Type is {media or 'missing'}: an event stream is "
            "`text/event-stream` (response.content_type = 'text/event-stream')"
        )
    text = _lf(text)
    got, wanted = _blocks(text), _expected_events(steps)
    if len(got) < len(wanted) and text.count("\n\n") < steps:
        raise Incorrect(
            "your events are not separated by blank lines: end every event with an empty "
            "line (`\\n\\n` after its last field)"
        )
    for index, want in enumerate(wanted):
        have = got[index] if index < len(got) else None
        if have is None or not _same_event(have, want):
            raise Incorrect(
                f"event {index + 1} of steps={steps} should be "
                + " / ".join(f"{k}: {v}" for k, v in want.items())
                + (f"; you sent {_shown(have)}" if have else "; your stream ended before it")
            )
    if len(got) > len(wanted):
        raise Incorrect(f"after `event: done` you sent more: {_shown(got[len(wanted)])}")
    if served.job.steps != steps:
        raise Incorrect(
            f"the job of {steps} steps called work() {served.job.steps} times: each step is "
            "`await work(request)` (given), once per step, before its event"
        )
    first = next(seconds for seconds, complete in arrivals if complete >= 1)
    if first > arrivals[-1][0] - 2 * STEP_SECONDS:
        raise Incorrect(
            "the first progress event arrived only with the last ones: send each event as "
            "soon as its step is done (a web.StreamResponse, prepare() it, then write() each "
            "event), not the whole body at the end"
        )


def _hang_up_mid_job(served: _Served) -> None:
    url = f"{served.server.url}/progress?steps=200"
    with httpx.Client(timeout=5) as client, client.stream("GET", url) as response:
        text = ""
        for piece in response.iter_text():
            text += piece
            if _lf(text).count("\n\n") >= 2:
                break
        at_hang_up = served.job.steps
    time.sleep(8 * STEP_SECONDS)
    later = served.job.steps
    served.raise_errors()
    if later > at_hang_up + 3:
        raise Incorrect(
            f"the client hung up after {at_hang_up} steps, yet the server went on to step "
            f"{later}: stop the job when the client goes away (a write to a closed "
            "connection raises ConnectionResetError; do not catch it to go on, and do not "
            "run the job in a task of its own)"
        )


def _check_progress(progress: Callable[..., Any]) -> str:
    if not callable(progress):
        raise Incorrect(f"pass your handler itself, not {_shown(progress)}")
    if not asyncio.iscoroutinefunction(progress):
        raise Incorrect("an aiohttp handler is a coroutine function: write it with `async def`")
    served = _Served(progress)
    try:
        _read_whole_job(served, STEPS)
        _hang_up_mid_job(served)
    except httpx.HTTPError as exc:
        served.raise_errors()
        raise Incorrect(f"reading your stream failed: {type(exc).__name__}") from None
    finally:
        served.stop()
    return (
        f"{STEPS} progress events, each sent as its step finished, then done; and when the client "
        "hung up mid-job, the server stopped working"
    )


q3 = Exercise(
    "13.3",
    "stream the progress of a job, stop when the client leaves",
    _check_progress,
    answer="progress",
    hints=[
        "`response = web.StreamResponse()`, `response.content_type = 'text/event-stream'`, "
        "`await response.prepare(request)`; then `await response.write(...)` per event.",
        "One event is `f'id: {i}\\nevent: progress\\ndata: {json.dumps(...)}\\n\\n'.encode()`: "
        "the blank line at the end dispatches it.",
        "Loop `for i in range(1, steps + 1): await work(request)` then write; when the client "
        "has gone, write() raises ConnectionResetError and the handler ends there: let it.",
    ],
    solution="13-streaming-and-sse.ipynb",
)
