"""A broadcast chat over WebSockets: the full example of the chapter's server and client.

    python code/websocket_chat.py server                      # 127.0.0.1, a free port
    python code/websocket_chat.py client --name Alice --url ws://127.0.0.1:PORT

The server listens on 127.0.0.1 (only this machine) and a port the system picks, and prints
its URL and the command that joins it. Each client types lines; everybody, the sender
included, sees them. `--port 8765` fixes the port (the chapter's); `--host 0.0.0.0` opens
the chat to the whole network, which the server accepts only with a join token:

    python code/websocket_chat.py server --host 0.0.0.0 --token SOME-SECRET
    python code/websocket_chat.py client --name Bob --url ws://TEACHER-IP:PORT --token SOME-SECRET

Messages are JSON text, as in the chapter:

    client -> server   {"type": "hello", "name": "Alice"}       first, once
                       {"type": "message", "text": "hi"}         then, any number
    server -> clients  {"type": "join" | "leave", "name": ..., "members": [sorted names]}
                       {"type": "message", "name": ..., "text": ...}

A client whose first message is not a hello, or without the right token, is closed with
1008 (policy violation). The server never waits for a slow client: `broadcast()` queues each
message for everybody, and a client with more than 256 KiB waiting is disconnected. Ping/pong
keepalive (every 20 s) drops clients that vanished. Ctrl+C stops either side (the server
says goodbye with 1001, going away). Needs the `websockets` package.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import signal
import sys
import threading
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.frames import CloseCode

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_MESSAGE = 64 * 1024  # bytes of one incoming message; larger: closed with 1009
MAX_NAME = 32
MAX_QUEUED = 256 * 1024  # bytes waiting for one client before it is disconnected
HELLO_TIMEOUT = 10.0


# --- server -----------------------------------------------------------------------------------


class ChatRoom:
    """Everybody connected, by connection; the handler of each connection."""

    def __init__(self, token: str | None) -> None:
        self.token = token
        self.members: dict[ServerConnection, str] = {}

    def names(self) -> list[str]:
        return sorted(self.members.values())

    def send_all(self, event: dict[str, Any]) -> None:
        """Queue `event` for every member without waiting; drop members too far behind."""
        recipients = []
        for websocket in self.members:
            if websocket.transport.is_closing():
                continue
            if websocket.transport.get_write_buffer_size() > MAX_QUEUED:
                websocket.transport.abort()  # its handler then announces that it left
            else:
                recipients.append(websocket)
        broadcast(recipients, json.dumps(event))

    async def handler(self, websocket: ServerConnection) -> None:
        if self.token is not None:
            query = parse_qs(urlsplit(websocket.request.path).query)
            given = query.get("join", [""])[0]
            if not secrets.compare_digest(given.encode(), self.token.encode()):
                await websocket.close(CloseCode.POLICY_VIOLATION, "missing or wrong join token")
                return
        name = await self.hello(websocket)
        if name is None:
            return
        self.members[websocket] = name
        self.send_all({"type": "join", "name": name, "members": self.names()})
        try:
            async for raw in websocket:
                text = _text_of(raw)
                if text is not None:
                    self.send_all({"type": "message", "name": name, "text": text})
        except ConnectionClosed:
            pass  # gone without a close frame, or dropped for being too slow
        finally:
            del self.members[websocket]
            self.send_all({"type": "leave", "name": name, "members": self.names()})

    async def hello(self, websocket: ServerConnection) -> str | None:
        """The name from the client's hello; None (and the connection closed) without one."""
        try:
            async with asyncio.timeout(HELLO_TIMEOUT):
                hello = json.loads(await websocket.recv())
        except ConnectionClosed:
            return None
        except (TimeoutError, ValueError):
            hello = None
        is_hello = isinstance(hello, dict) and hello.get("type") == "hello"
        name = hello.get("name") if is_hello else None
        if not isinstance(name, str) or not name.strip():
            await websocket.close(CloseCode.POLICY_VIOLATION, "say hello with your name first")
            return None
        name = name.strip()[:MAX_NAME]
        taken, number = set(self.members.values()), 2
        unique = name
        while unique in taken:
            unique, number = f"{name} ({number})", number + 1
        return unique


def _text_of(raw: str | bytes) -> str | None:
    """The text of a {"type": "message", "text": ...} message, else None (ignored)."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if isinstance(data, dict) and data.get("type") == "message":
        return str(data.get("text", ""))
    return None


async def run_server(host: str, port: int, token: str | None) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
            loop.add_signal_handler(signum, stop.set)
    room = ChatRoom(token)
    try:
        server = await serve(room.handler, host, port, max_size=MAX_MESSAGE)
    except OSError as error:
        print(f"cannot listen on {host}:{port}: {error.strerror or error}", file=sys.stderr)
        if port:
            print("pick another port with --port, or --port 0 for any free one", file=sys.stderr)
        return 1
    async with server:
        bound_host, bound_port = server.sockets[0].getsockname()[:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        url = f"ws://{shown}:{bound_port}"
        print(f"Chat server on {url} (Ctrl+C to stop)", flush=True)
        join = f" --token {token}" if token else ""
        if host not in LOOPBACK:
            url = f"ws://<this machine's address>:{bound_port}"
        print(f"Join with: python {sys.argv[0]} client --name YOUR_NAME --url {url}{join}")
        sys.stdout.flush()
        await stop.wait()
    print("Server stopped.", flush=True)
    return 0


# --- client -----------------------------------------------------------------------------------


def _show(event: Any) -> str:
    """One line for a server event."""
    if not isinstance(event, dict):
        return f"? {event!r}"
    members = ", ".join(map(str, event.get("members", [])))
    kind = event.get("type")
    if kind == "join":
        return f"* {event.get('name')} joined ({members})"
    if kind == "leave":
        return f"* {event.get('name')} left ({members or 'nobody'})"
    if kind == "message":
        return f"{event.get('name')}: {event.get('text')}"
    return f"? {json.dumps(event)}"


def _read_lines(loop: asyncio.AbstractEventLoop, lines: asyncio.Queue[str | None]) -> None:
    """In a daemon thread (stdin cannot be read without blocking): lines, then None at EOF."""
    for line in sys.stdin:
        loop.call_soon_threadsafe(lines.put_nowait, line.rstrip("\n"))
    loop.call_soon_threadsafe(lines.put_nowait, None)


async def run_client(url: str, name: str, token: str | None, open_timeout: float) -> int:
    if token:
        url += ("&" if "?" in url else "?") + urlencode({"join": token})
    try:
        host = urlsplit(url).hostname
        local = host in LOOPBACK
        websocket = await connect(
            url, open_timeout=open_timeout, close_timeout=2, proxy=None if local else True
        )
    except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as error:
        print(f"cannot connect to {url}: {error}", file=sys.stderr)
        return 1

    lines: asyncio.Queue[str | None] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    threading.Thread(target=_read_lines, args=(loop, lines), daemon=True).start()

    async def type_lines() -> None:
        while (line := await lines.get()) is not None:
            if line.strip():
                await websocket.send(json.dumps({"type": "message", "text": line}))
        await websocket.close()  # end of input: say goodbye (1000)

    async def print_events() -> None:
        async for raw in websocket:
            try:
                event = json.loads(raw)
            except ValueError:
                event = raw
            print(_show(event), flush=True)

    async with websocket:
        typing: asyncio.Task[None] | None = None
        try:
            await websocket.send(json.dumps({"type": "hello", "name": name}))
            typing = asyncio.create_task(type_lines())  # the hello goes first
            await print_events()
        except ConnectionClosed:
            pass  # the server closed first (its code and reason are shown below)
        finally:
            if typing is not None:
                typing.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                    await typing
    code, reason = websocket.close_code, websocket.close_reason
    if code in (CloseCode.NORMAL_CLOSURE, CloseCode.GOING_AWAY):
        if code == CloseCode.GOING_AWAY:
            print("* the server went away", flush=True)
        return 0
    print(f"connection closed: {code} {reason}".rstrip(), file=sys.stderr)
    return 1


# --- command line -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="A broadcast chat over WebSockets (the chapter's full example).",
        epilog="Run `server` in one terminal, then `client` in others (see their --help).",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    server = commands.add_parser(
        "server", help="run the chat server", description="Run the chat server."
    )
    server.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only; "
        "0.0.0.0 opens it to your network and needs --token)",
    )
    server.add_argument(
        "--port", type=int, default=0, help="port (default: 0, any free port, printed)"
    )
    server.add_argument("--token", help="join token the clients must give (--token on theirs)")

    client = commands.add_parser(
        "client", help="join a chat server", description="Join a chat: type lines to send them."
    )
    client.add_argument("--name", required=True, help="your nickname")
    client.add_argument(
        "--url", required=True, help="the server's URL, as it printed it (ws://127.0.0.1:PORT)"
    )
    client.add_argument("--token", help="the join token, if the server has one")
    client.add_argument(
        "--timeout", type=float, default=10.0, help="seconds to wait for the handshake (10)"
    )

    args = parser.parse_args(argv)
    if args.command == "server":
        if args.host not in LOOPBACK and not args.token:
            parser.error(
                f"--host {args.host} lets anyone on your network connect: give a --token too"
            )
        if args.host not in LOOPBACK:
            print(
                f"Warning: listening on {args.host}: anyone who can reach this machine and "
                "knows the token can join, and ws:// is not encrypted.",
                file=sys.stderr,
            )
        return asyncio.run(run_server(args.host, args.port, args.token))
    try:
        return asyncio.run(run_client(args.url, args.name, args.token, args.timeout))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
