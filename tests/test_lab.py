"""The practice lab: one call, idempotent, loopback only, resettable, quiet."""

from __future__ import annotations

import pytest
import requests

import httplab
from httplab import servers


def test_start_is_idempotent_and_on_loopback():
    lab = httplab.start()
    running = servers.running_servers()
    again = httplab.start()
    assert again == lab
    assert servers.running_servers() == running  # the same server objects, nothing restarted
    assert lab.httpbin.startswith("http://127.0.0.1:") and lab.api.startswith("http://127.0.0.1:")
    assert lab.ws == "ws" + lab.api.removeprefix("http")


def test_both_servers_answer():
    lab = httplab.start()
    echoed = requests.get(f"{lab.httpbin}/get", params={"a": "1"}, timeout=5).json()
    assert echoed["args"] == {"a": "1"}
    assert requests.get(f"{lab.api}/api/users/1", timeout=5).json()["id"] == 1


def test_stop_then_start_gives_a_working_lab():
    httplab.stop()
    assert set(servers.running_servers()).isdisjoint({"lab-httpbin", "lab-api"})
    lab = httplab.start()
    assert requests.get(f"{lab.httpbin}/status/204", timeout=5).status_code == 204


def test_reset_restores_the_seed_and_stats_are_per_client():
    lab = httplab.start()
    client = httplab.new_client_id()
    headers = {"X-Client-Id": client}
    created = requests.post(
        f"{lab.api}/api/users", json={"name": "Zoe", "email": "zoe@lab.test"}, timeout=5
    )
    assert created.status_code == 201
    with requests.Session() as session:
        for _ in range(3):
            session.get(f"{lab.api}/api/users/1", headers=headers, timeout=5)
    stats = lab.stats(client)
    assert stats["requests"] == 3 and stats["connections"] == 1
    lab.reset()
    assert requests.get(f"{lab.api}{created.headers['Location']}", timeout=5).status_code == 404
    assert lab.stats(client)["requests"] == 0


def test_new_client_ids_differ():
    assert httplab.new_client_id() != httplab.new_client_id()
    assert httplab.new_client_id("ex").startswith("ex-")


def test_the_lab_writes_nothing(capfd):
    httplab.stop()
    lab = httplab.start()
    requests.get(f"{lab.httpbin}/status/500", timeout=5)
    requests.get(f"{lab.api}/api/crash", timeout=5)
    requests.post(f"{lab.api}/api/users", data="{not json", timeout=5)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_an_unparsable_request_gets_a_400_and_the_lab_keeps_serving(capfd):
    import socket

    lab = httplab.start()
    host, port = lab.api.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET /api/users HTTP/1.1\r\nHost: x\r\nthis line has no colon\r\n\r\n")
        assert b" 400 Bad Request" in sock.recv(100)
    assert requests.get(f"{lab.api}/api/users/1", timeout=5).status_code == 200
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_stopping_the_lab_closes_open_websockets_with_going_away():
    from websockets.exceptions import ConnectionClosedOK
    from websockets.sync.client import connect

    httplab.stop()
    lab = httplab.start()
    with connect(f"{lab.ws}/ws/echo", open_timeout=5) as echo:
        httplab.stop()
        with pytest.raises(ConnectionClosedOK):
            echo.recv(timeout=5)
    assert echo.close_code == 1001  # closed by the server on shutdown, not dropped (1006)
