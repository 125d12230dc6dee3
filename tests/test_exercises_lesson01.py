"""Lesson 01's checks: known-wrong answers are incorrect, with a message that names the fix;
correct answers written differently from the solutions pass."""

from __future__ import annotations

import io
import re
import socket

import pytest
from exercise_testing import assert_incorrect

from httplab.checks import Outcome
from httplab.exercises import lesson01
from httplab.exercises.lesson01 import q1, q2, q3


def test_the_reference_parser_agrees_with_requests():
    """The checks' truth (h11) decodes a chunked body as requests does."""
    import requests

    lab = lesson01._lab.start()
    target = "/stream-bytes/3000?chunk_size=1000&seed=7"
    raw = lesson01.fetch(lab.httpbin, target)
    assert b"Transfer-Encoding: chunked" in raw
    status, headers, body = lesson01.reference_parse(raw)
    assert status == 200 and headers["transfer-encoding"] == "chunked"
    assert body == requests.get(f"{lab.httpbin}{target}", timeout=5).content


# --- q1: known-wrong ways to fetch ---------------------------------------------------------


def _send(host, port, request, timeout=5, reads=None):
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(request.encode("ascii"))
        if reads == 1:
            return sock.recv(65536)
        pieces = []
        while piece := sock.recv(4096):
            pieces.append(piece)
    return b"".join(pieces)


def without_host(host, port, target):
    return _send(host, port, f"GET {target} HTTP/1.1\r\nConnection: close\r\n\r\n")


def without_connection_close(host, port, target):
    return _send(host, port, f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n", timeout=1)


def one_recv(host, port, target):
    request = f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    return _send(host, port, request, reads=1)


def decoded(host, port, target):
    request = f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    return _send(host, port, request).decode("latin-1")


def path_only(host, port, target):
    path = target.split("?")[0]
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    return _send(host, port, request)


def with_head(host, port, target):
    request = f"HEAD {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    return _send(host, port, request)


def half_closes(host, port, target):
    """Shuts down its side before reading: aiohttp then sends no answer at all."""
    request = f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(request.encode("ascii"))
        sock.shutdown(socket.SHUT_WR)
        pieces = []
        while piece := sock.recv(4096):
            pieces.append(piece)
    return b"".join(pieces)


def bare_line_feeds(host, port, target):
    return _send(host, port, f"GET {target} HTTP/1.1\nHost: {host}:{port}\nConnection: close\n\n")


def no_timeout(host, port, target):
    request = f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    return _send(host, port, request, timeout=None)


def two_minutes(host, port, target):
    request = f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    return _send(host, port, request, timeout=120)


def no_blank_line(host, port, target):
    request = f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"
    return _send(host, port, request, timeout=1)


def stops_on_a_short_read(host, port, target):
    request = f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(request.encode("ascii"))
        pieces = []
        while True:
            piece = sock.recv(4096)
            pieces.append(piece)
            if len(piece) < 4096:
                break
    return b"".join(pieces)


def host_without_port(host, port, target):
    return _send(host, port, f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")


def lower_case_method(host, port, target):
    request = f"get {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    return _send(host, port, request)


def utf8_round_trip(host, port, target):
    request = f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    return _send(host, port, request).decode("utf-8", errors="replace").encode("utf-8")


def http_1_0(host, port, target):
    return _send(host, port, f"GET {target} HTTP/1.0\r\nHost: {host}:{port}\r\n\r\n")


def body_only(host, port, target):
    request = f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    return _send(host, port, request).partition(b"\r\n\r\n")[2]


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (without_host, "the server answered 'HTTP/1.0 400 Bad Request' (Missing 'Host' header"),
        (without_connection_close, "raised TimeoutError: the server keeps an HTTP/1.1"),
        (one_recv, "for /api/download the response is cut short"),
        (decoded, "fetch_raw returned a str: return the raw bytes"),
        (path_only, "the course API received no complete request for /api/users/7"),
        (with_head, "the server saw HEAD /api/users/7: send a GET"),
        (body_only, "the response should start with 'HTTP/1.1 200 ...'"),
        (half_closes, "(`sock.shutdown(SHUT_WR)`)"),
        (half_closes, "keep the socket open while you read"),
        (bare_line_feeds, "400 Bad Request' (Bad status line: Expected CRLF after version):"),
        (bare_line_feeds, "lines ending in \\r\\n"),
        (no_timeout, "never answers kept your function waiting with no timeout"),
        (no_timeout, "`socket.create_connection((host, port), timeout=5)`"),
        (two_minutes, "your function would wait 120 s for a server that never answers"),
        (no_blank_line, "received no complete request for /api/users/7"),
        (no_blank_line, "end the head with an empty line"),
        (stops_on_a_short_read, "for /api/download the response is cut short"),
        (host_without_port, "you sent `Host: 127.0.0.1` without the port"),
        (lower_case_method, "a method name is case-sensitive: send `GET` in upper case"),
        (utf8_round_trip, "the body of /api/download differs from the bytes the server sent"),
        (http_1_0, "because your request line said HTTP/1.0: send `GET /api/users/7?client=..."),
    ],
)
def test_q1_wrong_answers(wrong, message):
    assert_incorrect(q1.check(wrong), message)


def file_like(host, port, target):
    """Correct too: socket.socket, then connect, and the reply read through makefile()."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(3)
    try:
        sock.connect((host, port))
        lines = [f"GET {target} HTTP/1.1", f"Host: {host}:{port}", "Connection: close", "", ""]
        sock.sendall("\r\n".join(lines).encode("ascii"))
        with sock.makefile("rb") as reply:
            return reply.read()
    finally:
        sock.close()


def test_q1_accepts_makefile():
    result = q1.check(file_like)
    assert result.outcome is Outcome.CORRECT, result.message


def test_q1_messages_fit_on_one_line():
    """aiohttp's parser errors span several lines; the message shows them on one."""
    result = q1.check(bare_line_feeds)
    assert_incorrect(result, "Bad Request")
    assert "\n" not in result.message


def test_q1_a_fetch_that_never_returns_gets_a_message(monkeypatch):
    monkeypatch.setattr(lesson01, "DEADLINE", 0.5)

    def waits_forever(host, port, target):  # no timeout and no Connection: close
        sock = socket.create_connection((host, port))
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        pieces = []
        while piece := sock.recv(4096):
            pieces.append(piece)
        return b"".join(pieces)

    result = q1.check(waits_forever)
    assert_incorrect(result, "waits_forever did not return within 0.5 s")
    assert "Connection: close" in result.message


# --- q2: known-wrong parsers ---------------------------------------------------------------


def head_of(raw):
    """A correct parse of the head: (status, headers, everything after the empty line)."""
    head, _, rest = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("iso-8859-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split(" ")[1]), headers, rest


def by_length(raw):
    status, headers, rest = head_of(raw)
    return status, headers, rest[: int(headers.get("content-length", len(rest)))]


def splits_at_every_blank_line(raw):
    status, headers, _ = head_of(raw)
    body = raw.split(b"\r\n\r\n")[1]
    return status, headers, body[: int(headers.get("content-length", len(body)))]


def keeps_the_case(raw):
    status, headers, body = by_length(raw)
    head = raw.partition(b"\r\n\r\n")[0].decode("iso-8859-1")
    cased = dict(line.split(": ", 1) for line in head.split("\r\n")[1:])
    return status, cased, body


def splits_at_every_colon(raw):
    status, _, body = by_length(raw)
    head = raw.partition(b"\r\n\r\n")[0].decode("iso-8859-1")
    headers = {}
    for line in head.split("\r\n")[1:]:
        parts = line.split(":")
        headers[parts[0].lower()] = parts[1].strip()
    return status, headers, body


def counts_length_on_a_304(raw):
    """Right everywhere, except that it reads Content-Length bytes after a 304's head."""
    return by_length(raw)


def ignores_content_length(raw):
    return head_of(raw)


def status_as_text(raw):
    status, headers, body = by_length(raw)
    return str(status), headers, body


def body_as_text(raw):
    status, headers, body = by_length(raw)
    return status, headers, body.decode("utf-8")


def a_list(raw):
    return list(by_length(raw))


def adds_the_status_line(raw):
    status, headers, body = by_length(raw)
    return status, {**headers, "status": str(status)}, body


def values_not_stripped(raw):
    status, _, body = by_length(raw)
    head = raw.partition(b"\r\n\r\n")[0].decode("iso-8859-1")
    headers = {}
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        headers[name.lower()] = value
    return status, headers, body


def empty_without_length(raw):
    status, headers, rest = head_of(raw)
    if status in (204, 304):
        return status, headers, b""
    return status, headers, rest[: int(headers.get("content-length", 0))]


def splits_at_the_last_colon(raw):
    status, _, body = by_length(raw)
    head = raw.partition(b"\r\n\r\n")[0].decode("iso-8859-1")
    headers = {}
    for line in head.split("\r\n")[1:]:
        name, _, value = line.rpartition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def headers_as_pairs(raw):
    status, headers, body = by_length(raw)
    return status, list(headers.items()), body


def strips_the_body(raw):
    status, headers, body = by_length(raw)
    return status, headers, b"" if status in (204, 304) else body.strip()


def body_for_every_status(raw):
    """Counts Content-Length bytes even for a 204 and a 304."""
    status, headers, rest = head_of(raw)
    return status, headers, rest[: int(headers.get("content-length", 0))]


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (values_not_stripped, "with spaces around it: strip them (`value.strip()`)"),
        (body_for_every_status, "a 304 response never has a body"),
        (empty_without_length, "without `Content-Length` (and not chunked) the body is everything"),
        (splits_at_the_last_colon, "(the 'date' line was cut at a later colon): split each"),
        (headers_as_pairs, "the headers are a list: return a `dict`"),
        (strips_the_body, "your body lost some whitespace; the body is bytes to keep exactly"),
        (splits_at_every_blank_line, "the head ends at the FIRST blank line"),
        (keeps_the_case, "your header names keep their case ('Content-Type')"),
        (splits_at_every_colon, "split each header line at its FIRST ':' only"),
        (ignores_content_length, "the body is the first 55 bytes after the blank line"),
        (counts_length_on_a_304, "for a 304 with a Content-Length, then the next response"),
        (counts_length_on_a_304, "a 304 response never has a body, whatever Content-Length says"),
        (status_as_text, "the status is '200': return it as an `int`"),
        (body_as_text, "the body is a str: return `bytes`"),
        (a_list, "return a tuple `(status, headers, body)`"),
        (adds_the_status_line, "your headers have names that are not in the response: ['status']"),
    ],
)
def test_q2_wrong_answers(wrong, message):
    assert_incorrect(q2.check(wrong), message)


STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3})")


def with_a_regex(raw):
    """Correct too: a regex for the status, splitlines for the head."""
    head, rest = raw.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").splitlines()
    status = int(STATUS_LINE.match(raw)[1])
    headers = {}
    for line in lines[1:]:
        name, value = line.split(":", 1)
        headers[name.lower()] = value.strip()
    if status in (204, 304) or status < 200:
        return status, headers, b""
    length = headers.get("content-length")
    return status, headers, rest if length is None else rest[: int(length)]


def test_q2_accepts_a_regex_and_splitlines():
    result = q2.check(with_a_regex)
    assert result.outcome is Outcome.CORRECT, result.message


# --- q3: known-wrong chunk decoders ----------------------------------------------------------


def chunks(raw, size_of):
    """Decode chunks with a given way of reading the size line (the rest is right)."""
    status, headers, rest = head_of(raw)
    if headers.get("transfer-encoding", "").lower() != "chunked":
        return by_length(raw)
    pieces, position = [], 0
    while True:
        end = rest.index(b"\r\n", position)
        size = size_of(rest[position:end])
        if size == 0:
            return status, headers, b"".join(pieces)
        pieces.append(rest[end + 2 : end + 2 + size])
        position = end + 2 + size + 2


def decimal_sizes(raw):
    return chunks(raw, lambda line: int(line.split(b";")[0]))


def no_extensions(raw):
    return chunks(raw, lambda line: int(line, 16))


def splits_lines(raw):
    status, headers, rest = head_of(raw)
    if headers.get("transfer-encoding", "").lower() != "chunked":
        return by_length(raw)
    lines = rest.split(b"\r\n")
    pieces = []
    for size, data in zip(lines[0::2], lines[1::2], strict=False):
        if int(size.split(b";")[0], 16) == 0:
            break
        pieces.append(data)
    return status, headers, b"".join(pieces)


def searches_for_the_end(raw):
    """Takes everything before the first b"\\r\\n0\\r\\n\\r\\n", then drops the size lines."""
    status, headers, rest = head_of(raw)
    if headers.get("transfer-encoding", "").lower() != "chunked":
        return by_length(raw)
    lines = rest[: rest.index(b"\r\n0\r\n\r\n")].split(b"\r\n")
    return status, headers, b"".join(lines[1::2])


def _hex(line):
    return int(line.split(b";")[0], 16)


def keeps_trailers(raw):
    status, headers, body = chunks(raw, _hex)
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body += raw.rpartition(b"\r\n0\r\n")[2].strip(b"\r\n")
    return status, headers, body


def case_sensitive_header(raw):
    status, headers, rest = head_of(raw)
    if headers.get("transfer-encoding") == "chunked" and b"Transfer-Encoding" in raw:
        return chunks(raw, _hex)
    return by_length(raw)


def keeps_the_crlf(raw):
    """Takes each chunk's data with the CRLF after it."""
    status, headers, rest = head_of(raw)
    if headers.get("transfer-encoding", "").lower() != "chunked":
        return by_length(raw)
    pieces, position = [], 0
    while True:
        end = rest.index(b"\r\n", position)
        size = _hex(rest[position:end])
        if size == 0:
            return status, headers, b"".join(pieces)
        pieces.append(rest[end + 2 : end + 2 + size + 2])
        position = end + 2 + size + 2


def transfer_encoding_required(raw):
    status, headers, rest = head_of(raw)
    if headers["transfer-encoding"] == "chunked":
        return chunks(raw, _hex)
    return by_length(raw)


def strips_each_chunk(raw):
    status, headers, rest = head_of(raw)
    if headers.get("transfer-encoding", "").lower() != "chunked":
        return by_length(raw)
    pieces, position = [], 0
    while True:
        end = rest.index(b"\r\n", position)
        size = _hex(rest[position:end])
        if size == 0:
            return status, headers, b"".join(pieces)
        pieces.append(rest[end + 2 : end + 2 + size].strip())
        position = end + 2 + size + 2


def splits_the_extension_at_a_space(raw):
    return chunks(raw, lambda line: int(line.split(b" ")[0], 16))


def a_list_of_chunks(raw):
    status, headers, body = chunks(raw, _hex)
    return status, headers, [body]


def drops_the_header(raw):
    status, headers, body = chunks(raw, _hex)
    headers.pop("transfer-encoding", None)
    return status, headers, body


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (transfer_encoding_required, "Not every response has every header: read one that may"),
        (strips_each_chunk, "your body lost some whitespace"),
        (splits_the_extension_at_a_space, "may carry an extension after ';', which you ignore"),
        (a_list_of_chunks, "the body is a list: return `bytes`"),
        (drops_the_header, "the header 'transfer-encoding' is missing from your dict"),
        (keeps_the_crlf, "for GET /stream/3 on httpbin (chunked JSON lines) the body should be"),
        (by_length, "the body is chunked, so decode it"),
        (decimal_sizes, "raised ValueError: invalid literal for int() with base 10"),
        (no_extensions, "raised ValueError: invalid literal for int() with base 16: b'1A;lang=en'"),
        (splits_lines, "read each chunk by its size, never by searching"),
        (searches_for_the_end, "read each chunk by its size, never by searching"),
        (keeps_trailers, "after the chunk of size 0 come optional trailer fields"),
        (case_sensitive_header, "for a chunked body followed by a trailer field"),
    ],
)
def test_q3_wrong_answers(wrong, message):
    assert_incorrect(q3.check(wrong), message)


def read_with_a_stream(raw):
    """Correct too: readline() on a BytesIO, a chunk at a time."""
    status, headers, body = with_a_regex(raw)
    if headers.get("transfer-encoding", "").lower() != "chunked":
        return status, headers, body
    stream = io.BytesIO(raw.split(b"\r\n\r\n", 1)[1])
    data = bytearray()
    while size := int(stream.readline().split(b";")[0].strip(), 16):
        data += stream.read(size)
        stream.read(2)
    return status, headers, bytes(data)


def test_q3_accepts_readline_on_a_stream():
    result = q3.check(read_with_a_stream)
    assert result.outcome is Outcome.CORRECT, result.message
