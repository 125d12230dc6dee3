"""Tests of the course API (httplab.courseapi): every endpoint, its errors and its headers."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient

from httplab.courseapi import create_app, websockets
from httplab.courseapi.errors import phrase
from httplab.courseapi.lru import LRUDict

SEED_ITEMS = {"greeting": "hello", "answer": 42}
USER_1 = {"id": 1, "name": "Ada 1", "email": "ada1@example.com"}


@pytest.fixture
async def client(aiohttp_client) -> TestClient:
    return await aiohttp_client(create_app())


async def expect_error(response: aiohttp.ClientResponse, status: int) -> dict[str, Any]:
    """Assert the response is our JSON error with this status; return its body."""
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    body = await response.json()
    assert body["status"] == status
    assert body["error"] == phrase(status)
    assert response.reason == phrase(status)
    assert isinstance(body["detail"], str) and body["detail"]
    return body


async def login(client: TestClient, username: str, password: str) -> aiohttp.ClientResponse:
    return await client.post("/api/login", json={"username": username, "password": password})


async def bearer_token(client: TestClient, username: str, password: str) -> str:
    headers = {"Authorization": aiohttp.encode_basic_auth(username, password)}
    response = await client.post("/api/token", headers=headers)
    assert response.status == 200
    body = await response.json()
    assert body["token_type"] == "Bearer"
    return body["access_token"]


# --- index and error shape -----------------------------------------------------------------


async def test_index_lists_the_groups(client):
    response = await client.get("/")
    assert response.status == 200
    groups = (await response.json())["groups"]
    assert "/api/users" in groups["users and orders"]
    assert "/ws/chat" in groups["websockets"]


async def test_unknown_path_is_json_404(client):
    body = await expect_error(await client.get("/no/such/thing"), 404)
    assert "/no/such/thing" in body["detail"]


async def test_crash_is_a_quiet_json_500(client, caplog):
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    response = await client.get("/api/crash")
    assert response.status == 500
    assert await response.json() == {
        "status": 500,
        "error": "Internal Server Error",
        "detail": "the server hit an unexpected error",
    }
    assert [r for r in caplog.records if r.name != "aiohttp.access"] == []


async def test_body_over_one_mebibyte_is_json_413(client):
    huge = io.BytesIO(b'{"value": "' + b"x" * (1024 * 1024) + b'"}')
    await expect_error(await client.put("/items/huge", data=huge), 413)
    assert await (await client.get("/items")).json() == SEED_ITEMS


async def test_barrage_of_bad_requests_loses_nothing(client, caplog):
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    bad = [
        ("POST", "/api/users", b"{"),
        ("POST", "/api/users", b"[]"),
        ("POST", "/api/users", b"\xff\xfe\x00"),
        ("POST", "/api/users", b"[" * 100_000),
        ("PUT", "/api/users/1", b'{"name": 1}'),
        ("PATCH", "/api/users/1", b'{"email": "nope"}'),
        ("POST", "/items/greeting", b"null"),
        ("PUT", "/items/answer", b'{"valu": 1}'),
        ("DELETE", "/items/missing", b""),
        ("GET", "/api/users?page=-1", b""),
        ("GET", "/api/users?per_page=10000", b""),
        ("POST", "/api/users/1/orders", b'{"item": "x", "quantity": 0}'),
        ("POST", "/api/login", b"username=alice"),
        ("GET", "/api/crash", b""),
        ("TRACE", "/api/users", b""),
    ]
    for method, path, data in bad:
        response = await client.request(method, path, data=data)
        assert 400 <= response.status < 600, (method, path)
        assert (await response.json())["status"] == response.status
    assert await (await client.get("/items")).json() == SEED_ITEMS
    page = await (await client.get("/api/users?per_page=100")).json()
    assert page["total"] == 42 and page["data"][0] == USER_1
    assert [r for r in caplog.records if r.name != "aiohttp.access"] == []


async def test_two_apps_do_not_share_state(aiohttp_client):
    first = await aiohttp_client(create_app())
    second = await aiohttp_client(create_app())
    assert (await first.delete("/api/users/1")).status == 204
    assert (await first.put("/items/new", json={"value": 1})).status == 201
    assert (await second.get("/api/users/1")).status == 200
    assert await (await second.get("/items")).json() == SEED_ITEMS


# --- users ---------------------------------------------------------------------------------


async def test_list_users_first_page(client):
    response = await client.get("/api/users")
    assert response.status == 200
    body = await response.json()
    assert (body["page"], body["per_page"], body["total"]) == (1, 20, 42)
    assert [user["id"] for user in body["data"]] == list(range(1, 21))
    assert body["data"][0] == USER_1
    links = response.links
    assert set(links) == {"first", "next", "last"}
    assert links["next"]["url"].is_absolute()
    assert links["next"]["url"].query == {"page": "2", "per_page": "20"}
    assert links["last"]["url"].query["page"] == "3"


async def test_list_users_links_keep_other_parameters(client):
    response = await client.get("/api/users?page=2&per_page=10&sort=name")
    body = await response.json()
    assert [user["id"] for user in body["data"]] == list(range(11, 21))
    pages = {rel: link["url"].query for rel, link in response.links.items()}
    assert {rel: query["page"] for rel, query in pages.items()} == {
        "first": "1",
        "prev": "1",
        "next": "3",
        "last": "5",
    }
    assert all(q["sort"] == "name" and q["per_page"] == "10" for q in pages.values())


@pytest.mark.parametrize(
    ("query", "ids", "rels"),
    [
        ("page=3", [41, 42], {"first", "prev", "last"}),
        ("page=99", [], {"first", "prev", "last"}),
        ("per_page=100", list(range(1, 43)), {"first", "last"}),
    ],
)
async def test_list_users_last_and_past_the_end(client, query, ids, rels):
    response = await client.get(f"/api/users?{query}")
    assert response.status == 200
    assert [user["id"] for user in (await response.json())["data"]] == ids
    assert set(response.links) == rels


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("page=abc", "page"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=1.5", "page"),
        ("page=", "page"),
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("per_page=10000", "per_page"),
        ("per_page=ten", "per_page"),
    ],
)
async def test_list_users_rejects_bad_query(client, query, parameter):
    body = await expect_error(await client.get(f"/api/users?{query}"), 400)
    assert f"'{parameter}'" in body["detail"]


async def test_create_user(client):
    response = await client.post("/api/users", json={"name": "Lin", "email": "lin@example.com"})
    assert response.status == 201
    user = await response.json()
    assert user == {"id": 43, "name": "Lin", "email": "lin@example.com"}
    assert response.headers["Location"] == "/api/users/43"
    assert await (await client.get(response.headers["Location"])).json() == user


@pytest.mark.parametrize(
    "body",
    [b"", b"{not json", b"[1, 2]", b'"text"', b"42", b'{"name": NaN}', b"\xff\xfe", b"[" * 50_000],
    ids=["empty", "broken", "array", "string", "number", "nan", "bad-utf8", "too-deep"],
)
async def test_create_user_rejects_malformed_json(client, body):
    await expect_error(await client.post("/api/users", data=body), 400)


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, {"name": "required", "email": "required"}),
        ({"name": "Bo"}, {"email": "required"}),
        ({"name": "", "email": "a@b"}, {"name": "must not be empty"}),
        ({"name": 5, "email": "a@b"}, {"name": "must be a string, not number"}),
        ({"name": "Bo", "email": "bo"}, {"email": "must contain @"}),
        (
            {"name": None, "email": ["a@b"]},
            {"name": "must be a string, not null", "email": "must be a string, not array"},
        ),
        ({"name": "x" * 101, "email": "a@b"}, {"name": "must be at most 100 characters"}),
    ],
)
async def test_create_user_rejects_invalid_fields(client, payload, fields):
    body = await expect_error(await client.post("/api/users", json=payload), 422)
    assert body["fields"] == fields


async def test_create_user_with_a_used_email_conflicts(client):
    payload = {"name": "Copy", "email": "ADA1@example.com"}
    await expect_error(await client.post("/api/users", json=payload), 409)
    assert (await (await client.get("/api/users")).json())["total"] == 42


async def test_get_user_etag_and_304(client):
    response = await client.get("/api/users/1")
    assert response.status == 200
    assert await response.json() == USER_1
    etag = response.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")

    for header in (etag, f'"other", {etag}', f"W/{etag}", "*"):
        cached = await client.get("/api/users/1", headers={"If-None-Match": header})
        assert cached.status == 304, header
        assert await cached.read() == b""
        assert cached.headers["ETag"] == etag
    other = await client.get("/api/users/1", headers={"If-None-Match": '"other"'})
    assert other.status == 200


async def test_etag_changes_when_the_user_changes(client):
    etag = (await client.get("/api/users/2")).headers["ETag"]
    patched = await client.patch("/api/users/2", json={"name": "Renamed"})
    assert patched.headers["ETag"] != etag
    response = await client.get("/api/users/2", headers={"If-None-Match": etag})
    assert response.status == 200
    assert (await response.json())["name"] == "Renamed"


@pytest.mark.parametrize("user_id", ["999", "0", "abc", "-1", "1.5", "1e3", "٣"])
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
async def test_unknown_or_malformed_user_id_is_404(client, method, user_id):
    payload = {"name": "X", "email": "x@example.com"}
    response = await client.request(method, f"/api/users/{user_id}", json=payload)
    await expect_error(response, 404)


async def test_put_replaces_the_user(client):
    payload = {"name": "New", "email": "new@example.com"}
    response = await client.put("/api/users/3", json=payload)
    assert response.status == 200
    assert await response.json() == {"id": 3, **payload}
    assert await (await client.get("/api/users/3")).json() == {"id": 3, **payload}


async def test_put_keeping_its_own_email_is_fine(client):
    response = await client.put("/api/users/1", json={"name": "Ada", "email": "ada1@example.com"})
    assert response.status == 200


@pytest.mark.parametrize(
    ("method", "payload", "status"),
    [
        ("PUT", {"name": "Only"}, 422),
        ("PUT", {"name": "X", "email": "alan2@example.com"}, 409),
        ("PUT", [], 400),
        ("PATCH", {"email": 7}, 422),
        ("PATCH", {"email": "alan2@example.com"}, 409),
        ("PATCH", "text", 400),
    ],
)
async def test_put_and_patch_reject_bad_input(client, method, payload, status):
    await expect_error(await client.request(method, "/api/users/1", json=payload), status)
    assert await (await client.get("/api/users/1")).json() == USER_1


async def test_patch_changes_only_the_given_fields(client):
    response = await client.patch("/api/users/1", json={"email": "ada@example.org"})
    assert response.status == 200
    assert await response.json() == {"id": 1, "name": "Ada 1", "email": "ada@example.org"}


async def test_delete_user_then_404(client):
    assert (await client.delete("/api/users/1")).status == 204
    await expect_error(await client.get("/api/users/1"), 404)
    await expect_error(await client.delete("/api/users/1"), 404)
    await expect_error(await client.get("/api/orders/1"), 404)  # the user's orders went too
    assert (await (await client.get("/api/users")).json())["total"] == 41


@pytest.mark.parametrize("path", ["/api/users", "/api/users/1"])
async def test_head_has_headers_but_no_body(client, path):
    get = await client.get(path)
    head = await client.head(path)
    assert head.status == 200
    assert await head.read() == b""
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    assert head.headers.get("ETag") == get.headers.get("ETag")


@pytest.mark.parametrize(
    ("path", "unsupported", "allowed"),
    [
        ("/api/users", "DELETE", {"GET", "HEAD", "OPTIONS", "POST"}),
        ("/api/users/1", "POST", {"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "PUT"}),
    ],
)
async def test_options_and_405_list_the_allowed_methods(client, path, unsupported, allowed):
    options = await client.options(path)
    assert options.status == 204
    assert set(options.headers["Allow"].split(", ")) == allowed
    refused = await client.request(unsupported, path)
    body = await expect_error(refused, 405)
    assert refused.headers["Allow"] == options.headers["Allow"]
    assert unsupported in body["detail"]


# --- orders --------------------------------------------------------------------------------


async def test_list_orders_of_a_user(client):
    response = await client.get("/api/users/1/orders")
    assert response.status == 200
    orders = (await response.json())["data"]
    assert [(o["id"], o["user_id"], o["item"]) for o in orders] == [
        (1, 1, "keyboard"),
        (2, 1, "mouse"),
    ]
    assert (await (await client.get("/api/users/3/orders")).json()) == {"data": []}


async def test_create_order(client):
    response = await client.post("/api/users/3/orders", json={"item": "pen", "quantity": 2})
    assert response.status == 201
    order = await response.json()
    assert order == {"id": 5, "user_id": 3, "item": "pen", "quantity": 2}
    assert response.headers["Location"] == "/api/orders/5"
    assert await (await client.get("/api/orders/5")).json() == order
    assert (await (await client.get("/api/users/3/orders")).json())["data"] == [order]


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"item": "pen"}, {"quantity": "required"}),
        ({"item": "pen", "quantity": 0}, {"quantity": "must be >= 1"}),
        ({"item": "pen", "quantity": "2"}, {"quantity": "must be an integer, not string"}),
        ({"item": "pen", "quantity": 1.5}, {"quantity": "must be an integer, not number"}),
        ({"item": "pen", "quantity": True}, {"quantity": "must be an integer, not boolean"}),
        ({"item": " ", "quantity": 1}, {"item": "must not be empty"}),
    ],
)
async def test_create_order_rejects_invalid_fields(client, payload, fields):
    body = await expect_error(await client.post("/api/users/1/orders", json=payload), 422)
    assert body["fields"] == fields


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/users/99/orders"), ("POST", "/api/users/99/orders"), ("GET", "/api/orders/99")],
)
async def test_orders_of_unknown_ids_are_404(client, method, path):
    await expect_error(await client.request(method, path, json={"item": "a", "quantity": 1}), 404)


async def test_reset_restores_the_seed(client):
    await client.delete("/api/users/1")
    await client.post("/api/users", json={"name": "Extra", "email": "extra@example.com"})
    await client.delete("/items/greeting")
    await login(client, "alice", "wonderland")
    await client.get("/api/flaky?failures=1")
    assert (await client.post("/api/reset")).status == 204

    assert await (await client.get("/api/users/1")).json() == USER_1
    assert (await (await client.get("/api/users")).json())["total"] == 42
    assert await (await client.get("/items")).json() == SEED_ITEMS
    await expect_error(await client.get("/api/me"), 401)
    await expect_error(await client.get("/api/flaky?failures=1"), 503)
    created = await client.post("/api/users", json={"name": "N", "email": "n@example.com"})
    assert (await created.json())["id"] == 43


# --- items ---------------------------------------------------------------------------------


async def test_items_seed_and_get(client):
    assert await (await client.get("/items")).json() == SEED_ITEMS
    response = await client.get("/items/greeting")
    assert await response.json() == {"key": "greeting", "value": "hello"}


async def test_missing_item_is_404(client):
    body = await expect_error(await client.get("/items/nope"), 404)
    assert body["detail"] == "Key 'nope' not found"


@pytest.mark.parametrize("value", [None, 0, "text", [1, {"a": 2}], {"nested": True}])
async def test_post_item_stores_any_json(client, value):
    response = await client.post("/items/thing", json={"value": value})
    assert response.status == 201
    assert await response.json() == {"key": "thing", "value": value}
    assert await (await client.get("/items/thing")).json() == {"key": "thing", "value": value}


async def test_put_item_is_201_when_new_then_200(client):
    first = await client.put("/items/colour", json={"value": "red"})
    assert first.status == 201
    second = await client.put("/items/colour", json={"value": "blue"})
    assert second.status == 200
    assert (await (await client.get("/items")).json())["colour"] == "blue"


async def test_delete_item(client):
    await client.put("/items/empty", json={"value": None})
    assert (await client.delete("/items/empty")).status == 204
    assert (await client.delete("/items/greeting")).status == 204
    await expect_error(await client.delete("/items/greeting"), 404)
    assert await (await client.get("/items")).json() == {"answer": 42}


@pytest.mark.parametrize(
    ("method", "body", "status"),
    [
        ("POST", b'{"val": 1}', 422),
        ("PUT", b"{}", 422),
        ("POST", b"{oops", 400),
        ("PUT", b"[1]", 400),
        ("POST", b"", 400),
    ],
)
async def test_item_writes_reject_bad_bodies(client, method, body, status):
    response = await client.request(method, "/items/greeting", data=body)
    error = await expect_error(response, status)
    if status == 422:
        assert error["fields"] == {"value": "required"}
    assert await (await client.get("/items")).json() == SEED_ITEMS


# --- authentication ------------------------------------------------------------------------


async def test_login_sets_a_session_cookie(client):
    response = await login(client, "alice", "wonderland")
    assert response.status == 200
    assert await response.json() == {"username": "alice"}
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("session=")
    for attribute in ("HttpOnly", "Path=/", "SameSite=Lax"):
        assert attribute in cookie
    me = await client.get("/api/me")
    assert await me.json() == {"username": "alice", "role": "user"}


async def test_login_with_form_fields(client):
    form = {"username": "admin", "password": "letmein"}
    response = await client.post("/api/login", data=form)
    assert response.status == 200
    assert await (await client.get("/api/me")).json() == {"username": "admin", "role": "admin"}


async def test_logout_ends_the_session(client):
    token = (await login(client, "alice", "wonderland")).cookies["session"].value
    response = await client.post("/api/logout")
    assert response.status == 204
    assert response.cookies["session"]["max-age"] == "0"
    await expect_error(await client.get("/api/me"), 401)
    # The server forgot the session too: replaying the old cookie does not work.
    await expect_error(await client.get("/api/me", cookies={"session": token}), 401)


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"json": {"username": "alice", "password": "wrong"}}, 401),
        ({"json": {"username": "bob", "password": "wonderland"}}, 401),
        ({"json": {"username": "alice", "password": "wönderland"}}, 401),
        ({"data": b'{"username": "alice", "password": "\\ud800"}'}, 401),
        ({"json": {"username": "alice"}}, 422),
        ({"json": {"username": "alice", "password": 123}}, 422),
        ({"data": b"{broken"}, 400),
        ({"data": b"x", "headers": {"Content-Type": "multipart/form-data"}}, 400),
    ],
)
async def test_login_rejects_bad_credentials_and_bodies(client, kwargs, status):
    response = await client.post("/api/login", **kwargs)
    await expect_error(response, status)
    assert "Set-Cookie" not in response.headers


async def test_me_without_a_session_is_401(client):
    await expect_error(await client.get("/api/me"), 401)
    await expect_error(await client.get("/api/me", cookies={"session": "forged"}), 401)


async def test_token_then_private(client):
    token = await bearer_token(client, "alice", "wonderland")
    response = await client.get("/api/private", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200
    assert await response.json() == {"username": "alice"}


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic !!!",
        "Basic",
        "Basic YWxpY2U=",  # base64 of "alice": no colon
        "Bearer abc",
        aiohttp.encode_basic_auth("alice", "nope"),
        aiohttp.encode_basic_auth("nobody", "wonderland"),
    ],
)
async def test_token_needs_good_basic_credentials(client, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = await client.post("/api/token", headers=headers)
    await expect_error(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Basic realm="course"'


@pytest.mark.parametrize(
    ("authorization", "challenge"),
    [
        (None, 'Bearer realm="course"'),
        ("Basic YWxpY2U6d29uZGVybGFuZA==", 'Bearer realm="course"'),
        ("Bearer not-a-token", 'Bearer realm="course", error="invalid_token"'),
        ("Bearer ", 'Bearer realm="course", error="invalid_token"'),
    ],
)
async def test_private_challenges_without_a_valid_token(client, authorization, challenge):
    headers = {"Authorization": authorization} if authorization else {}
    response = await client.get("/api/private", headers=headers)
    await expect_error(response, 401)
    assert response.headers["WWW-Authenticate"] == challenge


async def test_admin_by_bearer_token(client):
    admin = await bearer_token(client, "admin", "letmein")
    alice = await bearer_token(client, "alice", "wonderland")
    ok = await client.get("/api/admin", headers={"Authorization": f"Bearer {admin}"})
    assert ok.status == 200
    assert await ok.json() == {"username": "admin", "role": "admin"}
    refused = await client.get("/api/admin", headers={"Authorization": f"Bearer {alice}"})
    await expect_error(refused, 403)
    invalid = await client.get("/api/admin", headers={"Authorization": "Bearer nope"})
    await expect_error(invalid, 401)


async def test_admin_by_session_cookie(client):
    await expect_error(await client.get("/api/admin"), 401)
    await login(client, "alice", "wonderland")
    await expect_error(await client.get("/api/admin"), 403)
    await login(client, "admin", "letmein")
    assert (await client.get("/api/admin")).status == 200


async def test_admin_unauthenticated_gets_a_challenge(client):
    response = await client.get("/api/admin")
    await expect_error(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="course"'


# --- client stats --------------------------------------------------------------------------


async def stats_of(client: TestClient, client_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/stats/{client_id}")
    assert response.status == 200
    return await response.json()


async def test_stats_two_requests_on_one_connection(client):
    headers = {"X-Client-Id": "one-conn"}
    await client.get("/api/users/1", headers=headers)
    await client.get("/nowhere", headers=headers)
    first = await stats_of(client, "one-conn")
    assert await stats_of(client, "one-conn") == first  # asking does not count
    assert first == {
        "client": "one-conn",
        "requests": 2,
        "connections": 1,
        "requests_per_connection": [2],
        "in_flight": 0,
        "peak_concurrency": 1,
        "log": [
            {"method": "GET", "path": "/api/users/1", "status": 200},
            {"method": "GET", "path": "/nowhere", "status": 404},
        ],
    }


async def test_stats_count_a_new_connection_after_connection_close(client):
    headers = {"X-Client-Id": "closer"}
    await client.get("/", headers={**headers, "Connection": "close"})
    await client.get("/", headers=headers)
    await client.get("/", headers=headers)
    stats = await stats_of(client, "closer")
    assert (stats["connections"], stats["requests_per_connection"]) == (2, [1, 2])


async def test_stats_peak_concurrency(client):
    headers = {"X-Client-Id": "parallel"}
    await asyncio.gather(*(client.get("/api/slow?seconds=0.1", headers=headers) for _ in range(3)))
    stats = await stats_of(client, "parallel")
    assert stats["requests"] == 3
    assert stats["peak_concurrency"] == 3
    assert stats["connections"] == 3
    assert stats["in_flight"] == 0


async def test_stats_see_requests_in_flight(client):
    task = asyncio.create_task(client.get("/api/slow?seconds=0.15&client=waiting"))
    for _ in range(50):
        if (await stats_of(client, "waiting"))["in_flight"] == 1:
            break
        await asyncio.sleep(0.005)
    else:
        pytest.fail("the slow request never showed up as in flight")
    assert (await task).status == 200
    assert (await stats_of(client, "waiting"))["in_flight"] == 0


async def test_stats_client_from_query_or_anonymous(client):
    await client.get("/?client=by-query")
    await client.get("/")
    assert (await stats_of(client, "by-query"))["requests"] == 1
    assert (await stats_of(client, "anonymous"))["requests"] == 1


async def test_stats_log_keeps_the_last_200(client):
    for number in range(205):
        await client.get(f"/items/k{number}?client=busy")
    stats = await stats_of(client, "busy")
    assert stats["requests"] == 205
    assert len(stats["log"]) == 200
    assert stats["log"][0]["path"] == "/items/k5"


async def test_stats_reset_and_unknown_client(client):
    await client.get("/?client=gone")
    assert (await client.delete("/api/stats/gone")).status == 204
    for name in ("gone", "never-seen"):
        stats = await stats_of(client, name)
        assert stats["requests"] == stats["connections"] == stats["peak_concurrency"] == 0
        assert stats["requests_per_connection"] == stats["log"] == []


def test_lru_dict_forgets_the_least_recently_used():
    lru: LRUDict[str, int] = LRUDict(2)
    lru["a"] = 1
    lru["b"] = 2
    assert lru.get_or_create("a", lambda: 99) == 1  # "a" is now the most recent
    lru["c"] = 3
    assert list(lru) == ["a", "c"]
    assert lru.get_or_create("d", lambda: 4) == 4
    assert list(lru) == ["c", "d"]


# --- faults --------------------------------------------------------------------------------


async def test_slow(client):
    response = await client.get("/api/slow?seconds=0.01")
    assert response.status == 200
    assert await response.json() == {"slept": 0.01}


@pytest.mark.parametrize("seconds", ["-1", "31", "abc", "nan", "inf", ""])
async def test_slow_rejects_bad_seconds(client, seconds):
    body = await expect_error(await client.get(f"/api/slow?seconds={seconds}"), 400)
    assert "'seconds'" in body["detail"]


async def test_flaky_fails_then_succeeds(client):
    url = "/api/flaky?failures=2&retry_after=0&client=retrier"
    for _ in range(2):
        response = await client.get(url)
        await expect_error(response, 503)
        assert response.headers["Retry-After"] == "0"
    for attempts in (3, 4):
        response = await client.get(url)
        assert response.status == 200
        assert await response.json() == {"attempts": attempts, "failures": 2}


async def test_flaky_counts_per_client_and_key(client):
    await client.get("/api/flaky?failures=1&client=a&key=x")
    assert (await client.get("/api/flaky?failures=1&client=a&key=x")).status == 200
    assert (await client.get("/api/flaky?failures=1&client=a&key=y")).status == 503
    response = await client.get("/api/flaky?failures=1&retry_after=7&client=b&key=x")
    assert response.status == 503
    assert response.headers["Retry-After"] == "7"


@pytest.mark.parametrize(
    "query", ["failures=-1", "failures=101", "failures=x", "retry_after=3601", "retry_after=1.5"]
)
async def test_flaky_rejects_bad_parameters(client, query):
    await expect_error(await client.get(f"/api/flaky?{query}"), 400)


def rate_limit(value: str) -> tuple[str, dict[str, int]]:
    """Split a RateLimit or RateLimit-Policy value ('"name";k=1;k=2') into name and numbers."""
    name, *parameters = value.split(";")
    return name, {key: int(value) for key, value in (p.split("=") for p in parameters)}


async def test_limited_token_bucket(client):
    url = "/api/limited?capacity=2&per_second=0.001&client=eager"
    for remaining in (1, 0):
        response = await client.get(url)
        assert response.status == 200
        assert await response.json() == {"remaining": remaining}
        # draft-ietf-httpapi-ratelimit-headers-11: a quota of 2 per 2000 s (the time to
        # refill), `remaining` left now and no new token for about 1000 s.
        assert response.headers["RateLimit-Policy"] == '"default";q=2;w=2000'
        name, service_limit = rate_limit(response.headers["RateLimit"])
        assert name == '"default"' and service_limit["r"] == remaining
        assert 990 <= service_limit["t"] <= 1000
        assert "RateLimit-Limit" not in response.headers  # the fields of draft-06 are gone
    refused = await client.get(url)
    await expect_error(refused, 429)
    assert 990 <= int(refused.headers["Retry-After"]) <= 1000
    name, service_limit = rate_limit(refused.headers["RateLimit"])
    assert service_limit["r"] == 0 and str(service_limit["t"]) == refused.headers["Retry-After"]
    # The bucket keeps the settings of its first use.
    again = await client.get("/api/limited?capacity=50&client=eager")
    assert again.status == 429
    assert again.headers["RateLimit-Policy"] == '"default";q=2;w=2000'


async def test_limited_window_is_at_least_one_second(client):
    response = await client.get("/api/limited?capacity=3&per_second=1000&client=quick")
    assert response.headers["RateLimit-Policy"] == '"default";q=3;w=1'
    assert rate_limit(response.headers["RateLimit"])[1] == {"r": 2, "t": 1}


async def test_limited_retry_after_is_at_least_one_second(client):
    assert (await client.get("/api/limited?capacity=1&client=fast")).status == 200
    refused = await client.get("/api/limited?capacity=1&client=fast")
    await expect_error(refused, 429)
    assert refused.headers["Retry-After"] == "1"
    other = await client.get("/api/limited?capacity=1&client=someone-else")
    assert other.status == 200


@pytest.mark.parametrize(
    "query",
    ["capacity=0", "capacity=1001", "capacity=x", "per_second=0", "per_second=-1",
     "per_second=1001", "per_second=nan"],
)  # fmt: skip
async def test_limited_rejects_bad_parameters(client, query):
    await expect_error(await client.get(f"/api/limited?{query}"), 400)


async def test_gateway_is_502(client):
    body = await expect_error(await client.get("/api/gateway"), 502)
    assert body["detail"] == "the upstream service failed: it refused the connection"


async def test_maintenance_is_503_with_retry_after(client):
    response = await client.get("/api/maintenance")
    await expect_error(response, 503)
    assert response.headers["Retry-After"] == "120"


async def test_download_body_matches_its_checksum(client):
    response = await client.get("/api/download?size=100000&seed=7")
    assert response.status == 200
    body = await response.read()
    assert len(body) == 100_000
    assert response.headers["Content-Length"] == "100000"
    assert response.content_type == "application/octet-stream"
    assert hashlib.sha256(body).hexdigest() == response.headers["X-Checksum-SHA256"]

    again = await (await client.get("/api/download?size=100000&seed=7")).read()
    assert again == body
    other_seed = await (await client.get("/api/download?size=100000&seed=8")).read()
    assert other_seed != body
    shorter = await (await client.get("/api/download?size=70000&seed=7")).read()
    assert shorter == body[:70000]


async def test_download_default_empty_and_head(client):
    default = await client.get("/api/download")
    assert len(await default.read()) == 1024 * 1024
    empty = await client.get("/api/download?size=0")
    assert await empty.read() == b""
    assert empty.headers["X-Checksum-SHA256"] == hashlib.sha256(b"").hexdigest()
    head = await client.head("/api/download?size=5000")
    assert head.status == 200
    assert head.headers["Content-Length"] == "5000"
    assert await head.read() == b""


@pytest.mark.parametrize("query", ["size=-1", f"size={64 * 1024 * 1024 + 1}", "size=x", "seed=-1"])
async def test_download_rejects_bad_parameters(client, query):
    await expect_error(await client.get(f"/api/download?{query}"), 400)


async def test_html_is_not_json(client):
    response = await client.get("/api/html")
    assert response.status == 200
    assert response.content_type == "text/html"
    with pytest.raises(json.JSONDecodeError):
        json.loads(await response.text())


# --- websockets ----------------------------------------------------------------------------


async def test_ws_echo(client):
    async with client.ws_connect("/ws/echo") as ws:
        await ws.send_str("héllo")
        assert await ws.receive_str(timeout=1) == "héllo"
        await ws.send_bytes(b"\x00\xff")
        assert await ws.receive_bytes(timeout=1) == b"\x00\xff"


async def test_ws_endpoints_need_an_upgrade(client):
    for path in ("/ws/echo", "/ws/chat"):
        response = await client.get(path)
        await expect_error(response, 426)
        assert response.headers["Upgrade"] == "websocket"


async def test_chat_rejects_a_long_name(client):
    await expect_error(await client.get("/ws/chat?name=" + "n" * 33), 400)


async def test_chat_join_message_leave(client):
    ann = await client.ws_connect("/ws/chat?name=ann")
    assert await ann.receive_json(timeout=1) == {"type": "join", "name": "ann", "members": ["ann"]}
    bob = await client.ws_connect("/ws/chat?name=bob")
    for ws in (ann, bob):
        assert await ws.receive_json(timeout=1) == {
            "type": "join",
            "name": "bob",
            "members": ["ann", "bob"],
        }
    cid = await client.ws_connect("/ws/chat?name=cid")
    everyone = (ann, bob, cid)
    for ws in everyone:
        assert (await ws.receive_json(timeout=1))["members"] == ["ann", "bob", "cid"]

    await ann.send_json({"text": "hi all"})
    await bob.send_str("plain text")
    for ws in everyone:
        assert await ws.receive_json(timeout=1) == {
            "type": "message",
            "name": "ann",
            "text": "hi all",
        }
        assert await ws.receive_json(timeout=1) == {
            "type": "message",
            "name": "bob",
            "text": "plain text",
        }

    await cid.close()
    for ws in (ann, bob):
        assert await ws.receive_json(timeout=1) == {
            "type": "leave",
            "name": "cid",
            "members": ["ann", "bob"],
        }
    await ann.close()
    await bob.close()


async def test_chat_rooms_are_separate_and_guests_get_names(client):
    async with (
        client.ws_connect("/ws/chat?room=a") as first,
        client.ws_connect("/ws/chat?room=b") as second,
    ):
        assert (await first.receive_json(timeout=1))["members"] == ["guest-1"]
        assert (await second.receive_json(timeout=1))["members"] == ["guest-2"]
        await first.send_str("only room a")
        assert (await first.receive_json(timeout=1))["text"] == "only room a"
        with pytest.raises(asyncio.TimeoutError):
            await second.receive(timeout=0.05)


class _StuckSocket:
    async def send_str(self, data: str) -> None:
        await asyncio.Event().wait()


class _RecordingSocket:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send_str(self, data: str) -> None:
        self.sent.append(data)


class _Transport:
    aborted = False

    def abort(self) -> None:
        self.aborted = True


async def test_broadcast_drops_a_stuck_member(monkeypatch):
    monkeypatch.setattr(websockets, "SEND_TIMEOUT", 0.05)
    good = websockets.Member("good", _RecordingSocket(), _Transport())
    stuck = websockets.Member("stuck", _StuckSocket(), _Transport())
    members = [stuck, good]
    await asyncio.wait_for(websockets.broadcast(members, {"type": "message"}), timeout=1)
    assert members == [good]
    assert stuck.transport.aborted and not good.transport.aborted
    assert good.ws.sent == ['{"type": "message"}']


async def test_ws_chat_binary_is_ignored(client):
    async with client.ws_connect("/ws/chat?name=solo") as ws:
        await ws.receive_json(timeout=1)
        await ws.send_bytes(b"\x01")
        await ws.send_str("after")
        message = await ws.receive(timeout=1)
        assert message.type is WSMsgType.TEXT
        assert json.loads(message.data)["text"] == "after"


def test_reason_phrases_follow_rfc_9110_on_every_python():
    assert phrase(422) == "Unprocessable Content"
    assert phrase(413) == "Content Too Large"
    assert phrase(404) == "Not Found"
