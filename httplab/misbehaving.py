"""Loopback addresses that misbehave, for checks that a learner's client copes: a port where
nothing listens, one that accepts connections and never answers, and `require_timeout`, which
sends the learner's code to such a server and reads the timeout of the learner's socket while
it waits (so a correct answer costs no waiting)."""

from __future__ import annotations

import contextlib
import gc
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from .checks import Incorrect, NotAttempted


def closed_port() -> int:
    """A loopback port where nothing listens: bind a socket, note its port, close it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def silent_port(lifetime: float) -> Iterator[int]:
    """A loopback port that accepts connections (the kernel does, from its backlog) and never
    reads nor answers: only a timeout ends a client's wait there. After `lifetime` seconds,
    and at the end of the block, the listener closes, which resets the connections still
    waiting, so that a client without a timeout is not stuck forever."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    timer = threading.Timer(lifetime, listener.close)
    timer.daemon = True
    timer.start()
    try:
        yield listener.getsockname()[1]
    finally:
        timer.cancel()
        listener.close()


PATIENCE = 30.0  # seconds: a longer timeout is no protection for a learner at a notebook
ARRIVAL = 5.0  # seconds the silent server waits for the learner's request to arrive


def socket_timeouts(
    *, local: tuple[str, int] | None = None, peer_port: int | None = None
) -> list[float | None]:
    """The timeouts of this process's open sockets (the learner's, found while they wait)
    whose local address is `local`, or which are connected to 127.0.0.1:`peer_port`."""
    found = []
    for thing in gc.get_objects():
        try:
            if not isinstance(thing, socket.socket) or thing.fileno() == -1:
                continue
            if local is not None and thing.getsockname()[:2] == local[:2]:
                found.append(thing.gettimeout())
            elif peer_port is not None and thing.getpeername()[:2] == ("127.0.0.1", peer_port):
                found.append(thing.gettimeout())
        except (OSError, ReferenceError):  # closed meanwhile, or a dead weak proxy
            continue
    return found


def _accept(listener: socket.socket, worker: threading.Thread) -> socket.socket | None:
    """The learner's connection, or None if none came (the learner's code ended first)."""
    listener.settimeout(0.05)
    deadline = time.monotonic() + ARRIVAL
    while time.monotonic() < deadline:
        try:
            connection, _ = listener.accept()
            return connection
        except TimeoutError:
            if not worker.is_alive():
                return None
    return None


def _read_head(connection: socket.socket) -> bytes:
    """Read the learner's request head (and never answer it)."""
    connection.settimeout(ARRIVAL)
    received = b""
    try:
        while b"\r\n\r\n" not in received and (piece := connection.recv(4096)):
            received += piece
    except OSError:
        pass
    return received


class Received(NamedTuple):
    """What the silent server saw: the request's head, and whether the client had shut down
    its sending side (sock.shutdown(SHUT_WR)) while it waited."""

    head: bytes
    half_closed: bool


def _half_closed(connection: socket.socket) -> bool:
    """True if the client has shut down its sending side: a peek finds the end of the stream."""
    connection.setblocking(False)  # a timeout would make recv wait for the client to close
    try:
        return connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:  # nothing to read yet (BlockingIOError), or the connection is gone
        return False


def require_timeout(run: Callable[[str, int], Any], *, fix: str) -> Received:
    """Call `run(host, port)` (which calls the learner's code) against a server that accepts
    and never answers; Incorrect, naming `fix`, unless the learner's socket waits with a
    timeout of at most PATIENCE s.

    The timeout is read from the learner's socket while it waits, so a correct answer costs
    no waiting; where the socket cannot be found, the check waits up to PATIENCE s for the
    learner's code to give up. Returns what the server received.
    """
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["value"] = run(host, port)
        except BaseException as exc:  # the learner's failure: expected here, a timeout
            box["error"] = exc

    with socket.create_server(("127.0.0.1", 0)) as listener:
        host, port = listener.getsockname()[:2]
        worker = threading.Thread(target=work, name="httplab-check-timeout", daemon=True)
        worker.start()
        connection = _accept(listener, worker)
    if connection is None:
        worker.join(ARRIVAL)
        if isinstance(box.get("error"), Incorrect | NotAttempted):
            raise box["error"]
        raise Incorrect("your function never connected to the server it was given")
    with connection:
        head = _read_head(connection)
        peer = connection.getpeername()
        seen: list[float | None] = []
        looks = 0
        while looks < 8 and None not in seen and worker.is_alive():
            time.sleep(0.1)  # the learner's code may set its read timeout just after sending
            found = socket_timeouts(local=peer)
            seen += found
            looks += 4 if found else 1  # once found, one more look to be sure
        if not seen:  # the socket is out of sight: wait for the learner's code to give up
            worker.join(PATIENCE)
        gave_up = not worker.is_alive()
        received = Received(head, _half_closed(connection))
        with contextlib.suppress(OSError):  # the learner's code may have hung up already
            connection.shutdown(socket.SHUT_RDWR)  # frees a learner's code that waits forever
    worker.join(ARRIVAL)
    if None in seen or not (seen or gave_up):
        raise Incorrect(
            "a server that accepts the connection and never answers kept your function waiting "
            f"with no timeout: it would wait forever. {fix}"
        )
    longest = max((timeout for timeout in seen if timeout is not None), default=0.0)
    if longest > PATIENCE:
        raise Incorrect(
            f"your function would wait {longest:g} s for a server that never answers (its "
            f"timeout): give up after a few seconds. {fix}"
        )
    return received
