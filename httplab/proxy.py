"""A small HTTP proxy for lesson 14 that writes down what it saw.

It does what a forward proxy does: a plain ``http://`` request arrives whole (absolute URL,
headers, body) and the proxy passes it on; an ``https://`` request arrives as
``CONNECT host:port``, after which the proxy only relays bytes it cannot read (TLS).

    >>> proxy = httplab.proxy.serve_proxy()
    >>> requests.get(url, proxies={"https": proxy.url}, verify=tls.ca_file(), timeout=5)
    >>> proxy.seen        # [Seen(method='CONNECT', target='127.0.0.1:40125', ...)]

For real work, mitmproxy (to look inside TLS with its own CA) or proxy.py are the Python
proxies; this one exists to be read in a few minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from . import servers

MAX_HEAD = 64 * 1024
KEPT_TUNNEL_BYTES = 4096


@dataclass
class Seen:
    """One request as the proxy saw it."""

    method: str
    target: str  # the absolute URL, or host:port for CONNECT
    headers: dict[str, str]
    tunnel_bytes: int = 0  # CONNECT: bytes relayed from the client, unreadable to the proxy
    tunnel_start: bytes = field(default=b"", repr=False)  # the first of those bytes


@dataclass
class Proxy:
    """A running proxy: its URL, what it saw, and how to stop it."""

    server: servers.Server
    seen: list[Seen]

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.server.stop()


async def _pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, record: Seen | None = None
) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while data := await reader.read(65536):
            if record is not None:
                record.tunnel_bytes += len(data)
                if len(record.tunnel_start) < KEPT_TUNNEL_BYTES:
                    record.tunnel_start += data[: KEPT_TUNNEL_BYTES - len(record.tunnel_start)]
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(OSError):
        writer.close()


async def _read_head(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    if len(head) > MAX_HEAD:
        raise ValueError("head too large")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip()] = value.strip()
    return method, target, headers, head


async def _handle(
    seen: list[Seen], reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        method, target, headers, _ = await _read_head(reader)
    except (ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
        writer.close()
        return
    record = Seen(method, target, headers)
    seen.append(record)
    try:
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            up_reader, up_writer = await asyncio.open_connection(host.strip("[]"), int(port))
            writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            await writer.drain()
        else:
            url = urlsplit(target)
            up_reader, up_writer = await asyncio.open_connection(url.hostname, url.port or 80)
            path = (url.path or "/") + (f"?{url.query}" if url.query else "")
            kept = {k: v for k, v in headers.items() if not k.lower().startswith("proxy-")} | {
                "Connection": "close"
            }
            lines = [f"{method} {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in kept.items()]
            up_writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            record = None  # a plain request: everything was readable, nothing to count
    except (OSError, ValueError):
        writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        with contextlib.suppress(OSError):
            await writer.drain()
        writer.close()
        return
    await asyncio.gather(_pipe(reader, up_writer, record), _pipe(up_reader, writer))


def serve_proxy(*, name: str = "proxy") -> Proxy:
    """Start a recording HTTP proxy (CONNECT included) on 127.0.0.1, in a background thread."""
    seen: list[Seen] = []

    async def start() -> tuple[int, servers.Closer]:
        sock = servers.bind_socket()
        server = await asyncio.start_server(
            lambda r, w: _handle(seen, r, w), sock=sock, limit=MAX_HEAD
        )

        async def close() -> None:
            server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), 1)

        return sock.getsockname()[1], close

    server = servers.serve_asyncio(start, name=name)
    return Proxy(server=server, seen=seen)
