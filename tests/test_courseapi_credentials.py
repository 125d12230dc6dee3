"""The course API's credentials endpoints: a redirect to another loopback origin, and a
landing page that writes down which credentials arrived."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient
from test_courseapi import expect_error

from httplab.courseapi import create_app


@pytest.fixture
async def client(aiohttp_client) -> TestClient:
    return await aiohttp_client(create_app())


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirect_sends_the_client_on(client, status):
    target = "http://localhost:1234/api/credentials/landing?probe=x"
    response = await client.get(
        f"/api/credentials/redirect?to={quote(target, safe='')}&status={status}",
        allow_redirects=False,
    )
    assert response.status == status
    assert response.headers["Location"] == target


@pytest.mark.parametrize(
    "query",
    [
        "",
        "to=",
        "to=/relative",
        "to=ftp%3A%2F%2F127.0.0.1%2F",
        "to=http%3A%2F%2Fevil.example%2F",
        "to=http%3A%2F%2F127.0.0.1%2F&status=200",
        "to=http%3A%2F%2F127.0.0.1%2F&status=abc",
        "to=http%3A%2F%2F%5B%3A%3A1",
    ],
)
async def test_redirect_rejects_bad_input(client, query):
    response = await client.get(f"/api/credentials/redirect?{query}", allow_redirects=False)
    await expect_error(response, 400)


async def test_landing_records_the_credentials_that_arrived(client):
    headers = {"Authorization": "Bearer t", "X-Api-Key": "k", "Cookie": "a=1; b=2"}
    response = await client.get("/api/credentials/landing?probe=p1&token=x", headers=headers)
    assert response.status == 200
    record = await response.json()
    assert record["line"] == "GET /api/credentials/landing?probe=p1&token=x HTTP/1.1"
    assert record["headers"] == {
        "Authorization": "Bearer t",
        "Cookie": "a=1; b=2",
        "X-Api-Key": "k",
    }
    assert record["cookies"] == {"a": "1", "b": "2"}
    seen = await (await client.get("/api/credentials/seen/p1")).json()
    assert seen == {"probe": "p1", "arrived": [record]}


async def test_unknown_probe_is_empty_and_reset_forgets(client):
    assert (await (await client.get("/api/credentials/seen/nobody")).json())["arrived"] == []
    await client.get("/api/credentials/landing?probe=p2")
    assert (await client.post("/api/reset")).status == 204
    assert (await (await client.get("/api/credentials/seen/p2")).json())["arrived"] == []


async def test_landing_keeps_the_last_records_per_probe(client):
    for _ in range(25):
        await client.get("/api/credentials/landing?probe=many")
    seen = await (await client.get("/api/credentials/seen/many")).json()
    assert len(seen["arrived"]) == 20


@pytest.mark.parametrize("probe", ["", "x" * 65])
async def test_landing_needs_a_probe(client, probe):
    await expect_error(await client.get(f"/api/credentials/landing?probe={probe}"), 400)
