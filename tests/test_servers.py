"""The server runner: start, replace, stop, errors raised where they belong, silence."""

from __future__ import annotations

import asyncio
import socket
import threading

import aiohttp
import httpx
import pytest
import requests
from aiohttp import web
from websockets.sync.client import connect

import httplab
from httplab import servers, tls


def hello_app() -> web.Application:
    async def hello(request: web.Request) -> web.Response:
        return web.json_response({"hello": request.query.get("name", "world")})

    app = web.Application()
    app.router.add_get("/", hello)
    return app


def wsgi_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [environ["SERVER_PROTOCOL"].encode()]


async def asgi_app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": scope["http_version"].encode()})


async def echo(websocket):
    async for message in websocket:
        await websocket.send(message)


def httplab_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("httplab-")]


@pytest.fixture(autouse=True)
def no_leftovers():
    before = set(httplab_threads())
    yield
    servers.stop_all()
    assert set(httplab_threads()) - before == set()


def test_aiohttp_server_on_loopback_ephemeral_port():
    server = httplab.serve_aiohttp(hello_app, name="hello")
    assert server.host == "127.0.0.1" and server.port > 0
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert requests.get(server.url, params={"name": "x"}, timeout=5).json() == {"hello": "x"}


def test_same_name_replaces_the_old_server():
    first = httplab.serve_aiohttp(hello_app, name="hello")
    second = httplab.serve_aiohttp(hello_app, name="hello")
    assert not first.running and second.running
    assert httplab.running_servers() == {"hello": second}
    with pytest.raises(requests.ConnectionError):
        requests.get(first.url, timeout=5)
    assert requests.get(second.url, timeout=5).ok


def test_stop_frees_the_port_and_joins_the_thread():
    server = httplab.serve_aiohttp(hello_app, name="hello")
    port = server.port
    server.stop()
    server.stop()  # twice is fine
    assert "httplab-hello" not in httplab_threads()
    again = httplab.serve_aiohttp(hello_app, name="again", port=port)
    assert again.port == port and requests.get(again.url, timeout=5).ok


def test_start_up_error_is_raised_in_the_caller():
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        with pytest.raises(httplab.ServerStartError, match="Address already in use"):
            httplab.serve_aiohttp(hello_app, name="clash", port=busy.getsockname()[1])
    finally:
        busy.close()


def test_app_factory_error_is_raised_in_the_caller():
    def broken() -> web.Application:
        raise ValueError("no app today")

    with pytest.raises(httplab.ServerStartError, match="no app today"):
        httplab.serve_aiohttp(broken, name="broken")


def test_context_manager_stops():
    with httplab.serve_aiohttp(hello_app, name="ctx") as server:
        assert requests.get(server.url, timeout=5).ok
    assert not server.running


def test_wsgi_server_speaks_http11_keep_alive():
    server = httplab.serve_wsgi(wsgi_app, name="wsgi")
    with requests.Session() as session:
        texts = [session.get(server.url, timeout=5).text for _ in range(2)]
    assert texts == ["HTTP/1.1", "HTTP/1.1"]


def test_websockets_server():
    server = httplab.serve_websockets(echo, name="echo")
    assert server.url.startswith("ws://127.0.0.1:")
    with connect(server.url, open_timeout=5) as websocket:
        websocket.send("ping")
        assert websocket.recv(timeout=5) == "ping"


def test_asgi_over_tls_speaks_http2_and_advertises_http3():
    server = httplab.serve_asgi(asgi_app, name="h2", http3=True)
    assert server.url.startswith("https://127.0.0.1:")
    with httpx.Client(http2=True, verify=tls.client_context(), timeout=5) as client:
        response = client.get(server.url)
    assert response.http_version == "HTTP/2" and response.text == "2"
    assert response.headers["alt-svc"] == f'h3=":{server.port}"; ma=3600'


def test_asgi_h2c_prior_knowledge():
    server = httplab.serve_asgi(asgi_app, name="h2c", https=False)
    with httpx.Client(http1=False, http2=True, timeout=5) as client:
        assert client.get(server.url).http_version == "HTTP/2"


def test_http3_needs_tls():
    with pytest.raises(httplab.ServerStartError, match="QUIC"):
        httplab.serve_asgi(asgi_app, name="h3", https=False, http3=True)


def test_https_aiohttp_verified_with_the_lab_ca():
    server = httplab.serve_aiohttp(hello_app, name="tls", https=True)
    assert requests.get(server.url, verify=tls.ca_file(), timeout=5).ok
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(server.url, timeout=5)  # the system CAs do not know the lab's CA


def test_servers_write_nothing(capfd):
    server = httplab.serve_aiohttp(hello_app, name="quiet")
    requests.get(server.url + "/missing", timeout=5)
    wsgi = httplab.serve_wsgi(wsgi_app, name="quiet-wsgi")
    requests.get(wsgi.url, timeout=5)
    server.stop()
    wsgi.stop()
    out, err = capfd.readouterr()
    assert out == "" and err == ""


@pytest.fixture
def dead_proxy(monkeypatch):
    """Every proxy variable points at a closed port; the lab must not use it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        proxy = f"http://127.0.0.1:{sock.getsockname()[1]}"
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(var, proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)


def test_loopback_traffic_bypasses_a_proxy(dead_proxy):
    server = httplab.serve_aiohttp(hello_app, name="behind-proxy")
    echo_server = httplab.serve_websockets(echo, name="ws-behind-proxy")
    assert requests.get(server.url, timeout=5).ok
    with httpx.Client(timeout=5) as client:
        assert client.get(server.url).is_success

    async def with_aiohttp() -> int:
        async with aiohttp.ClientSession(trust_env=True) as session:
            async with session.get(server.url, timeout=aiohttp.ClientTimeout(total=5)) as r:
                return r.status

    assert asyncio.run(with_aiohttp()) == 200
    with connect(echo_server.url, open_timeout=5) as websocket:
        websocket.send("through")
        assert websocket.recv(timeout=5) == "through"
