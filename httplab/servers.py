"""Run servers in background threads so that any client in the notebook can reach them.

Each server gets a thread with its own event loop (or, for WSGI, its own thread pool), binds
127.0.0.1 on an ephemeral port unless asked otherwise, and is registered under a name:
starting a server under a name that is already running stops the old one first, so
re-running a cell replaces its server instead of failing with "address already in use".

    >>> server = serve_aiohttp(app, name="store")
    >>> server.url
    'http://127.0.0.1:54321'
    >>> server.stop()
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import socket
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from . import netenv, tls

LOOPBACK = "127.0.0.1"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0

_registry: dict[str, Server] = {}
_registry_lock = threading.RLock()


class ServerStartError(RuntimeError):
    """A server could not start; the message says why."""


@dataclass
class Server:
    """A running server: where it listens and how to stop it."""

    name: str
    url: str
    host: str
    port: int
    _stop: Callable[[], None] = field(repr=False)
    _stopped: bool = field(default=False, repr=False)

    @property
    def ws_url(self) -> str:
        """The same address with a ws:// or wss:// scheme."""
        if self.url.startswith("ws"):  # a websockets server: url is already ws://
            return self.url
        return "ws" + self.url.removeprefix("http")

    def stop(self) -> None:
        """Stop serving, free the port and end the thread. Safe to call twice."""
        with _registry_lock:
            if self._stopped:
                return
            self._stopped = True
            if _registry.get(self.name) is self:
                del _registry[self.name]
        self._stop()

    @property
    def running(self) -> bool:
        return not self._stopped

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def running_servers() -> dict[str, Server]:
    """The servers started by this process and not yet stopped, by name."""
    with _registry_lock:
        return dict(_registry)


def get(name: str) -> Server | None:
    """The running server of that name, if any."""
    with _registry_lock:
        return _registry.get(name)


def stop_all() -> None:
    """Stop every server this process started."""
    for server in running_servers().values():
        server.stop()


atexit.register(stop_all)


def bind_socket(
    host: str = LOOPBACK, port: int = 0, kind: int = socket.SOCK_STREAM
) -> socket.socket:
    """A socket bound to host:port (port 0: the system picks a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, kind)
    try:
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServerStartError(f"cannot bind {host}:{port}: {exc.strerror or exc}") from None
    return sock


def _url(scheme: str, host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}"


def _register(name: str, make: Callable[[], Server]) -> Server:
    with _registry_lock:
        old = _registry.get(name)
        if old is not None:
            old.stop()
        server = make()
        _registry[name] = server
        return server


# --- asyncio servers: one thread, one event loop ------------------------------------------


class _LoopThread:
    """An event loop running forever in a daemon thread."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.loop.set_exception_handler(lambda loop, context: None)
        self.thread = threading.Thread(target=self._run, name=f"httplab-{name}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()

    def call(self, coro: Awaitable[Any], timeout: float) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(STOP_TIMEOUT)


Closer = Callable[[], Awaitable[None]]


def _serve_on_loop(
    name: str, start: Callable[[], Awaitable[tuple[int, Closer]]], host: str, scheme: str
) -> Server:
    """Run `start()` on a new loop thread; it returns (port, an async closer)."""
    runner = _LoopThread(name)
    try:
        port, closer = runner.call(start(), START_TIMEOUT)
    except BaseException as exc:
        runner.close()
        if isinstance(exc, ServerStartError):
            raise
        raise ServerStartError(f"server {name!r} failed to start: {exc!r}") from exc

    def stop() -> None:
        with contextlib.suppress(Exception):
            runner.call(closer(), STOP_TIMEOUT)
        runner.close()

    return Server(name=name, url=_url(scheme, host, port), host=host, port=port, _stop=stop)


def serve_asyncio(
    start: Callable[[], Awaitable[tuple[int, Closer]]],
    *,
    name: str,
    scheme: str = "http",
    host: str = LOOPBACK,
) -> Server:
    """Run `start()` on an event loop thread of its own, as a named server: for what the other
    `serve_*` do not cover (a proxy, several TLS sites on one runner). `start` returns the
    port it listens on and an async function that closes it."""
    return _register(name, lambda: _serve_on_loop(name, start, host, scheme))


def serve_aiohttp(
    app: Any,
    *,
    name: str = "aiohttp",
    host: str = LOOPBACK,
    port: int = 0,
    https: bool = False,
) -> Server:
    """Serve an aiohttp `web.Application` (or a factory returning one) in a background thread."""
    from aiohttp import web

    netenv.bypass_proxy_for_loopback()

    async def start() -> tuple[int, Closer]:
        application = app() if callable(app) and not isinstance(app, web.Application) else app
        if asyncio.iscoroutine(application):
            application = await application
        runner = web.AppRunner(
            application,
            access_log=None,
            handle_signals=False,
            logger=quiet_logger("httplab.aiohttp"),  # unparsable requests: no traceback
        )
        await runner.setup()
        sock = bind_socket(host, port)
        site = web.SockSite(runner, sock, ssl_context=tls.server_context() if https else None)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        return sock.getsockname()[1], runner.cleanup

    return _register(name, lambda: _serve_on_loop(name, start, host, "https" if https else "http"))


def serve_websockets(
    handler: Callable[[Any], Awaitable[None]],
    *,
    name: str = "websockets",
    host: str = LOOPBACK,
    port: int = 0,
    **serve_options: Any,
) -> Server:
    """Serve a `websockets` connection handler (one argument) in a background thread."""
    from websockets.asyncio.server import serve

    netenv.bypass_proxy_for_loopback()
    serve_options.setdefault("logger", quiet_logger("httplab.websockets"))

    async def start() -> tuple[int, Closer]:
        sock = bind_socket(host, port)
        server = await serve(handler, sock=sock, **serve_options)

        async def close() -> None:
            server.close()
            await server.wait_closed()

        return sock.getsockname()[1], close

    return _register(name, lambda: _serve_on_loop(name, start, host, "ws"))


def serve_asgi(
    app: Any,
    *,
    name: str = "asgi",
    host: str = LOOPBACK,
    port: int = 0,
    https: bool = True,
    http2: bool = True,
    http3: bool = False,
) -> Server:
    """Serve an ASGI app with hypercorn: TLS with HTTP/2 by default, h2c without TLS, and
    HTTP/3 over QUIC on the same port number (UDP) when `http3=True` (needs TLS)."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    netenv.bypass_proxy_for_loopback()
    if http3 and not https:
        raise ServerStartError("HTTP/3 runs over QUIC, which always uses TLS: pass https=True")

    async def start() -> tuple[int, Closer]:
        config = Config()
        config.accesslog = None
        config.errorlog = quiet_logger("httplab.hypercorn")
        config.graceful_timeout = 0.5
        config.alpn_protocols = ["h2", "http/1.1"] if http2 else ["http/1.1"]
        if https:
            config.certfile, config.keyfile = tls.server_cert_files()
        sock = bind_socket(host, port)
        bound_port = sock.getsockname()[1]
        config.bind = [f"fd://{sock.detach()}"]
        if http3:
            udp = bind_socket(host, bound_port, socket.SOCK_DGRAM)
            config.quic_bind = [f"fd://{udp.detach()}"]
        datagram_transports = _record_datagram_transports(asyncio.get_running_loop())
        shutdown = asyncio.Event()
        task = asyncio.ensure_future(serve(app, config, shutdown_trigger=shutdown.wait))
        await asyncio.sleep(0)
        for _ in range(200):  # hypercorn binds inside the task; give it a moment to fail
            if task.done():
                task.result()
            await asyncio.sleep(0.005)
            if _accepts(host, bound_port):
                break

        async def close() -> None:
            shutdown.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, STOP_TIMEOUT)
            for transport in datagram_transports:
                transport.close()

        return bound_port, close

    return _register(name, lambda: _serve_on_loop(name, start, host, "https" if https else "http"))


def _record_datagram_transports(loop: asyncio.AbstractEventLoop) -> list[asyncio.BaseTransport]:
    """Hypercorn 0.18 never closes its QUIC (UDP) transports on shutdown; keep them to close."""
    transports: list[asyncio.BaseTransport] = []
    create = loop.create_datagram_endpoint

    async def create_and_record(*args: Any, **kwargs: Any) -> Any:
        transport, protocol = await create(*args, **kwargs)
        transports.append(transport)
        return transport, protocol

    loop.create_datagram_endpoint = create_and_record  # type: ignore[method-assign]
    return transports


def _accepts(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
        return True
    return False


# --- WSGI servers: werkzeug's threaded server -----------------------------------------------


def serve_wsgi(app: Any, *, name: str = "wsgi", host: str = LOOPBACK, port: int = 0) -> Server:
    """Serve a WSGI app (Flask, httpbin...) with werkzeug's threaded server, HTTP/1.1 keep-alive."""
    from werkzeug.serving import make_server

    netenv.bypass_proxy_for_loopback()
    quiet_logger("werkzeug")

    def make() -> Server:
        try:
            server = make_server(host, port, app, threaded=True)
        except (OSError, SystemExit) as exc:
            raise ServerStartError(f"server {name!r} failed to start: {exc}") from None
        server.daemon_threads = True
        server.handle_error = lambda request, client_address: None  # no tracebacks in cells
        thread = threading.Thread(target=server.serve_forever, name=f"httplab-{name}", daemon=True)
        thread.start()

        def stop() -> None:
            server.shutdown()
            server.server_close()
            thread.join(STOP_TIMEOUT)

        return Server(
            name=name, url=_url("http", host, server.port), host=host, port=server.port, _stop=stop
        )

    return _register(name, make)


def quiet_logger(name: str) -> logging.Logger:
    """A logger that writes nothing into notebook cells."""
    logger = logging.getLogger(name)
    logger.setLevel(logging.CRITICAL + 1)
    logger.propagate = False
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    return logger
