"""Lesson 12's checks reject the classic caching mistakes: no-cache for private data, no
immutable on a fingerprinted file, stale-if-error where stale is forbidden, a lost update, a
412 retried without re-reading, a request without a timeout, the strong comparison for
If-None-Match, an ETag on a no-store response, a middleware that forgets HEAD."""

from __future__ import annotations

import hashlib
import time

import pytest
import requests
from aiohttp import web
from exercise_testing import assert_incorrect

from httplab.checks import Outcome
from httplab.exercises.lesson12 import q1, q2, q3

# --- 12.1 cache_control_for -------------------------------------------------------------------

RIGHT = {
    "/static/app.3f9a2c.js": "max-age=31536000, immutable",
    "/api/me/statement": "no-store",
    "/api/me/profile": "private, max-age=30",
    "/news/front-page": "max-age=60, must-revalidate, public",
    "/api/prices": "max-age=0, must-revalidate",
}


def answer_with(**changes):
    policy = {**RIGHT, **{k.replace("_", "/"): v for k, v in changes.items()}}

    def cache_control_for(resource):
        return policy[resource]

    return cache_control_for


def test_another_right_policy_passes():
    result = q1.check(answer_with())
    assert result.outcome is Outcome.CORRECT, result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        ({"/api/me/statement": "no-cache"}, "`no-cache` still lets caches store it"),
        ({"/api/me/statement": "private, max-age=0"}, "`private` still lets the browser store"),
        ({"/static/app.3f9a2c.js": "max-age=31536000"}, "add `immutable`"),
        ({"/static/app.3f9a2c.js": "max-age=3600, immutable"}, "fresh for a year"),
        ({"/static/app.3f9a2c.js": "private, max-age=31536000, immutable"}, "drop `no-cache`"),
        ({"/api/me/profile": "max-age=60"}, "add `private`"),
        ({"/api/me/profile": "public, private, max-age=60"}, "`public` and `s-maxage` invite"),
        ({"/news/front-page": "public, max-age=60"}, "add it"),
        ({"/api/prices": "no-store"}, "`no-store` throws the body away"),
        ({"/api/prices": "public, max-age=60"}, "`no-cache` (or `max-age=0, must-revalidate`)"),
        ({"/news/front-page": "max_age=60, must-revalidate"}, "'max_age' is not a Cache-Control"),
        (
            {"/news/front-page": "public, max-age=60, must-revalidate, stale-while-revalidate=30"},
            "`stale-while-revalidate` lets a cache serve the stale copy",
        ),
        (
            {"/news/front-page": "public, max-age=60, must-revalidate, stale-if-error=600"},
            "`stale-if-error` lets a cache serve the stale copy",
        ),
        ({"/api/me/profile": "private, max-age = 60"}, "no spaces around `=`"),
        ({"/api/me/profile": "private; max-age=60"}, "separate directives with commas"),
        ({"/api/me/profile": "private, max-age:60"}, "argument follows `=`"),
        ({"/api/me/statement": "Cache-Control: no-store"}, "return only its value"),
        ({"/api/me/profile": "private, max-age=60, no-store"}, "`no-store` forbids even the"),
        ({"/api/me/profile": "private, no-cache"}, "`max-age=60` instead"),
    ],
)
def test_cache_control_wrong_answers(wrong, message):
    policy = {**RIGHT, **wrong}
    assert_incorrect(q1.check(policy.get), message)


def test_directives_in_any_case_and_order_pass():
    answer = answer_with(
        **{
            "/static/app.3f9a2c.js": 'Immutable, MAX-AGE="31536000", Public',
            "/api/me/profile": "max-age=60,private",
            "/api/prices": "public, no-cache",
        }
    )
    result = q1.check(answer)
    assert result.outcome is Outcome.CORRECT, result.message


def test_cache_control_must_be_a_string():
    assert_incorrect(q1.check(lambda resource: {"max-age": 60}), "return the header value")


# --- 12.2 update_note --------------------------------------------------------------------------

T = 5


def read(url):
    response = requests.get(url, timeout=T)
    response.raise_for_status()
    return response.headers["ETag"], response.json()["data"]


def update_with_patch(url, change, max_attempts=3):
    """Correct too: PATCH with a merge patch of the changed fields, a while loop."""
    attempts = 0
    while True:
        attempts += 1
        etag, data = read(url)
        new = change(data)
        response = requests.patch(url, json=new, headers={"If-Match": etag}, timeout=T)
        if response.status_code == 412 and attempts < max_attempts:
            continue
        response.raise_for_status()
        return response.json()["data"]


def no_if_match(url, change, max_attempts=3):
    etag, data = read(url)
    response = requests.put(url, json=change(data), timeout=T)
    response.raise_for_status()
    return response.json()["data"]


def if_match_star(url, change, max_attempts=3):
    etag, data = read(url)
    response = requests.put(url, json=change(data), headers={"If-Match": "*"}, timeout=T)
    response.raise_for_status()
    return response.json()["data"]


def retry_without_reading(url, change, max_attempts=3):
    etag, data = read(url)
    new = change(data)
    for _ in range(max_attempts):
        response = requests.put(url, json=new, headers={"If-Match": etag}, timeout=T)
        if response.ok:
            return response.json()["data"]
    response.raise_for_status()


def reread_but_keep_first_change(url, change, max_attempts=3):
    etag, data = read(url)
    new = change(data)
    for _ in range(max_attempts):
        response = requests.put(url, json=new, headers={"If-Match": etag}, timeout=T)
        if response.ok:
            return response.json()["data"]
        etag, _ = read(url)
    response.raise_for_status()


def gives_up_at_once(url, change, max_attempts=3):
    etag, data = read(url)
    response = requests.put(url, json=change(data), headers={"If-Match": etag}, timeout=T)
    response.raise_for_status()
    return response.json()["data"]


def never_gives_up(url, change, max_attempts=3):
    for _ in range(max_attempts + 3):
        etag, data = read(url)
        response = requests.put(url, json=change(data), headers={"If-Match": etag}, timeout=T)
        if response.ok:
            return response.json()["data"]
    return None


def returns_none_after_412s(url, change, max_attempts=3):
    for _ in range(max_attempts):
        etag, data = read(url)
        response = requests.put(url, json=change(data), headers={"If-Match": etag}, timeout=T)
        if response.ok:
            return response.json()["data"]
    return None


def returns_the_response(url, change, max_attempts=3):
    for _ in range(max_attempts):
        etag, data = read(url)
        response = requests.put(url, json=change(data), headers={"If-Match": etag}, timeout=T)
        if response.ok:
            return response.json()
    response.raise_for_status()


def no_timeout(url, change, max_attempts=3):
    for _ in range(max_attempts):
        got = requests.get(url)  # noqa: S113 (the mistake this answer makes)
        headers = {"If-Match": got.headers["ETag"]}
        sent = requests.put(url, json=change(got.json()["data"]), headers=headers)  # noqa: S113
        if sent.status_code != 412:
            sent.raise_for_status()
            return sent.json()["data"]
    sent.raise_for_status()


def no_timeout_on_the_put(url, change, max_attempts=3):
    for _ in range(max_attempts):
        etag, data = read(url)
        sent = requests.put(url, json=change(data), headers={"If-Match": etag})  # noqa: S113
        if sent.status_code != 412:
            sent.raise_for_status()
            return sent.json()["data"]
    sent.raise_for_status()


def etag_read_once(url, change, max_attempts=3):
    etag, _ = read(url)
    for _ in range(max_attempts):
        _, data = read(url)
        sent = requests.put(url, json=change(data), headers={"If-Match": etag}, timeout=T)
        if sent.ok:
            return sent.json()["data"]
    sent.raise_for_status()


def etag_without_quotes(url, change, max_attempts=3):
    for _ in range(max_attempts):
        etag, data = read(url)
        headers = {"If-Match": etag.strip('"')}
        sent = requests.put(url, json=change(data), headers=headers, timeout=T)
        if sent.ok:
            return sent.json()["data"]
    sent.raise_for_status()


def gives_up_with_runtime_error(url, change, max_attempts=3):
    for _ in range(max_attempts):
        etag, data = read(url)
        sent = requests.put(url, json=change(data), headers={"If-Match": etag}, timeout=T)
        if sent.ok:
            return sent.json()["data"]
    raise RuntimeError("gave up: the note kept changing")


def sends_form_data(url, change, max_attempts=3):
    for _ in range(max_attempts):
        etag, data = read(url)
        sent = requests.put(url, data=change(data), headers={"If-Match": etag}, timeout=T)
        if sent.ok:
            return sent.json()["data"]
    sent.raise_for_status()


def session_and_for_else(url, change, max_attempts=3):
    """Correct too: a Session closed by `with`, a for-else, the lab's 412 raised at the end."""
    with requests.Session() as session:
        for _ in range(max_attempts):
            got = session.get(url, timeout=(3, 5))
            got.raise_for_status()
            headers = {"If-Match": got.headers["ETag"]}
            sent = session.put(url, json=change(got.json()["data"]), headers=headers, timeout=5)
            if sent.status_code != 412:
                break
        sent.raise_for_status()
        return sent.json()["data"]


def test_a_session_and_for_else_passes():
    result = q2.check(session_and_for_else)
    assert result.outcome is Outcome.CORRECT, result.message


def test_patch_in_a_while_loop_passes():
    result = q2.check(update_with_patch)
    assert result.outcome is Outcome.CORRECT, result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (no_if_match, "428 Precondition Required: send `If-Match`"),
        (if_match_star, "`If-Match: *` matches any version"),
        (retry_without_reading, "you wrote again without reading"),
        (reread_but_keep_first_change, "call `change()` on the data of your latest GET"),
        (gives_up_at_once, "the third write should succeed; your writes got [412]"),
        (never_gives_up, "stop after `max_attempts` writes"),
        (returns_none_after_412s, "raise instead"),
        (returns_the_response, 'return the note\'s data as stored (the `"data"` field)'),
        (no_timeout, "when the note's GET never answers, your function waits forever"),
        (no_timeout_on_the_put, "when the note's PUT (or PATCH) never answers"),
        (etag_read_once, "the `ETag` header of that GET exactly as it came"),
        (etag_without_quotes, "exactly as it came (quotes included"),
        (gives_up_with_runtime_error, "raised RuntimeError: gave up: the note kept changing"),
        (gives_up_with_runtime_error, "raise `requests.HTTPError` instead"),
        (sends_form_data, "your PUT got 400: send the new data as a JSON object"),
    ],
)
def test_update_note_wrong_answers(wrong, message):
    assert_incorrect(q2.check(wrong), message)


# --- 12.3 etag_middleware ----------------------------------------------------------------------


def tag(body):
    return '"' + hashlib.md5(body).hexdigest() + '"'


def weak_match(header, etag):
    wanted = etag.removeprefix("W/")
    return header.strip() == "*" or any(
        part.strip().removeprefix("W/") == wanted for part in header.split(",")
    )


def middleware(
    make_etag=tag,
    match=weak_match,
    body_304=False,
    skip_no_store=True,
    only_get=True,
    only_200=True,
    keep_own=True,
    copy_cache_control=True,
    methods=("GET", "HEAD"),
    is_no_store=lambda value: "no-store" in value,
):
    @web.middleware
    async def etag_middleware(request, handler):
        response = await handler(request)
        if only_get and request.method not in methods:
            return response
        if only_200 and response.status != 200:
            return response
        if skip_no_store and is_no_store(response.headers.get("Cache-Control", "")):
            return response
        etag = (keep_own and response.headers.get("ETag")) or make_etag(response.body)
        response.headers["ETag"] = etag
        if match(request.headers.get("If-None-Match", ""), etag):
            headers = {"ETag": etag}
            if copy_cache_control and "Cache-Control" in response.headers:
                headers["Cache-Control"] = response.headers["Cache-Control"]
            if body_304:
                return web.Response(status=304, headers=headers, body=response.body)
            return web.Response(status=304, headers=headers)
        return response

    return etag_middleware


def test_md5_tags_and_another_matcher_pass():
    result = q3.check(middleware())
    assert result.outcome is Outcome.CORRECT, result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (middleware(match=lambda header, etag: header == etag), "weak comparison"),
        (middleware(make_etag=lambda body: hashlib.md5(body).hexdigest()), "double quotes"),
        (middleware(make_etag=lambda body: f'"{time.perf_counter_ns()}"'), "the ETag changed"),
        (middleware(skip_no_store=False), "look for `no-store` among the directives"),
        (middleware(only_get=False), "leave requests other than GET and HEAD alone"),
        (middleware(only_200=False), "a 404 got an ETag"),
        (middleware(keep_own=False), "keep it"),
        (middleware(copy_cache_control=False), "must carry the `Cache-Control`"),
        (middleware(make_etag=lambda body: 'W/"' + hashlib.md5(body).hexdigest() + '"'), "strong"),
    ],
)
def test_etag_middleware_wrong_answers(wrong, message):
    assert_incorrect(q3.check(wrong), message)


def test_aiohttps_own_etag_api_passes():
    """Correct too: `response.etag` quotes the tag, `request.if_none_match` parses the header."""

    @web.middleware
    async def etag_middleware(request, handler):
        response = await handler(request)
        cache_control = response.headers.get("Cache-Control", "")
        if request.method not in ("GET", "HEAD") or response.status != 200:
            return response
        if "no-store" in cache_control:
            return response
        if response.etag is None:
            response.etag = hashlib.blake2b(response.body, digest_size=8).hexdigest()
        tags = request.if_none_match or ()
        if any(tag.value in ("*", response.etag.value) for tag in tags):
            not_modified = web.Response(status=304)
            not_modified.etag = response.etag
            if cache_control:
                not_modified.headers["Cache-Control"] = cache_control
            return not_modified
        return response

    result = q3.check(etag_middleware)
    assert result.outcome is Outcome.CORRECT, result.message


def test_get_only_forgets_head():
    assert_incorrect(q3.check(middleware(methods=("GET",))), "treat HEAD like GET")


def test_no_store_compared_as_the_whole_header():
    def exact(value):
        return value == "no-store"

    assert_incorrect(
        q3.check(middleware(is_no_store=exact)), "look for `no-store` among the directives"
    )


def test_the_middleware_needs_its_decorator_and_async_def():
    async def undecorated(request, handler):
        return await handler(request)

    @web.middleware
    def not_async(request, handler):
        return handler(request)

    assert_incorrect(q3.check(undecorated), "decorate your middleware with `@web.middleware`")
    assert_incorrect(q3.check(not_async), "write the middleware with `async def`")


def test_a_middleware_that_crashes_is_reported():
    @web.middleware
    async def etag_middleware(request, handler):
        response = await handler(request)
        response.headers["ETag"] = hashlib.sha256(response.text).hexdigest()
        return response

    assert_incorrect(q3.check(etag_middleware), "etag_middleware raised TypeError")
