"""Exercises of lesson 10: ALPN, HTTP/2 streams over one connection, Alt-Svc to HTTP/3.

The checks run the learner's code against hypercorn servers of their own (TLS with the
lab's CA): one with HTTP/2 and HTTP/3 (QUIC on the same port number, advertised with
Alt-Svc), one with HTTP/2 only. An ASGI app records, per `X-Client-Id`, the HTTP version
of every request, the connection it came on, and how many requests were in flight on
that connection at the time, so a check reads what really happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import json
import re
import socket
import threading
import time
import warnings
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from .. import servers, tls
from ..checks import Exercise, Incorrect, NotAttempted
from ..lab import new_client_id
from ..misbehaving import silent_port


@dataclass(frozen=True)
class Seen:
    """One request as the server saw it."""

    http_version: str  # "1.1", "2" or "3"
    connection: str  # transport and client address: one per TCP connection or QUIC connection
    in_flight: int  # requests in flight on that connection when this one arrived (itself too)


class Recorder:
    """An ASGI app that answers JSON and records each request under its X-Client-Id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, list[Seen]] = {}
        self._in_flight: Counter[str] = Counter()

    def seen(self, client_id: str) -> list[Seen]:
        with self._lock:
            return list(self._seen.get(client_id, []))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = dict(scope["headers"])
        client_id = headers.get(b"x-client-id", b"").decode()
        version = scope["http_version"]
        host, port = scope["client"]
        connection = f"{'udp' if version == '3' else 'tcp'} {host}:{port}"
        with self._lock:
            self._in_flight[connection] += 1
            seen = Seen(version, connection, self._in_flight[connection])
            self._seen.setdefault(client_id, []).append(seen)
        try:
            query = parse_qs(scope["query_string"].decode())
            await asyncio.sleep(min(float(query.get("delay", ["0"])[0]), 1.0))
            body = json.dumps({"http_version": version, "path": scope["path"]}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body})
        finally:
            with self._lock:
                self._in_flight[connection] -= 1


RECORDER = Recorder()


def _server(http3: bool) -> servers.Server:
    """The check's server (started once per kernel, then reused)."""
    name = "lesson10-check-h3" if http3 else "lesson10-check-h2"
    running = servers.get(name)
    if running is not None:
        return running
    return servers.serve_asgi(RECORDER, name=name, https=True, http2=True, http3=http3)


def _described(exc: BaseException) -> str:
    """An exception with the first line of its message, without ports (stable messages)."""
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return re.sub(r"(127\.0\.0\.1|localhost)(:|', )\d+", r"\1\2<port>", text)


def _unverified(exc: BaseException) -> bool:
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)


TRUST_THE_LAB = (
    "the lab's servers have certificates from the lab's own CA, which the default trust "
    "store does not know: trust it with `httplab.tls.client_context()` (never turn "
    "verification off)"
)


# --- 10.1 ALPN ------------------------------------------------------------------------------

ALPN_TIMEOUT = 0.5  # the timeout the check passes when the server never answers
SILENT_LIFETIME = 3.0  # then the silent server closes: a client without a timeout gets a reset

OFFERS = (["h2", "http/1.1"], ["http/1.1"], ["http/1.1", "h2"], ["h3"])


def _selected(host: str, port: int, offer: list[str]) -> str | None:
    context = tls.client_context()
    context.set_alpn_protocols(offer)
    with (
        socket.create_connection((host, port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=host) as sock,
    ):
        return sock.selected_alpn_protocol()


def _alpn(
    negotiated_protocol: Callable[..., Any], port: int, offer: list[str], timeout: float
) -> tuple[Any, BaseException | None, float]:
    """Call the learner's function: (answer, exception, seconds). A socket it leaves open is
    Incorrect (Python warns "unclosed" when such a socket is collected: the warning is caught
    here, and never reaches the cell)."""
    if not callable(negotiated_protocol):
        raise Incorrect(f"pass your function itself, not {type(negotiated_protocol).__name__}")
    answer, error = None, None
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        try:
            answer = negotiated_protocol("127.0.0.1", port, list(offer), timeout)
        except NotImplementedError:
            raise NotAttempted from None
        except Exception as exc:  # the learner's exception is an outcome
            error = exc
        gc.collect()
    seconds = time.perf_counter() - started
    if inspect.iscoroutine(answer):
        answer.close()
        raise Incorrect("negotiated_protocol returned a coroutine: write it with `def`")
    if any("unclosed" in str(w.message) for w in caught if w.category is ResourceWarning):
        raise Incorrect(
            "your function left a socket open: open both the TCP socket and the TLS socket "
            "in `with` blocks, so that they are closed when the function returns"
        )
    return answer, error, seconds


def _check_alpn(negotiated_protocol) -> str:
    server = _server(http3=False)
    for offer in OFFERS:
        truth = _selected(server.host, server.port, offer)
        answer, error, _ = _alpn(negotiated_protocol, server.port, offer, 5.0)
        if error is not None:
            advice = f": {TRUST_THE_LAB}" if _unverified(error) else ""
            raise Incorrect(
                f"for the offer {offer} your function raised {_described(error)}{advice}"
            )
        if answer == truth:
            continue
        if isinstance(answer, str) and answer.startswith("TLSv"):
            raise Incorrect(
                f"{answer!r} is the TLS version; the protocol agreed by ALPN is "
                "`selected_alpn_protocol()` of the TLS socket"
            )
        if answer is None:
            raise Incorrect(
                f"for the offer {offer} the server selected {truth!r}, you returned None: "
                "call `context.set_alpn_protocols(offer)` before the handshake (wrap_socket)"
            )
        if truth is None:
            raise Incorrect(
                f"for the offer {offer} the server selected nothing (it speaks none of them) "
                f"and `selected_alpn_protocol()` is None, you returned {answer!r}: return what "
                "the TLS connection says, not a guess"
            )
        if answer == offer[0]:
            raise Incorrect(
                f"for the offer {offer} the server selected {truth!r}, you returned "
                f"{answer!r}, the client's first choice: the SERVER picks, in its own order of "
                "preference; ask the TLS connection"
            )
        raise Incorrect(
            f"for the offer {offer} the server selected {truth!r}, you returned {answer!r}"
        )
    with silent_port(SILENT_LIFETIME) as port:
        answer, error, seconds = _alpn(negotiated_protocol, port, ["h2"], ALPN_TIMEOUT)
    what = f"on a server that accepts the connection and never answers (timeout={ALPN_TIMEOUT})"
    if seconds >= SILENT_LIFETIME - 0.2:
        raise Incorrect(
            f"{what} your function waited until the check gave up on it: pass the timeout "
            "to `socket.create_connection((host, port), timeout=timeout)`; it covers the TLS "
            "handshake too"
        )
    if error is None:
        raise Incorrect(
            f"{what} your function returned {answer!r}: let the timeout raise, the server "
            "selected nothing"
        )
    return (
        f"right for all {len(OFFERS)} offers: the server picks (h2 even when the client "
        "prefers http/1.1), and None when it speaks none of them; a silent server times out, "
        "and the sockets are closed"
    )


# --- 10.2 HTTP/2 streams over one connection --------------------------------------------------

DELAY = 0.1  # seconds the server holds each request, so that concurrent ones overlap


async def _attempt(function: Callable[..., Any], *args: Any) -> tuple[Any, BaseException | None]:
    """Await the learner's coroutine function: (answer, None) or (None, its exception)."""
    if not callable(function):
        raise Incorrect(f"pass your function itself, not {type(function).__name__}")
    name = getattr(function, "__name__", "your function")
    if not inspect.iscoroutinefunction(function):
        raise Incorrect(f"{name} must be a coroutine function: write it with `async def`")
    try:
        return await function(*args), None
    except NotImplementedError:
        raise NotAttempted from None
    except Exception as exc:  # the learner's exception is an outcome
        return None, exc


def _raised(error: BaseException) -> Incorrect:
    advice = f": {TRUST_THE_LAB}" if _unverified(error) else ""
    return Incorrect(f"your function raised {_described(error)}{advice}")


async def _check_multiplexed(fetch_multiplexed) -> str:
    server = _server(http3=True)
    url = f"{server.url}/item?delay={DELAY}"
    for n in (12, 30):
        client_id = new_client_id("lesson10")
        answer, error = await _attempt(fetch_multiplexed, url, n, client_id)
        if error is not None:
            raise _raised(error)
        seen = RECORDER.seen(client_id)
        if not seen:
            raise Incorrect(
                "the server saw no request with your client id: send it in the header "
                "`X-Client-Id` of every request"
            )
        if len(seen) != n:
            raise Incorrect(f"asked for n={n} requests, the server saw {len(seen)}")
        versions = Counter(s.http_version for s in seen)
        if versions["2"] != n:
            shown = " and ".join(f"{k} over HTTP/{v}" for v, k in sorted(versions.items()))
            raise Incorrect(
                f"the server saw {shown}: make the client speak HTTP/2 "
                "(`httpx.AsyncClient(http2=True, verify=...)`)"
            )
        connections = {s.connection for s in seen}
        if len(connections) != 1:
            raise Incorrect(
                f"your {n} requests came over {len(connections)} connections: send them all "
                "through ONE client (create the AsyncClient once, outside the loop)"
            )
        peak = max(s.in_flight for s in seen)
        if peak < n // 2:
            raise Incorrect(
                f"at most {peak} of your {n} requests were in flight at once on the connection: "
                "start them together (`asyncio.gather`) instead of awaiting one after the other"
            )
        if answer != ["HTTP/2"] * n:
            raise Incorrect(
                f"the requests went over HTTP/2, but you returned {answer!r:.80}: return a list "
                "with the `http_version` of each response"
            )
    return (
        "the server saw 12, then 30 requests over HTTP/2, each time on ONE connection, "
        "all in flight together"
    )


# --- 10.3 From Alt-Svc to HTTP/3 ---------------------------------------------------------------


@contextlib.asynccontextmanager
async def _relay(port: int) -> AsyncIterator[int]:
    """A TCP relay to 127.0.0.1:port, on a port of its own (TCP only: no QUIC there)."""
    writers: list[asyncio.StreamWriter] = []
    handlers: set[asyncio.Task[Any]] = set()

    async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.add(asyncio.current_task())  # type: ignore[arg-type]
        writers.append(writer)
        with contextlib.suppress(Exception):  # nothing from the relay lands in a cell
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port)
            writers.append(upstream_writer)
            await asyncio.gather(pump(reader, upstream_writer), pump(upstream_reader, writer))
        writer.close()

    relay = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield relay.sockets[0].getsockname()[1]
    finally:
        relay.close()
        for writer in writers:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
        if handlers:  # let them end now: a handler cancelled by asyncio.run logs a traceback
            await asyncio.wait(handlers, timeout=1)
        await relay.wait_closed()


async def _run_upgrade(
    h2_then_h3: Callable[..., Any], url: str, client_id: str
) -> tuple[Any, list[str], BaseException | None]:
    """Call the learner's function: (answer, HTTP versions the server saw, its exception)."""
    answer, error = await _attempt(h2_then_h3, url, client_id)
    return answer, [s.http_version for s in RECORDER.seen(client_id)], error


def _wrong(problem: str, error: BaseException | None) -> Incorrect:
    return Incorrect(f"{problem} (your function raised {_described(error)})" if error else problem)


def _after_the_first(error: BaseException | None) -> Incorrect:
    """The server saw the HTTP/2 request and nothing more under the client id: say why."""
    if error is None:
        return Incorrect(
            "the server saw your first request (over HTTP/2) and no second one with your "
            "client id: send `X-Client-Id` with the HTTP/3 request too "
            "(`h3client.get(..., headers=headers)`)"
        )
    if _unverified(error):
        return Incorrect(
            f"after the HTTP/2 request, your function raised {_described(error)}: " + TRUST_THE_LAB
        )
    if isinstance(error, OSError):
        return Incorrect(
            f"after the HTTP/2 request, your function raised {_described(error)}: no QUIC "
            "server listens where you sent the HTTP/3 request. Send it to the URL's host and "
            'the port that `alt-svc` names (`h3=":PORT"`); here a TCP relay stands in front '
            "of the server, so that port is not the URL's"
        )
    return Incorrect(f"after the HTTP/2 request, your function raised {_described(error)}")


def _shown(versions: list[str]) -> str:
    return ", ".join(f"HTTP/{v}" for v in versions) or "nothing"


async def _check_upgrade(h2_then_h3) -> str:
    # 1. a server with HTTP/3, behind a TCP relay: the URL's port is not the QUIC port
    server = _server(http3=True)
    async with _relay(server.port) as relay_port:
        url = f"https://127.0.0.1:{relay_port}/page"
        answer, versions, error = await _run_upgrade(h2_then_h3, url, new_client_id("lesson10"))
    if not versions:
        raise _wrong(
            "the server saw no request with your client id: send it in the header "
            "`X-Client-Id` of both requests",
            error,
        )
    if versions[0] != "2":
        raise _wrong(
            f"the first request came over HTTP/{versions[0]}: make it with httpx and http2=True",
            error,
        )
    if versions == ["2"]:
        raise _after_the_first(error)
    if versions != ["2", "3"]:
        raise _wrong(
            "the server advertised HTTP/3 in its `alt-svc` header, then saw "
            f"{_shown(versions)}: make the second request with `h3client`, to the URL's host "
            "and the port that Alt-Svc names (here a TCP relay stands in front of the "
            "server, so that port is not the URL's)",
            error,
        )
    if error:
        raise _raised(error)
    if answer != ("HTTP/2", "HTTP/3"):
        raise Incorrect(
            f"the requests went over HTTP/2 then HTTP/3, but you returned {answer!r:.80}: "
            "return a tuple with the `http_version` of the two responses"
        )

    # 2. a server with HTTP/2 only: no Alt-Svc, so both requests stay on HTTP/2
    server = _server(http3=False)
    url = f"{server.url}/page"
    answer, versions, error = await _run_upgrade(h2_then_h3, url, new_client_id("lesson10"))
    if isinstance(error, KeyError):
        raise Incorrect(
            f"on a server without HTTP/3 your function raised {_described(error)}: such a "
            "server sends no `alt-svc` header; read it with `response.headers.get('alt-svc')` "
            "and, without one, make the second request over HTTP/2 again"
        )
    if versions != ["2", "2"]:
        raise _wrong(
            "a server without HTTP/3 sends no `alt-svc` header, and then the second request "
            f"must stay on HTTP/2; the server saw {_shown(versions)}",
            error,
        )
    if error:
        raise _raised(error)
    if answer != ("HTTP/2", "HTTP/2"):
        raise Incorrect(
            f"without Alt-Svc both requests went over HTTP/2, but you returned {answer!r:.80}"
        )
    return (
        "HTTP/2 then HTTP/3 where Alt-Svc offered it (on another port than the URL's), "
        "and HTTP/2 twice where it did not"
    )


q1 = Exercise(
    "10.1",
    "The protocol ALPN agreed",
    _check_alpn,
    answer="negotiated_protocol",
    hints=[
        "`ctx = httplab.tls.client_context()` then `ctx.set_alpn_protocols(offer)`.",
        "Open a TCP connection with `socket.create_connection((host, port), timeout=timeout)` "
        "and wrap it: `ctx.wrap_socket(raw, server_hostname=host)` performs the TLS handshake "
        "(the timeout covers it too).",
        "`tls_socket.selected_alpn_protocol()` is what the server chose: a name, or None. "
        "Close both sockets (`with` blocks).",
    ],
    solution="10-http2-and-http3.ipynb",
)

q2 = Exercise(
    "10.2",
    "Count HTTP/2 streams over one connection",
    _check_multiplexed,
    answer="fetch_multiplexed",
    hints=[
        "One `httpx.AsyncClient(http2=True, verify=httplab.tls.client_context(), timeout=5)`, "
        "created once, used for every request.",
        "Build the n coroutines `client.get(url, headers={'X-Client-Id': client_id})` first, "
        "then `await asyncio.gather(*coroutines)`: all n are in flight at once.",
        "Return `[response.http_version for response in responses]`.",
    ],
    solution="10-http2-and-http3.ipynb",
)

q3 = Exercise(
    "10.3",
    "From Alt-Svc to HTTP/3",
    _check_upgrade,
    answer="h2_then_h3",
    hints=[
        "First `response = await client.get(url, headers=...)` with an HTTP/2 httpx client; "
        "`response.headers.get('alt-svc')` is None when the server offers no alternative.",
        "`re.search(r'h3=\":(\\d+)\"', alt_svc)` finds the advertised port; the host is the "
        "URL's (`urlsplit(url).hostname`), and the path too.",
        "`await h3client.get(f'https://{host}:{port}{path}', cafile=httplab.tls.ca_file(), "
        "headers=...)` makes the HTTP/3 request; without Alt-Svc, repeat `client.get`.",
    ],
    solution="10-http2-and-http3.ipynb",
)
