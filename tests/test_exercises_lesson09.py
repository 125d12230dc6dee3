"""Lesson 09's checks fail on known-wrong answers and pass on right answers written
differently from the solution (tests/test_exercise_answers.py runs the solutions and stubs).

The wrong chat rooms and clients below differ from a right one by one flag each, so that a
failing check can only be blaming that one mistake; `test_*_variant_is_right` proves that the
variant with every flag at its default is accepted.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json

import pytest
from exercise_testing import assert_incorrect
from websockets.asyncio.client import connect
from websockets.asyncio.server import broadcast
from websockets.exceptions import ConnectionClosed, ConnectionClosedError, InvalidStatus

from httplab.checks import Outcome
from httplab.exercises.lesson09 import q1, q2, q3

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


# --- exercise 1 ------------------------------------------------------------------------------


def sha1_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha1(data).digest()).decode()


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda key: sha1_b64(key.encode()), "you hashed the key alone: append the GUID"),
        (lambda key: sha1_b64((GUID + key).encode()), "the key comes first, then the GUID"),
        (
            lambda key: hashlib.sha1((key + GUID).encode()).hexdigest(),
            "you returned the hex digest",
        ),
        (
            lambda key: sha1_b64(base64.b64decode(key) + GUID.encode()),
            "do not decode it first",
        ),
        (
            lambda key: base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()),
            "return a str, not bytes",
        ),
        (
            lambda key: base64.encodebytes(hashlib.sha1((key + GUID).encode()).digest()).decode(),
            "remove the newline",
        ),
        (lambda key: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "compute it from the key"),
        (lambda key: None, "return a str such as"),
    ],
    ids=["no GUID", "GUID first", "hex", "decoded key", "bytes", "newline", "constant", "None"],
)
def test_accept_key_wrong_answers(wrong, message):
    assert_incorrect(q1.check(wrong), message)


def accept_key_with_hashlib_new(key):
    """Right too: hashlib.new, bytes concatenated, base64 by codecs."""
    import codecs

    digest = hashlib.new("sha1", key.encode() + GUID.encode()).digest()
    return codecs.encode(digest, "base64").decode().strip()


def test_accept_key_alternative_is_right():
    result = q1.check(accept_key_with_hashlib_new)
    assert result.outcome is Outcome.CORRECT, result.message


# --- exercise 2 ------------------------------------------------------------------------------


def room_variant(
    *,
    refuse_strangers=True,
    join_to_all=True,
    to_sender=True,
    remove=True,
    in_finally=True,
    sort=True,
    join_order=False,
    without_waiting=True,
    key_error=False,
):
    """A room like the solution's, with one mistake switched on by a flag."""

    def make_room():
        members = {}

        async def send_all(event, skip=None):
            text = json.dumps(event)
            targets = [ws for ws in members if ws is not skip]
            if without_waiting:
                broadcast(targets, text)
            else:
                for ws in targets:  # the chapter's way: wait for each in turn
                    try:
                        await ws.send(text)
                    except ConnectionClosed:
                        pass

        def names():
            if join_order:
                return list(members.values())
            return sorted(members.values()) if sort else list(reversed(members.values()))

        async def handler(websocket):
            hello = json.loads(await websocket.recv())
            if key_error:
                hello = {"nom": hello["nickname"]}
            if hello.get("type") != "hello" and refuse_strangers:
                await websocket.close(1008, "say hello first")
                return
            name = str(hello.get("name"))
            members[websocket] = name
            event = {"type": "join", "name": name, "members": names()}
            if join_to_all:
                await send_all(event)
            else:
                await websocket.send(json.dumps(event))

            async def leave():
                if remove:
                    del members[websocket]
                await send_all({"type": "leave", "name": name, "members": names()})

            try:
                async for raw in websocket:
                    data = json.loads(raw)
                    said = {"type": "message", "name": name, "text": data["text"]}
                    await send_all(said, skip=None if to_sender else websocket)
            except ConnectionClosedError:
                if not in_finally:
                    raise
            finally:
                if in_finally:
                    await leave()
            if not in_finally:
                await leave()  # only reached after a clean close

        return handler

    return make_room


def test_room_variant_is_right():
    result = q2.check(room_variant())
    assert result.outcome is Outcome.CORRECT, result.message


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("join_to_all", "Nina received nothing within 1 s when Bob joined"),
        (
            "to_sender",
            "after sending {'type': 'message', 'text': 'hi everyone'} herself "
            "(the sender gets her own message too)",
        ),
        ("remove", "Bob left but is still listed"),
        ("in_finally", "after Carol's connection dropped without a close frame"),
        ("sort", "list the members' names in alphabetical order"),
        ("refuse_strangers", "close its connection with code 1008"),
        ("without_waiting", "your room waits for the slowest member"),
    ],
)
def test_room_wrong_answers(flag, message):
    assert_incorrect(q2.check(room_variant(**{flag: False})), message)


def test_room_whose_handler_raises():
    result = q2.check(room_variant(key_error=True))
    assert_incorrect(result, "your handler raised KeyError: 'nickname'")


def test_room_factory_that_returns_no_handler():
    assert_incorrect(q2.check(lambda: None), "return the connection handler")


def test_members_in_the_order_they_joined():
    """The check's clients join in an order that is not the alphabetical one."""
    result = q2.check(room_variant(join_order=True))
    assert_incorrect(result, "'members': ['Nina', 'Bob']} when Bob joined; expected")
    assert "list the members' names in alphabetical order" in result.message


# --- exercise 3 ------------------------------------------------------------------------------


def client_variant(
    *,
    on_drop=True,
    on_refusal=True,
    on_close=True,
    resume=True,
    pause=True,
    factor=2,
    decode=True,
    hello_key="after",
):
    """A reconnecting client like the solution's, with one mistake switched on by a flag."""

    async def collect(url, count):
        messages, ids, delay = [], [], 0.05
        caught = tuple(
            kind
            for kind, wanted in ((ConnectionClosed, on_drop), (InvalidStatus, on_refusal))
            if wanted
        )
        while len(messages) < count:
            try:
                async with connect(url, open_timeout=2, close_timeout=1) as websocket:
                    after = ids[-1] if ids and resume else 0
                    await websocket.send(json.dumps({hello_key: after}))
                    delay = 0.05
                    async for raw in websocket:
                        message = json.loads(raw)
                        if message["id"] in ids and not resume:
                            continue  # restarted from 0: skip what we have (still wrong)
                        ids.append(message["id"])
                        messages.append(message if decode else raw)
                        if len(messages) == count:
                            return messages
                if not on_close:
                    return messages
            except caught:
                pass
            if pause:
                await asyncio.sleep(delay)
                delay = min(factor * delay, 1.0)
        return messages

    return collect


async def collect_with_iterator(url, count):
    """The built-in way: websockets' reconnecting iterator, with short delays."""
    messages = []

    def delays():
        return (min(0.05 * 2**n, 1.0) for n in itertools.count())

    async for websocket in connect(url, open_timeout=2, reconnect_delays=delays):
        try:
            await websocket.send(json.dumps({"after": messages[-1]["id"] if messages else 0}))
            async for raw in websocket:
                messages.append(json.loads(raw))
                if len(messages) == count:
                    await websocket.close()
                    return messages
        except ConnectionClosed:
            continue
    return messages


@pytest.mark.parametrize("right", [client_variant(), collect_with_iterator], ids=["loop", "iter"])
def test_client_right_answers(right):
    result = q3.check(right)
    assert result.outcome is Outcome.CORRECT, result.message


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("on_drop", False, "gave up when the server dropped the connection after message 4"),
        ("on_refusal", False, "gave up when the server refused a new connection with HTTP 503"),
        ("on_close", False, "a close is not the end of the stream"),
        ("resume", False, 'resume with {"after": 4}'),
        ("pause", False, "tried again at once"),
        ("decode", False, "`json.loads` each one"),
        ("hello_key", "last", 'send {"after": <id of the last message you received>}'),
        ("factor", 1, "double the pause after each failed attempt"),
        ("factor", 1.2, "double the pause after each failed attempt"),
    ],
)
def test_client_wrong_answers(flag, value, message):
    assert_incorrect(q3.check(client_variant(**{flag: value})), message)


def test_client_must_be_async():
    assert_incorrect(q3.check(lambda url, count: []), "must be a coroutine function")


def gather_room():
    """Another right answer, in the style of the lab's own chat (aiohttp has no broadcast()):
    members by name, every send concurrent with a time limit, a member too slow is dropped."""
    members = {}  # name -> connection

    async def send_all(event):
        text = json.dumps(event)

        async def send(websocket):
            try:
                await asyncio.wait_for(websocket.send(text), 0.5)
            except (TimeoutError, ConnectionClosed):
                websocket.transport.abort()  # too slow or gone: its handler says goodbye

        await asyncio.gather(*(send(websocket) for websocket in list(members.values())))

    async def handler(websocket):
        try:
            hello = json.loads(await websocket.recv())
        except (ValueError, ConnectionClosed):
            hello = None
        if not (isinstance(hello, dict) and hello.get("type") == "hello" and hello.get("name")):
            await websocket.close(1008, "hello first")
            return
        name = hello["name"]
        members[name] = websocket
        await send_all({"type": "join", "name": name, "members": sorted(members)})
        try:
            while True:
                data = json.loads(await websocket.recv())
                if data.get("type") == "message":
                    said = {"type": "message", "name": name, "text": data["text"]}
                    asyncio.create_task(send_all(said))  # each send ends within 0.5 s
        except ConnectionClosed:
            pass
        finally:
            members.pop(name, None)
            await send_all({"type": "leave", "name": name, "members": sorted(members)})

    return handler


def test_room_with_gather_and_send_timeouts_is_right():
    result = q2.check(lambda: gather_room())
    assert result.outcome is Outcome.CORRECT, result.message
