"""Tests of the lab's caching endpoints: policies, validators, Vary, and conditional writes."""

from __future__ import annotations

import time
from email.utils import formatdate, parsedate_to_datetime

import pytest
from aiohttp.test_utils import TestClient
from test_courseapi import expect_error

from httplab.courseapi import create_app
from httplab.courseapi.caching import POLICIES, merge_patch, strong_match, weak_match

NOTE = "/api/cache/notes/todo"
GUARDED = "/api/cache/guarded/todo"


@pytest.fixture
async def client(aiohttp_client) -> TestClient:
    return await aiohttp_client(create_app())


@pytest.mark.parametrize("name", sorted(POLICIES))
async def test_each_policy_answers_with_its_cache_control(client, name):
    response = await client.get(f"/api/cache/policy/{name}?max_age=7&swr=3&size=100")
    assert response.status == 200
    body = await response.json()
    assert body["policy"] == name and len(body["payload"]) == 100
    assert response.headers["ETag"].startswith('"')
    assert "Last-Modified" in response.headers
    template = POLICIES[name]
    if template:
        assert response.headers["Cache-Control"] == template.format(max_age=7, swr=3)
    else:
        assert "Cache-Control" not in response.headers
    assert ("Expires" in response.headers) == (name == "expires")
    if name == "expires":
        expires = parsedate_to_datetime(response.headers["Expires"])
        assert (expires - parsedate_to_datetime(response.headers["Date"])).total_seconds() == 7


async def test_if_none_match_uses_the_weak_comparison(client):
    first = await client.get("/api/cache/policy/max-age")
    etag = first.headers["ETag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = await client.get("/api/cache/policy/max-age", headers={"If-None-Match": header})
        assert again.status == 304, header
        assert await again.read() == b""
        assert again.headers["ETag"] == etag
        assert again.headers["Cache-Control"] == "max-age=60"
    other = await client.get("/api/cache/policy/max-age", headers={"If-None-Match": '"nope"'})
    assert other.status == 200


async def test_weak_etags_and_if_match_strong_comparison(client):
    weak = await client.get("/api/cache/policy/max-age?weak=true")
    etag = weak.headers["ETag"]
    assert etag.startswith('W/"')
    revalidated = await client.get(
        "/api/cache/policy/max-age?weak=true", headers={"If-None-Match": etag}
    )
    assert revalidated.status == 304
    refused = await client.get("/api/cache/policy/max-age?weak=true", headers={"If-Match": etag})
    await expect_error(refused, 412)
    assert strong_match('"a"', '"a"') and not strong_match('W/"a"', '"a"')
    assert not strong_match('"a"', 'W/"a"') and weak_match('W/"a"', '"a"')
    assert not weak_match("garbage", '"a"') and strong_match("*", '"a"')


async def test_if_modified_since(client):
    url = "/api/cache/policy/heuristic?modified_at=1000000000"
    first = await client.get(url)
    since = first.headers["Last-Modified"]
    assert (await client.get(url, headers={"If-Modified-Since": since})).status == 304
    earlier = formatdate(999_999_000, usegmt=True)
    assert (await client.get(url, headers={"If-Modified-Since": earlier})).status == 200
    assert (await client.get(url, headers={"If-Modified-Since": "yesterday"})).status == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 §13.1.3)
    both = {"If-Modified-Since": since, "If-None-Match": '"nope"'}
    assert (await client.get(url, headers=both)).status == 200


async def test_bad_policy_queries_are_json_errors(client):
    await expect_error(await client.get("/api/cache/policy/forever"), 404)
    bad = ("max_age=-1", "size=99999999", "weak=maybe", "swr=x", "modified_at=1e9", "delay=9")
    for query in bad:
        await expect_error(await client.get(f"/api/cache/policy/max-age?{query}"), 400)


async def test_delay_slows_200_and_304_alike(client):
    url = "/api/cache/policy/max-age?delay=0.1"
    started = time.monotonic()
    etag = (await client.get(url)).headers["ETag"]
    assert (await client.get(url, headers={"If-None-Match": etag})).status == 304
    assert time.monotonic() - started >= 0.2


async def test_greeting_varies_on_accept_language(client):
    english = await client.get("/api/cache/greeting")
    french = await client.get("/api/cache/greeting", headers={"Accept-Language": "fr-CH, en"})
    unknown = await client.get("/api/cache/greeting", headers={"Accept-Language": "!!,;q"})
    assert (await english.json())["greeting"] == "Hello"
    assert (await french.json())["greeting"] == "Bonjour"
    assert (await unknown.json())["language"] == "en"
    assert french.headers["Vary"] == "Accept-Language"
    assert french.headers["ETag"] != english.headers["ETag"]


async def test_note_etag_changes_on_every_write(client):
    await expect_error(await client.get(NOTE), 404)
    created = await client.put(NOTE, json={"text": "milk"})
    assert created.status == 201
    first = created.headers["ETag"]
    replaced = await client.put(NOTE, json={"text": "milk"})
    assert replaced.status == 200 and replaced.headers["ETag"] != first
    patched = await client.patch(NOTE, json={"done": True})
    assert (await patched.json())["data"] == {"text": "milk", "done": True}
    current = await client.get(NOTE)
    assert current.headers["ETag"] == patched.headers["ETag"]
    assert current.headers["Cache-Control"] == "no-cache"
    cached = await client.get(NOTE, headers={"If-None-Match": current.headers["ETag"]})
    assert cached.status == 304


async def test_if_match_prevents_a_lost_update(client):
    etag = (await client.put(NOTE, json={"n": 1})).headers["ETag"]
    await client.put(NOTE, json={"n": 2})  # another writer
    stale = await client.put(NOTE, json={"n": 3}, headers={"If-Match": etag})
    body = await expect_error(stale, 412)
    assert "GET it again" in body["detail"]
    current = await client.get(NOTE)
    weak = await client.put(
        NOTE, json={"n": 3}, headers={"If-Match": "W/" + current.headers["ETag"]}
    )
    assert "weak tag" in (await expect_error(weak, 412))["detail"]
    ok = await client.put(NOTE, json={"n": 3}, headers={"If-Match": current.headers["ETag"]})
    assert ok.status == 200 and (await ok.json())["version"] == 3


async def test_guarded_notes_demand_a_condition(client):
    await expect_error(await client.put(GUARDED, json={"a": 1}), 428)
    created = await client.put(GUARDED, json={"a": 1}, headers={"If-None-Match": "*"})
    assert created.status == 201
    again = await client.put(GUARDED, json={"a": 1}, headers={"If-None-Match": "*"})
    assert "already exists" in (await expect_error(again, 412))["detail"]
    await expect_error(await client.patch(GUARDED, json={"b": 1}), 428)
    await expect_error(await client.delete(GUARDED), 428)
    etag = created.headers["ETag"]
    deleted = await client.delete(GUARDED, headers={"If-Match": etag})
    assert deleted.status == 204


async def test_notes_belong_to_their_client(client):
    await client.put(NOTE, json={"who": "a"}, headers={"X-Client-Id": "a"})
    await expect_error(await client.get(NOTE, headers={"X-Client-Id": "b"}), 404)
    await client.post("/api/reset")
    await expect_error(await client.get(NOTE, headers={"X-Client-Id": "a"}), 404)


async def test_bad_note_requests_are_json_errors(client):
    await expect_error(await client.put(NOTE, data=b"not json"), 400)
    await expect_error(await client.put(NOTE, json=[1, 2]), 400)
    await expect_error(await client.patch(NOTE, json={"a": 1}), 404)
    await expect_error(await client.delete(NOTE), 404)
    await expect_error(await client.get("/api/cache/notes/" + "x" * 65), 400)
    refused = await client.post(NOTE, json={})
    await expect_error(refused, 405)
    assert refused.headers["Allow"] == "DELETE, GET, HEAD, PATCH, PUT"
    garbled = await client.put(NOTE, json={"a": 1}, headers={"If-Match": 'W/"x", ,,'})
    await expect_error(garbled, 412)


def test_merge_patch_follows_rfc_7396():
    assert merge_patch({"a": 1, "b": {"c": 1, "d": 2}}, {"a": None, "b": {"c": 3}}) == {
        "b": {"c": 3, "d": 2}
    }
    assert merge_patch({"a": 1}, ["x"]) == ["x"]
