"""A small HTTP/3 client on aioquic: GET requests over one QUIC connection (UDP).

aioquic implements QUIC and HTTP/3 but ships no high-level client. This is about the
least code that opens a verified QUIC connection and sends GET requests on it, each on a
stream of its own, so that several can be in flight at once:

    async with h3client.connect("127.0.0.1", port, cafile=tls.ca_file()) as h3:
        response = await h3.get("/path", headers={"x-client-id": "..."})
    response.status, response.http_version, response.stream_id     # 200, "HTTP/3", 0

`await h3client.get(url, cafile=...)` does one request on a connection of its own.
Certificates are always verified; every wait is bounded by `timeout` (seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit

from aioquic.asyncio import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from aioquic.quic.events import ConnectionTerminated, HandshakeCompleted, QuicEvent

from .servers import quiet_logger

# aioquic logs each protocol error (e.g. a certificate it cannot verify) as a warning, and
# the client raises the same error anyway: keep that log out of notebook cells.
quiet_logger("quic")


@dataclass
class H3Response:
    """One HTTP/3 response: status, headers (lower-case names), body, and its QUIC stream."""

    status: int
    headers: dict[str, str]
    content: bytes
    stream_id: int
    http_version: str = "HTTP/3"

    def json(self) -> Any:
        return json.loads(self.content)


@dataclass
class _Exchange:
    done: asyncio.Future[None]
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)


class H3Client(QuicConnectionProtocol):
    """One QUIC connection speaking HTTP/3. Made by `connect()`, not directly."""

    def __init__(self, quic: QuicConnection, authority: str, timeout: float) -> None:
        super().__init__(quic)
        self.authority, self.timeout = authority, timeout
        self.alpn_protocol: str | None = None  # what the TLS handshake inside QUIC agreed
        self.connected = False
        self._http = H3Connection(quic)
        self._ready: asyncio.Future[None] = self._loop.create_future()
        self._exchanges: dict[int, _Exchange] = {}

    async def get(self, path: str, headers: dict[str, str] | None = None) -> H3Response:
        """GET `path` on a new stream; wait (at most `timeout` s) for the whole response."""
        if not self.connected:
            raise ConnectionError(f"the QUIC connection to {self.authority} is not open")
        stream_id = self._quic.get_next_available_stream_id()
        fields = [(b":method", b"GET"), (b":scheme", b"https")]
        fields += [(b":authority", self.authority.encode()), (b":path", path.encode())]
        fields += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        exchange = self._exchanges[stream_id] = _Exchange(self._loop.create_future())
        self._http.send_headers(stream_id, fields, end_stream=True)
        self.transmit()
        await asyncio.wait_for(exchange.done, self.timeout)
        answer = {name.decode(): value.decode() for name, value in exchange.headers}
        status = int(answer.pop(":status"))
        return H3Response(status, answer, bytes(exchange.body), stream_id)

    async def handshake(self) -> None:
        """Wait (at most `timeout` s) until the QUIC and TLS handshake has completed."""
        try:
            await asyncio.wait_for(self._ready, self.timeout)
        except TimeoutError:
            raise TimeoutError(
                f"no QUIC answer from {self.authority} in {self.timeout} s"
            ) from None

    def quic_event_received(self, event: QuicEvent) -> None:
        if isinstance(event, HandshakeCompleted):
            self.alpn_protocol, self.connected = event.alpn_protocol, True
            _settle(self._ready)
        elif isinstance(event, ConnectionTerminated):
            self.connected = False
            self._fail(ConnectionError(f"QUIC connection closed: {event.reason_phrase}"))
        for h3_event in self._http.handle_event(event):
            exchange = self._exchanges.get(getattr(h3_event, "stream_id", -1))
            if exchange is None or not isinstance(h3_event, HeadersReceived | DataReceived):
                continue
            if isinstance(h3_event, HeadersReceived):
                exchange.headers += h3_event.headers
            else:
                exchange.body += h3_event.data
            if h3_event.stream_ended:
                _settle(exchange.done)

    def error_received(self, exc: Exception) -> None:
        """An ICMP error on the (connected) UDP socket, e.g. nothing listens on that port."""
        self._fail(exc)

    def transmit(self) -> None:
        if not self._transport.is_closing():  # after close, pending timers send nothing
            super().transmit()

    def _fail(self, exc: Exception) -> None:
        for future in [self._ready, *(e.done for e in self._exchanges.values())]:
            _settle(future, exc)


def _settle(future: asyncio.Future[None], exc: Exception | None = None) -> None:
    if future.done():
        return
    if exc is None:
        future.set_result(None)
    else:
        future.set_exception(exc)
        future.exception()  # marked as retrieved: no warning if nobody is waiting for it


@contextlib.asynccontextmanager
async def connect(
    host: str,
    port: int,
    *,
    cafile: str,
    timeout: float = 5.0,  # noqa: ASYNC109 (the client bounds each of its waits, like httpx)
) -> AsyncIterator[H3Client]:
    """Open a QUIC connection to host:port over UDP, verifying the server against `cafile`."""
    configuration = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, server_name=host)
    configuration.load_verify_locations(cafile)
    transport, protocol = await asyncio.get_running_loop().create_datagram_endpoint(
        lambda: H3Client(QuicConnection(configuration=configuration), f"{host}:{port}", timeout),
        remote_addr=(host, port),  # a connected UDP socket: "port unreachable" is reported
    )
    client = cast(H3Client, protocol)
    try:
        client.connect(transport.get_extra_info("peername"))  # sends the first packet
        await client.handshake()
        yield client
    finally:
        if client.connected:
            client.close()  # sends CONNECTION_CLOSE at once; QUIC's "closing period"
        transport.close()  # (about three probe timeouts) is of no use to this client


async def get(
    url: str,
    *,
    cafile: str,
    headers: dict[str, str] | None = None,
    timeout: float = 5.0,  # noqa: ASYNC109
) -> H3Response:
    """One GET over HTTP/3 to an https:// URL, on a QUIC connection of its own."""
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    async with connect(
        parts.hostname or "", parts.port or 443, cafile=cafile, timeout=timeout
    ) as h3:
        return await h3.get(path, headers)
