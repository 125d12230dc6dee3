"""Lesson 10's checks: each fails on the stub and on known-wrong answers, passes on the
solution. The wrong answers are real clients run against the check's servers."""

from __future__ import annotations

import asyncio
import re
import socket
from urllib.parse import urlsplit

import httpx
import pytest
from nbcode import load

from httplab import h3client, tls
from httplab.checks import Outcome
from httplab.exercises.lesson10 import q1, q2, q3

NOTEBOOK = "10-http2-and-http3.ipynb"


def test_q1_solution_passes_and_stub_is_not_attempted():
    result = q1.check(load("solutions", NOTEBOOK, "negotiated_protocol"))
    assert result.outcome is Outcome.CORRECT, result.message
    result = q1.check(load("exercises", NOTEBOOK, "negotiated_protocol"))
    assert result.outcome is Outcome.NOT_ATTEMPTED, result.message


def test_q2_solution_passes_and_stub_is_not_attempted():
    result = q2.check(load("solutions", NOTEBOOK, "fetch_multiplexed"))
    assert result.outcome is Outcome.CORRECT, result.message
    result = q2.check(load("exercises", NOTEBOOK, "fetch_multiplexed"))
    assert result.outcome is Outcome.NOT_ATTEMPTED, result.message


def test_q3_solution_passes_and_stub_is_not_attempted():
    result = q3.check(load("solutions", NOTEBOOK, "h2_then_h3"))
    assert result.outcome is Outcome.CORRECT, result.message
    result = q3.check(load("exercises", NOTEBOOK, "h2_then_h3"))
    assert result.outcome is Outcome.NOT_ATTEMPTED, result.message


def assert_incorrect(exercise, answer, message):
    result = exercise.check(answer)
    assert result.outcome is Outcome.INCORRECT, result.message
    assert message in result.message, result.message


# --- 10.1 ------------------------------------------------------------------------------------


def handshake(host, port, offer, alpn=True):
    context = tls.client_context()
    if alpn:
        context.set_alpn_protocols(offer)
    raw = socket.create_connection((host, port), timeout=5)
    return context.wrap_socket(raw, server_hostname=host)


def no_alpn(host, port, offer):
    with handshake(host, port, offer, alpn=False) as sock:
        return sock.selected_alpn_protocol()


def tls_version(host, port, offer):
    with handshake(host, port, offer) as sock:
        return sock.version()


def clients_first_choice(host, port, offer):
    with handshake(host, port, offer) as sock:
        return offer[0] if sock.selected_alpn_protocol() else None


def guesses(host, port, offer):
    return "h2" if "h2" in offer else "http/1.1"


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (no_alpn, "call `context.set_alpn_protocols(offer)` before the handshake"),
        (tls_version, "'TLSv1.3' is the TLS version"),
        (clients_first_choice, "the client's first choice: the SERVER picks"),
        (guesses, "for the offer ['h3'] the server selected nothing"),
    ],
)
def test_q1_wrong_answers(wrong, message):
    assert_incorrect(q1, wrong, message)


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
        (default_certificates, "trust the lab's CA with `verify=httplab.tls.client_context()`"),
        (returns_statuses, "return a list with the `http_version` of each response"),
    ],
)
def test_q2_wrong_answers(wrong, message):
    assert_incorrect(q2, wrong, message)


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


async def returns_one_version(url, client_id):
    versions = await always_h3(url, client_id)
    return versions[1]


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (h3_to_url_port, "raised ConnectionRefusedError"),
        (h3_to_url_port, "to the URL's host and the port that Alt-Svc names"),
        (never_h3, "then saw HTTP/2, HTTP/2: make the second request with h3client"),
        (always_h3, "a server without HTTP/3 sends no `alt-svc` header"),
        (always_h3, "raised KeyError: 'alt-svc'"),
        (h3_without_client_id, "send it in the header `X-Client-Id` of both requests"),
        (returns_one_version, "return a tuple with the `http_version` of the two responses"),
    ],
)
def test_q3_wrong_answers(wrong, message):
    assert_incorrect(q3, wrong, message)
