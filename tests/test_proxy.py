"""The recording proxy (httplab.proxy): plain requests forwarded and readable, https as a
CONNECT tunnel of unreadable bytes, bad input answered without a traceback."""

from __future__ import annotations

import socket

import pytest
import requests

import httplab
from httplab import tls, tlslab
from httplab.proxy import serve_proxy


@pytest.fixture
def proxy():
    running = serve_proxy(name="test-proxy")
    yield running
    running.stop()


def test_plain_http_is_forwarded_and_read(proxy):
    lab = httplab.start()
    response = requests.get(
        f"{lab.api}/items/answer",
        headers={"Authorization": "Bearer t", "Proxy-Authorization": "Basic cA=="},
        proxies={"http": proxy.url},
        timeout=5,
    )
    assert response.json() == {"key": "answer", "value": 42}
    (seen,) = proxy.seen
    assert (seen.method, seen.target) == ("GET", f"{lab.api}/items/answer")
    assert seen.headers["Authorization"] == "Bearer t"


def test_https_goes_through_a_connect_tunnel(proxy):
    url = tlslab.start()["valid"].replace("127.0.0.1", "localhost")
    response = requests.get(
        f"{url}/secret-path",
        headers={"Authorization": "Bearer hidden"},
        proxies={"https": proxy.url},
        verify=tls.ca_file(),
        timeout=5,
    )
    assert response.json()["case"] == "valid"
    (seen,) = proxy.seen
    assert seen.method == "CONNECT" and seen.target == url.removeprefix("https://")
    assert seen.tunnel_bytes > 0 and seen.tunnel_start[0] == 0x16
    assert b"secret-path" not in seen.tunnel_start and b"hidden" not in seen.tunnel_start


def test_unreachable_target_is_a_502(proxy):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    response = requests.get(f"http://127.0.0.1:{closed}/", proxies={"http": proxy.url}, timeout=5)
    assert response.status_code == 502


def test_garbage_is_dropped_and_the_proxy_keeps_serving(proxy):
    host, port = proxy.server.host, proxy.server.port
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(b"nonsense\r\n\r\n")
        assert sock.recv(100) == b""
    lab = httplab.start()
    response = requests.get(f"{lab.api}/items/answer", proxies={"http": proxy.url}, timeout=5)
    assert response.status_code == 200
