"""Exercises of lesson 01: HTTP/1.1 on a raw socket, and taking the answer apart.

q1 sends a request by hand, q2 parses a response framed by Content-Length, q3 also decodes a
chunked body. The checks fetch real responses from the lab with a raw socket and compare the
learner's parse with h11's (the sans-IO parser the lesson recommends for real work).
"""

from __future__ import annotations

import base64
import json
import socket
from typing import Any
from urllib.parse import urlsplit

import h11
import requests

from .. import lab as _lab
from ..checks import Exercise, Incorrect, call, call_within, short
from ..misbehaving import require_timeout

DEADLINE = 10.0  # seconds a learner's fetch may take before the check gives up on it


def _call_with_deadline(function, *args: Any) -> Any:
    """call(function, *args), but give up (with advice) if it has not returned in DEADLINE s.

    A socket read with no timeout on a kept-alive connection waits forever; the learner gets
    a message instead of a hung cell. The stuck thread ends when the server drops the idle
    connection.
    """
    name = getattr(function, "__name__", "your function")
    late = (
        f"{name} did not return within {DEADLINE:g} s: the server keeps an HTTP/1.1 connection "
        "open, so reading until the connection closes waits forever unless you send "
        "`Connection: close` (and give the socket a timeout)"
    )
    try:
        return call_within(function, *args, seconds=DEADLINE, late=late, thread="httplab-check-01")
    except Incorrect as error:
        if str(error) == late or "TimeoutError" not in str(error):
            raise
        raise Incorrect(
            f"{name} raised TimeoutError: the server keeps an HTTP/1.1 connection open after "
            "its answer, so a read waits until the timeout; send `Connection: close` to make it "
            "hang up"
        ) from None


def _exchange(base_url: str, request: str) -> bytes:
    """Send raw request bytes and read everything until the server closes the connection."""
    where = urlsplit(base_url)
    with socket.create_connection((where.hostname, where.port), timeout=5) as sock:
        sock.sendall(request.encode("ascii"))
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def fetch(base_url: str, target: str, method: str = "GET", extra: str = "") -> bytes:
    """The raw bytes of one response, fetched over a plain socket with Connection: close."""
    host = urlsplit(base_url).netloc
    request = f"{method} {target} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n"
    return _exchange(base_url, request)


def fetch_two(base_url: str, first: str, second: str) -> bytes:
    """Two GETs on one kept-alive connection; returns both responses, back to back."""
    host = urlsplit(base_url).netloc
    request = (
        f"GET {first} HTTP/1.1\r\nHost: {host}\r\n\r\n"
        f"GET {second} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    return _exchange(base_url, request)


def reference_parse(raw: bytes, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """(status, headers with lower-case names, body) of the FIRST response in `raw`, by h11."""
    connection = h11.Connection(our_role=h11.CLIENT)
    connection.send(h11.Request(method=method, target="/", headers=[("Host", "lab")]))
    connection.send(h11.EndOfMessage())
    connection.receive_data(raw)
    status, headers, body = 0, {}, b""
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:  # a body delimited by the end of the connection
            connection.receive_data(b"")
        elif isinstance(event, h11.Response):
            status = event.status_code
            headers = {n.decode("latin-1"): v.decode("latin-1") for n, v in event.headers}
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            return status, headers, body


def _check_tuple(answer: Any, what: str) -> tuple[int, dict, bytes]:
    if not isinstance(answer, tuple) or len(answer) != 3:
        raise Incorrect(
            f"for {what} you returned {short(answer)}: return a tuple `(status, headers, body)`"
        )
    status, headers, body = answer
    if not isinstance(status, int) or isinstance(status, bool):
        raise Incorrect(f"for {what} the status is {status!r}: return it as an `int`")
    if not isinstance(headers, dict):
        raise Incorrect(f"for {what} the headers are a {type(headers).__name__}: return a `dict`")
    if not isinstance(body, bytes):
        raise Incorrect(
            f"for {what} the body is a {type(body).__name__}: return `bytes` (the body may be "
            "binary, so do not decode it)"
        )
    return status, headers, body


def _compare(answer: Any, raw: bytes, what: str, method: str = "GET") -> None:
    """Raise Incorrect with a specific message if `answer` is not the parse of `raw`."""
    status, headers, body = _check_tuple(answer, what)
    want_status, want_headers, want_body = reference_parse(raw, method)
    if status != want_status:
        raise Incorrect(f"for {what} the status is {want_status}, you returned {status}")
    for name, value in want_headers.items():
        if name not in headers:
            similar = [key for key in headers if str(key).lower() == name]
            if any(str(key).lower().startswith(f"{name}:") for key in headers):
                raise Incorrect(
                    f"for {what} a header name of yours holds a ':' (the {name!r} line was cut at "
                    "a later colon): split each header line at its FIRST ':' only "
                    "(`line.partition(':')`)"
                )
            if similar:
                raise Incorrect(
                    f"for {what} your header names keep their case ({similar[0]!r}): header "
                    f"names are case-insensitive, so store them in lower case ({name!r})"
                )
            raise Incorrect(f"for {what} the header {name!r} is missing from your dict")
        if headers[name] != value:
            got = headers[name]
            if isinstance(got, str) and got != value and got.strip() == value:
                raise Incorrect(
                    f"for {what} the value of the {name!r} header is {short(got)}, with "
                    "spaces around it: strip them (`value.strip()`)"
                )
            if ":" in value and isinstance(got, str) and value.startswith(got):
                raise Incorrect(
                    f"for {what} the value of the {name!r} header is cut short: split each "
                    "header line at its FIRST ':' only (dates and URLs contain ':')"
                )
            raise Incorrect(
                f"for {what} the header {name!r} is {short(value)}, you returned {short(got)}"
            )
    extra = sorted(set(headers) - set(want_headers), key=str)
    if extra:
        raise Incorrect(
            f"for {what} your headers have names that are not in the response: {short(extra)}"
        )
    if body != want_body:
        raise Incorrect(
            f"for {what} the body should be {short(want_body)}, you returned "
            f"{short(body)}{_body_advice(body, want_body, want_status, want_headers)}"
        )


def _body_advice(body: bytes, want: bytes, status: int, headers: dict[str, str]) -> str:
    if body and b"".join(body.split()) == b"".join(want.split()):
        return (
            ": your body lost some whitespace; the body is bytes to keep exactly as they are "
            "(no `strip()`)"
        )
    if status in NO_BODY or 100 <= status < 200:
        return (
            f": a {status} response never has a body, whatever Content-Length says (RFC 9112, "
            "section 6.3); it ends at the empty line, and what follows is the next response"
        )
    if "transfer-encoding" in headers:
        return (
            ": the body is chunked, so decode it: read a size line in hexadecimal, then that "
            "many bytes and a CRLF, and repeat until a chunk of size 0"
        )
    if len(body) > len(want) and body.startswith(want):
        return (
            f": the body is the first {len(want)} bytes after the blank line, as Content-Length "
            "says; what follows belongs to the next response on the connection"
        )
    if "content-length" not in headers and "transfer-encoding" not in headers:
        return (
            ": without `Content-Length` (and not chunked) the body is everything after the "
            "empty line, until the server closes the connection"
        )
    if len(body) < len(want) and want.startswith(body):
        return (
            ": your body stops early; the head ends at the FIRST blank line (\\r\\n\\r\\n), "
            "and everything after it belongs to the body, even another \\r\\n\\r\\n"
        )
    return ""


# --- q1: a request typed onto a socket ------------------------------------------------------


def _check_fetch_raw(fetch_raw) -> str:
    lab = _lab.start()
    api = urlsplit(lab.api)
    client = _lab.new_client_id("ex01")
    probes = [
        (f"/api/users/7?client={client}", "/api/users/7", 200),
        (f"/api/users/999?client={client}", "/api/users/999", 404),
        (f"/api/download?size=200000&client={client}", "/api/download", 200),
    ]
    answers = []
    for target, path, status in probes:
        try:
            answer = _call_with_deadline(fetch_raw, api.hostname, api.port, target)
        except Incorrect as wrong:
            if "TimeoutError" in str(wrong) or "did not return" in str(wrong):
                _require_received(lab, client, path)
            raise
        if not isinstance(answer, bytes):
            raise Incorrect(
                f"fetch_raw returned a {type(answer).__name__}: return the raw bytes, exactly "
                "as `recv()` gave them (join the pieces with `b''.join(...)`)"
            )
        head, _, body = answer.partition(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        if status_line.split(" ")[1:2] == ["400"]:
            said = " ".join(body.decode("latin-1").split())  # aiohttp's errors span lines
            said = said.split(" b'")[0].rstrip(":")  # without the echo of the request's bytes
            said = said if len(said) <= 70 else said[:67] + "..."
            raise Incorrect(
                f"for {path} the server answered {status_line!r} ({said}): {_bad_request(said)}"
            )
        seen = _require_received(lab, client, path)
        if seen[-1]["method"] != "GET":
            raise Incorrect(f"the server saw {seen[-1]['method']} {path}: send a GET")
        if not answer:
            raise Incorrect(
                f"for {path} you returned b'' (no bytes), although the server received your "
                "GET: keep calling `recv()` until it returns `b''` and return everything it gave. "
                "If you did, the server sent nothing back: aiohttp drops its answer when the "
                "client has shut down its side of the connection (`sock.shutdown(SHUT_WR)`) "
                "before the answer was written, so keep the socket open while you read"
            )
        if status_line.startswith("HTTP/1.0 "):
            raise Incorrect(
                f"for {path} the server answered in HTTP/1.0, because your request line said "
                f"HTTP/1.0: send `GET {path}?client=... HTTP/1.1`"
            )
        if not status_line.startswith(f"HTTP/1.1 {status} "):
            raise Incorrect(
                f"for {path} the response should start with 'HTTP/1.1 {status} ...', yours "
                f"starts with {short(answer[:30])}: return the bytes exactly as received"
            )
        lines = head.decode("latin-1").lower().split("\r\n")
        lengths = [line.partition(":")[2] for line in lines if line.startswith("content-length:")]
        length = int(lengths[0]) if lengths else 0
        if len(body) < length:
            raise Incorrect(
                f"for {path} the response is cut short: the body has fewer bytes than its "
                "Content-Length says; a single `recv()` returns whatever has arrived so far, so "
                "keep calling `recv()` until it returns `b''` (the server closed the connection)"
            )
        answers.append(answer)
    truth = requests.get(f"{lab.api}/api/users/7", timeout=5).json()
    user = json.loads(reference_parse(answers[0])[2])
    if user != truth:
        raise Incorrect(f"the body of /api/users/7 should be {truth}, yours parses to {user}")
    download = requests.get(f"{lab.api}/api/download?size=200000", timeout=5).content
    if reference_parse(answers[2])[2] != download:
        raise Incorrect(
            "the body of /api/download differs from the bytes the server sent: return them "
            "unchanged (the body is binary: never decode and re-encode it)"
        )
    received = require_timeout(
        lambda host, port: call(fetch_raw, host, port, "/never-answers"),
        fix="Give the socket a timeout: `socket.create_connection((host, port), timeout=5)`.",
    )
    if received.half_closed:
        raise Incorrect(
            "your function shut down its side of the connection (`sock.shutdown(SHUT_WR)`) "
            "before the answer came: a server may take that for a client that gave up (aiohttp "
            "then drops its answer), so keep the socket open while you read"
        )
    _check_host(received.head)
    return (
        "your raw GET got complete responses: a 200, a 404 and a 200 kB download; and a "
        "server that never answers cannot make it wait forever"
    )


def _require_received(lab: _lab.Lab, client: str, path: str) -> list[dict[str, Any]]:
    """The course API's log of `client`'s requests for `path`; Incorrect if there is none."""
    seen = [entry for entry in lab.stats(client)["log"] if entry["path"] == path]
    if not seen:
        raise Incorrect(
            f"the course API received no complete request for {path}: send the whole target "
            f"you were given, `GET {path}?client=... HTTP/1.1`, and end the head with an empty "
            "line (the request ends in `\\r\\n\\r\\n`), or the server keeps waiting for it"
        )
    return seen


def _bad_request(said: str) -> str:
    """What to change in a request the server answered with 400, from what it said."""
    if "method" in said.lower():
        return "a method name is case-sensitive: send `GET` in upper case"
    return (
        "an HTTP/1.1 request needs a `Host: host:port` header, lines ending in \\r\\n, and "
        "an empty line at the end"
    )


def _check_host(head: bytes) -> None:
    """Incorrect unless the request's Host header is the host:port it was sent to (RFC 9112,
    section 3.2: the authority of the target URI, port included when it is not 80)."""
    lines = head.decode("latin-1").split("\r\n")
    sent = [
        line.partition(":")[2].strip() for line in lines[1:] if line.lower().startswith("host:")
    ]
    if sent and ":" not in sent[0]:
        raise Incorrect(
            f"you sent `Host: {sent[0][:40]}` without the port: the Host header names the "
            "server as host and port, `Host: {host}:{port}` (RFC 9112, section 3.2), so that "
            "a server behind one address can tell its sites apart"
        )


q1 = Exercise(
    "01.1",
    "A raw GET over a socket",
    _check_fetch_raw,
    answer="fetch_raw",
    hints=[
        "`socket.create_connection((host, port), timeout=5)` opens the TCP connection; "
        "`sock.sendall(request_bytes)` sends your request.",
        "The request is 'GET <target> HTTP/1.1\\r\\n', then 'Host: <host>:<port>\\r\\n', then "
        "'Connection: close\\r\\n', then an empty line '\\r\\n'; encode it with .encode('ascii').",
        "With `Connection: close` the server hangs up after its answer: loop on "
        "`sock.recv(4096)` until it returns b'', and join the pieces.",
    ],
    solution="01-anatomy-of-http.ipynb",
)


# --- q2: parse a response framed by Content-Length ------------------------------------------

NO_BODY = (204, 304)  # with every 1xx: no body, whatever the headers say (RFC 9112, 6.3)
COLON_VALUE = "/response-headers?X-Meeting=10:30&X-Course=http"
TRICKY_TEXT = b"first part\r\n\r\nX-Not-A-Header: this is still the body\r\n"
# An HTTP/1.0-style answer: no Content-Length, not chunked; the body ends when the server closes
UNTIL_CLOSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
    b"no Content-Length here: the body is everything until the server hangs up\n"
)


def _length_probes() -> list[tuple[str, bytes, str]]:
    """(what, raw bytes, method) of real responses from the lab, framed by Content-Length."""
    lab = _lab.start()
    tricky = base64.urlsafe_b64encode(TRICKY_TEXT).decode()
    return [
        ("GET /api/users/5", fetch(lab.api, "/api/users/5"), "GET"),
        ("GET /api/users/999 (a 404)", fetch(lab.api, "/api/users/999"), "GET"),
        ("OPTIONS /api/users (a 204)", fetch(lab.api, "/api/users", "OPTIONS"), "OPTIONS"),
        (f"GET {COLON_VALUE} on httpbin", fetch(lab.httpbin, COLON_VALUE), "GET"),
        ("a body that contains \\r\\n\\r\\n", fetch(lab.httpbin, f"/base64/{tricky}"), "GET"),
        (
            "two responses read from one kept-alive connection",
            fetch_two(lab.api, "/api/users/1", "/api/users/2"),
            "GET",
        ),
        (
            "a 304 with a Content-Length, then the next response on the connection",
            _not_modified_then_next(lab.api),
            "GET",
        ),
        ("a response without Content-Length, ended by closing the connection", UNTIL_CLOSE, "GET"),
    ]


def _not_modified_then_next(base_url: str) -> bytes:
    """A real 304 and the response after it, with the 304 stating the length of the 200 body.

    RFC 9110 (section 8.6) lets a server put that Content-Length on a 304; the lab's servers
    leave it out, so it is written in by hand: a parser that counts it eats the next response.
    """
    where = urlsplit(base_url)
    user = requests.get(f"{base_url}/api/users/1", timeout=5)
    request = (
        f"GET /api/users/1 HTTP/1.1\r\nHost: {where.netloc}\r\n"
        f"If-None-Match: {user.headers['ETag']}\r\n\r\n"
        f"GET /api/users/2 HTTP/1.1\r\nHost: {where.netloc}\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection((where.hostname, where.port), timeout=5) as sock:
        sock.sendall(request.encode("ascii"))
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    raw = b"".join(chunks)
    assert raw.startswith(b"HTTP/1.1 304 "), raw[:40]
    length = f"\r\nContent-Length: {len(user.content)}\r\n".encode("ascii")
    return raw.replace(b"\r\n", length, 1)  # after the status line


def _check_parse(parse_response, probes: list[tuple[str, bytes, str]]) -> None:
    for what, raw, method in probes:
        _compare(_parse(parse_response, raw, what), raw, what, method)


def _parse(parse_response, raw: bytes, what: str) -> Any:
    """call(parse_response, raw), with advice when it raised KeyError for a missing header."""
    try:
        return call(parse_response, raw)
    except Incorrect as wrong:
        if "raised KeyError" not in str(wrong):
            raise
        raise Incorrect(
            f"for {what}: {wrong}. Not every response has every header: read one that may be "
            "missing with `headers.get(name, '')`"
        ) from None


def _check_parse_response(parse_response) -> str:
    probes = _length_probes()
    _check_parse(parse_response, probes)
    return (
        f"right status, headers and body for all {len(probes)} responses, including a 204, a "
        "304 with a Content-Length, a body with a blank line inside, two responses back to "
        "back and a body that ends when the connection does"
    )


q2 = Exercise(
    "01.2",
    "Parse a response (Content-Length)",
    _check_parse_response,
    answer="parse_response",
    hints=[
        "`raw.partition(b'\\r\\n\\r\\n')` splits the head from the rest at the FIRST blank line.",
        "Decode the head with 'iso-8859-1' and split it into lines at '\\r\\n'; the first line "
        "is 'HTTP/1.1 200 OK'; split every other line at its first ':' with "
        "`line.partition(':')`, lower-case the name and strip the value.",
        "The body is the first int(headers['content-length']) bytes of the rest; with no "
        "Content-Length it is all of the rest; a 1xx, 204 or 304 has no body at all.",
    ],
    solution="01-anatomy-of-http.ipynb",
)


# --- q3: a chunked body -----------------------------------------------------------------------

# Hand-written responses with what real servers may send and the lab's servers happen not to:
# upper-case hex sizes, chunk extensions, trailer fields, chunk data that looks like an end.
CRAFTED = [
    (
        "chunks with upper-case hex sizes and an extension (1A;lang=en)",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"1A;lang=en\r\nabcdefghijklmnopqrstuvwxyz\r\nA\r\n0123456789\r\n0\r\n\r\n",
        b"abcdefghijklmnopqrstuvwxyz0123456789",
    ),
    (
        "a chunk whose data contains '\\r\\n0\\r\\n\\r\\n'",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"d\r\nend?\r\n0\r\n\r\nno\r\n5\r\n more\r\n0\r\n\r\n",
        b"end?\r\n0\r\n\r\nno more",
    ),
    (
        "a chunked body followed by a trailer field",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
        b"5\r\nhello\r\n0\r\nX-Checksum: 5d41402a\r\n\r\n",
        b"hello",
    ),
]


def _check_parse_chunked(parse_chunked_response) -> str:
    lab = _lab.start()
    streamed = "/stream-bytes/3000?chunk_size=1000&seed=7"
    real = [
        ("GET /stream/3 on httpbin (chunked JSON lines)", fetch(lab.httpbin, "/stream/3"), "GET"),
        (f"GET {streamed} on httpbin (chunked bytes)", fetch(lab.httpbin, streamed), "GET"),
    ]
    _check_parse(parse_chunked_response, real)
    # The same bytes, decoded by requests (urllib3): a second, independent opinion.
    expected = requests.get(f"{lab.httpbin}{streamed}", timeout=5).content
    assert reference_parse(real[1][1])[2] == expected
    for what, raw, body in CRAFTED:
        try:
            answer = _check_tuple(call(parse_chunked_response, raw), what)
        except Incorrect as wrong:
            raise Incorrect(f"for {what}: {wrong}{_crafted_advice(what)}") from None
        if answer[2] != body:
            raise Incorrect(
                f"for {what} the body should be {short(body)}, you returned "
                f"{short(answer[2])}{_crafted_advice(what)}"
            )
    length_probes = _length_probes()
    again = length_probes[:2] + [p for p in length_probes if p[0].startswith("two responses")]
    _check_parse(parse_chunked_response, again)
    return (
        "chunked bodies decoded (real ones from httpbin, extensions, trailers, tricky data), "
        "and Content-Length responses still right"
    )


def _crafted_advice(what: str) -> str:
    if "extension" in what:
        return (
            ": a size line is hexadecimal (`int(size, 16)` accepts 'A' and 'a') and may carry "
            "an extension after ';', which you ignore"
        )
    if "contains" in what:
        return (
            ": read each chunk by its size, never by searching for '0\\r\\n\\r\\n' or splitting "
            "on '\\r\\n' (chunk data may contain both)"
        )
    return ": after the chunk of size 0 come optional trailer fields; they are not body"


q3 = Exercise(
    "01.3",
    "Parse a response with a chunked body",
    _check_parse_chunked,
    answer="parse_chunked_response",
    hints=[
        "Start from your parse_response: if headers.get('transfer-encoding', '').lower() is "
        "'chunked', decode the rest instead of counting Content-Length bytes.",
        "Loop: find the next b'\\r\\n'; the size is the text before it, up to any ';', read "
        "as hexadecimal; then take exactly that many bytes and skip the b'\\r\\n' after them.",
        "Stop at the chunk of size 0; what follows (trailer fields, an empty line) is not body.",
    ],
    solution="01-anatomy-of-http.ipynb",
)
