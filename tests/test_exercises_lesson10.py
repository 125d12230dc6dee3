"""Lesson 10's checks fail on known-wrong answers and pass on right answers written
differently from the solution (tests/test_exercise_answers.py runs the solutions and stubs).
The wrong answers are real clients run against the check's servers."""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
from urllib.parse import urlsplit

import httpx
import pytest
from exercise_testing import assert_incorrect

from httplab import h3client, tls
from httplab.checks import Outcome
from httplab.exercises.lesson10 import q1, q2, q3

# --- 10.1 ------------------------------------------------------------------------------------


def handshake(host, port, offer, timeout, alpn=True, context=None):
    context = context or tls.client_context()
    if alpn:
        context.set_alpn_protocols(offer)
    raw = socket.create_connection((host, port), timeout=timeout)
    return context.wrap_socket(raw, server_hostname=host)


def no_alpn(host, port, offer, timeout):
    with handshake(host, port, offer, timeout, alpn=False) as sock:
        return sock.selected_alpn_protocol()


def tls_version(host, port, offer, timeout):
    with handshake(host, port, offer, timeout) as sock:
        return sock.version()


def clients_first_choice(host, port, offer, timeout):
    with handshake(host, port, offer, timeout) as sock:
        return offer[0] if sock.selected_alpn_protocol() else None


def guesses(host, port, offer, timeout):
    return "h2" if "h2" in offer else "http/1.1"


def never_closed(host, port, offer, timeout):
    return handshake(host, port, offer, timeout).selected_alpn_protocol()


def no_timeout(host, port, offer, timeout):
    with handshake(host, port, offer, None) as sock:
        return sock.selected_alpn_protocol()


def default_trust_store(host, port, offer, timeout):
    context = ssl.create_default_context()
    with handshake(host, port, offer, timeout, context=context) as sock:
        return sock.selected_alpn_protocol()


def swallows_the_timeout(host, port, offer, timeout):
    try:
        with handshake(host, port, offer, timeout) as sock:
            return sock.selected_alpn_protocol()
    except TimeoutError:
        return None


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (no_alpn, "call `context.set_alpn_protocols(offer)` before the handshake"),
        (tls_version, "'TLSv1.3' is the TLS version"),
        (clients_first_choice, "the client's first choice: the SERVER picks"),
        (guesses, "for the offer ['h3'] the server selected nothing"),
        (never_closed, "your function left a socket open: open both the TCP socket and"),
        (no_timeout, "waited until the check gave up on it: pass the timeout to `socket."),
        (default_trust_store, "raised SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAI"),
        (default_trust_store, "trust it with `httplab.tls.client_context()`"),
        (swallows_the_timeout, "your function returned None: let the timeout raise"),
    ],
)
def test_q1_wrong_answers(wrong, message):
    assert_incorrect(q1.check(wrong), message)


def test_q1_messages_name_no_port():
    result = q1.check(default_trust_store)
    assert not re.search(r"127\.0\.0\.1(:|', )\d", result.message), result.message


def by_hand(host, port, offer, timeout):
    """Right too: a bare SSLContext with the lab's CA, and a socket connected by hand."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=tls.ca_file())
    context.set_alpn_protocols(offer)
    sock = socket.socket()
    sock.settimeout(timeout)
    try:
        sock.connect((host, port))
        tls_socket = context.wrap_socket(sock, server_hostname=host)
        try:
            return tls_socket.selected_alpn_protocol()
        finally:
            tls_socket.close()
    finally:
        sock.close()


def test_q1_right_by_hand():
    result = q1.check(by_hand)
    assert result.outcome is Outcome.CORRECT, result.message


# --- 10.2 ------------------------------------------------------------------------------------


def client(**options):
    options.setdefault("verify", tls.client_context())
    return httpx.AsyncClient(timeout=5, **options)


async def over_http11(url, n, client_id):
    async with client() as http:
        responses = await asyncio.gather(
            *(http.get(url, headers={"X-Client-Id": client_id}) for _ in range(n))
        )
    return [r.http_version for r in responses]


async def client_per_request(url, n, client_id):
    async def one():
        async with client(http2=True) as http:
            return (await http.get(url, headers={"X-Client-Id": client_id})).http_version

    return list(await asyncio.gather(*(one() for _ in range(n))))


async def one_at_a_time(url, n, client_id):
    async with client(http2=True) as http:
        return [
            (await http.get(url, headers={"X-Client-Id": client_id})).http_version for _ in range(n)
        ]


async def no_client_id(url, n, client_id):
    async with client(http2=True) as http:
        responses = await asyncio.gather(*(http.get(url) for _ in range(n)))
    return [r.http_version for r in responses]


async def default_certificates(url, n, client_id):
    async with client(http2=True, verify=True) as http:
        responses = await asyncio.gather(
            *(http.get(url, headers={"X-Client-Id": client_id}) for _ in range(n))
        )
    return [r.http_version for r in responses]


async def returns_statuses(url, n, client_id):
    async with client(http2=True) as http:
        responses = await asyncio.gather(
            *(http.get(url, headers={"X-Client-Id": client_id}) for _ in range(n))
        )
    return [r.status_code for r in responses]


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (over_http11, "the server saw 12 over HTTP/1.1: make the client speak HTTP/2"),
        (client_per_request, "your 12 requests came over 12 connections"),
        (one_at_a_time, "at most 1 of your 12 requests were in flight at once"),
        (no_client_id, "the server saw no request with your client id"),
        (default_certificates, "trust it with `httplab.tls.client_context()`"),
        (returns_statuses, "return a list with the `http_version` of each response"),
    ],
)
def test_q2_wrong_answers(wrong, message):
    assert_incorrect(q2.check(wrong), message)


def blocking(url, n, client_id):
    with httpx.Client(http2=True, verify=tls.client_context(), timeout=5) as http:
        return [http.get(url, headers={"X-Client-Id": client_id}).http_version for _ in range(n)]


def test_q2_must_be_async():
    assert_incorrect(q2.check(blocking), "must be a coroutine function: write it with `async def`")


async def task_group(url, n, client_id):
    """Right too: default headers on the client, and a TaskGroup."""
    async with client(http2=True, headers={"X-Client-Id": client_id}) as http:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(http.get(url)) for _ in range(n)]
    return [task.result().http_version for task in tasks]


def test_q2_right_with_a_task_group():
    result = q2.check(task_group)
    assert result.outcome is Outcome.CORRECT, result.message


# --- 10.3 ------------------------------------------------------------------------------------


async def h3_to_url_port(url, client_id):
    headers = {"X-Client-Id": client_id}
    async with client(http2=True) as http:
        first = await http.get(url, headers=headers)
    second = await h3client.get(url, cafile=tls.ca_file(), headers=headers, timeout=5)
    return first.http_version, second.http_version


async def never_h3(url, client_id):
    headers = {"X-Client-Id": client_id}
    async with client(http2=True) as http:
        first = await http.get(url, headers=headers)
        second = await http.get(url, headers=headers)
    return first.http_version, second.http_version


async def always_h3(url, client_id):
    headers = {"X-Client-Id": client_id}
    async with client(http2=True) as http:
        first = await http.get(url, headers=headers)
    port = re.search(r'h3=":(\d+)"', first.headers["alt-svc"])[1]
    parts = urlsplit(url)
    h3_url = f"https://{parts.hostname}:{port}{parts.path}"
    second = await h3client.get(h3_url, cafile=tls.ca_file(), headers=headers, timeout=5)
    return first.http_version, second.http_version


async def h3_without_client_id(url, client_id):
    return await always_h3(url, "")


async def h3_without_client_id_on_the_second(url, client_id):
    headers = {"X-Client-Id": client_id}
    async with client(http2=True) as http:
        first = await http.get(url, headers=headers)
        offer = re.search(r'h3=":(\d+)"', first.headers.get("alt-svc", ""))
        if offer is None:
            return first.http_version, (await http.get(url, headers=headers)).http_version
    parts = urlsplit(url)
    h3_url = f"https://{parts.hostname}:{offer[1]}{parts.path}"
    second = await h3client.get(h3_url, cafile=tls.ca_file(), timeout=5)
    return first.http_version, second.http_version


async def returns_one_version(url, client_id):
    versions = await always_h3(url, client_id)
    return versions[1]


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (h3_to_url_port, "after the HTTP/2 request, your function raised ConnectionRefusedError"),
        (h3_to_url_port, "the URL's host and the port that `alt-svc` names"),
        (never_h3, "then saw HTTP/2, HTTP/2: make the second request with `h3client`"),
        (always_h3, "on a server without HTTP/3 your function raised KeyError: 'alt-svc'"),
        (always_h3, "read it with `response.headers.get('alt-svc')`"),
        (h3_without_client_id, "send it in the header `X-Client-Id` of both requests"),
        (h3_without_client_id_on_the_second, "and no second one with your client id: send"),
        (returns_one_version, "return a tuple with the `http_version` of the two responses"),
    ],
)
def test_q3_wrong_answers(wrong, message):
    assert_incorrect(q3.check(wrong), message)


def test_q3_messages_name_no_port():
    result = q3.check(h3_to_url_port)
    assert not re.search(r"127\.0\.0\.1(:|', )\d", result.message), result.message


async def split_by_hand(url, client_id):
    """Right too: Alt-Svc parsed without a regex, the URL rebuilt with urllib."""
    headers = {"X-Client-Id": client_id}
    async with client(http2=True, headers=headers) as http:
        first = await http.get(url)
        offers = dict(
            item.strip().split("=", 1)
            for item in first.headers.get("alt-svc", "").split(",")
            if "=" in item
        )
        h3 = offers.get("h3", "").split(";")[0].strip('"')
        if not h3:
            return first.http_version, (await http.get(url)).http_version
    parts = urlsplit(url)
    h3_url = parts._replace(netloc=f"{parts.hostname}{h3}").geturl()
    second = await h3client.get(h3_url, cafile=tls.ca_file(), headers=headers, timeout=5)
    return first.http_version, second.http_version


def test_q3_right_by_splitting():
    result = q3.check(split_by_hand)
    assert result.outcome is Outcome.CORRECT, result.message
