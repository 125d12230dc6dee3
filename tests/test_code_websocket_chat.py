"""code/websocket_chat.py, run as a learner runs it: a server and clients in subprocesses,
each read line by line with a timeout."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "code" / "websocket_chat.py"
TIMEOUT = 10  # seconds to wait for any one line
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_PROXY": "127.0.0.1,localhost,::1"}


class Process:
    """A subprocess whose stdout lines are read in a thread, so that waits can time out."""

    def __init__(self, *args: str) -> None:
        self.popen = subprocess.Popen(
            [sys.executable, str(SCRIPT), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.popen.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, wanted: str) -> str:
        """The first new line containing `wanted`; fail after TIMEOUT seconds or at EOF."""
        while True:
            try:
                line = self.lines.get(timeout=TIMEOUT)
            except queue.Empty:
                msg = f"no line with {wanted!r} within {TIMEOUT} s: {self.seen}"
                raise AssertionError(msg) from None
            if line is None:
                raise AssertionError(f"output ended before {wanted!r}: {self.seen}")
            self.seen.append(line)
            if wanted in line:
                return line

    def say(self, text: str) -> None:
        self.popen.stdin.write(text + "\n")
        self.popen.stdin.flush()

    def finish(self) -> tuple[int, str]:
        """Close stdin, wait for the exit; return (exit status, stderr)."""
        if not self.popen.stdin.closed:
            self.popen.stdin.close()
        code = self.popen.wait(timeout=TIMEOUT)
        return code, self.popen.stderr.read()

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(timeout=TIMEOUT)
        for stream in (self.popen.stdin, self.popen.stdout, self.popen.stderr):
            stream.close()


@pytest.fixture
def start():
    started: list[Process] = []

    def start(*args: str) -> Process:
        process = Process(*args)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


def server_url(server: Process) -> str:
    line = server.expect("Chat server on ")
    match = re.search(r"ws://127\.0\.0\.1:\d+", line)
    assert match, line
    return match[0]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=30, env=ENV
    )


def test_help_of_the_script_and_of_each_side():
    main = run("--help")
    assert main.returncode == 0 and "server" in main.stdout and "client" in main.stdout
    server = run("server", "--help")
    assert server.returncode == 0
    for option in ("--host", "--port", "--token", "127.0.0.1", "any free port"):
        assert option in server.stdout
    client = run("client", "--help")
    assert client.returncode == 0
    for option in ("--name", "--url", "--token", "--timeout"):
        assert option in client.stdout


def test_beyond_loopback_only_with_a_token():
    result = run("server", "--host", "0.0.0.0")
    assert result.returncode == 2
    assert "give a --token too" in result.stderr


def test_chat_between_two_clients(start):
    server = start("server")
    url = server_url(server)  # on loopback and a free port by default
    server.expect(f"client --name YOUR_NAME --url {url}")

    alice = start("client", "--name", "Alice", "--url", url)
    alice.expect("* Alice joined (Alice)")
    bob = start("client", "--name", "Bob", "--url", url)
    bob.expect("* Bob joined (Alice, Bob)")
    alice.expect("* Bob joined (Alice, Bob)")

    alice.say("hello from Alice")
    bob.expect("Alice: hello from Alice")
    alice.expect("Alice: hello from Alice")  # the sender sees her own message too

    assert alice.finish() == (0, "")  # end of input: a clean goodbye
    bob.expect("* Alice left (Bob)")

    server.popen.send_signal(signal.SIGINT)  # Ctrl+C: the server says goodbye (1001)
    bob.expect("* the server went away")
    assert bob.popen.wait(timeout=TIMEOUT) == 0  # on its own, while its input is still open
    assert bob.finish() == (0, "")
    server.expect("Server stopped.")
    code, errors = server.finish()
    assert code == 0 and errors == ""


def test_join_token(start):
    server = start("server", "--token", "s3cret")
    url = server_url(server)
    server.expect("--token s3cret")

    intruder = start("client", "--name", "Mallory", "--url", url)
    code, errors = intruder.finish()
    assert code == 1
    assert "connection closed: 1008 missing or wrong join token" in errors

    student = start("client", "--name", "Student", "--url", url, "--token", "s3cret")
    student.expect("* Student joined (Student)")
    assert student.finish() == (0, "")


def test_unreachable_server_is_an_error_not_a_traceback():
    result = run("client", "--name", "Alice", "--url", "ws://127.0.0.1:9", "--timeout", "2")
    assert result.returncode == 1
    assert result.stderr.startswith("cannot connect to ws://127.0.0.1:9")
    assert "Traceback" not in result.stderr


def test_chat_page_announces_a_member_dropped_for_being_too_slow(monkeypatch):
    """httplab.chatpage (the lesson's browser chat): a member that does not accept a message
    in time is dropped, and the others are told that it left."""
    import asyncio
    import json

    from websockets.asyncio.client import connect

    import httplab
    from httplab import chatpage

    real_send = chatpage._send

    async def zed_never_accepts_a_message(member, text):
        if member.name == "Zed" and json.loads(text)["type"] == "message":
            raise TimeoutError  # what _send raises after SEND_TIMEOUT for a stuck member
        await real_send(member, text)

    monkeypatch.setattr(chatpage, "_send", zed_never_accepts_a_message)
    server = httplab.serve_aiohttp(chatpage.create_app(), name="test-chat-page-drop")

    async def conversation() -> list[dict]:
        async def receive(websocket, count):
            async with asyncio.timeout(5):
                return [json.loads(await websocket.recv()) for _ in range(count)]

        async with (
            connect(f"{server.ws_url}/ws?name=Ann", open_timeout=5, close_timeout=1) as ann,
            connect(f"{server.ws_url}/ws?name=Zed", open_timeout=5, close_timeout=1),
        ):
            await receive(ann, 3)  # history, Ann joined, Zed joined
            await ann.send(json.dumps({"type": "message", "text": "hi"}))
            return await receive(ann, 2)

    try:
        said, left = asyncio.run(conversation())
    finally:
        server.stop()
    assert said == {"type": "message", "name": "Ann", "text": "hi"}
    assert left == {"type": "leave", "name": "Zed", "members": ["Ann"]}
