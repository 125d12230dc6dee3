"""Lesson 11's checks: each fails on the stub and on known-wrong answers, passes on the
solution. The wrong answers are the classic mistakes of a hand-made API client: an error
raised instead of returned, the wrong class for a status, a Retry-After left as text or
not honoured, a page lost or fetched too early, a 404 or a POST retried, a generic
exception instead of the typed one, no token, no timeout."""

from __future__ import annotations

import asyncio
import random

import aiohttp
import pytest
from nbcode import load

from httplab.checks import Outcome
from httplab.exercises.lesson11 import q1, q2, q3

NOTEBOOK = "11-robust-api-client.ipynb"
TIMEOUT = aiohttp.ClientTimeout(total=10)

error_from = load("solutions", NOTEBOOK, "error_from")
lesson = error_from.__globals__  # the solution notebook's namespace: its classes, helpers
APIError, NotFound, ServerError = lesson["APIError"], lesson["NotFound"], lesson["ServerError"]
retry_after_seconds = lesson["retry_after_seconds"]
Solution = load("solutions", NOTEBOOK, "RobustClient")


def incorrect(result, message):
    assert result.outcome is Outcome.INCORRECT, result.message
    assert message in result.message, result.message


# --- 11.1 error_from --------------------------------------------------------------------------


def test_error_from_solution_passes():
    result = q1.check(error_from)
    assert result.outcome is Outcome.CORRECT, result.message


def test_error_from_stub_is_not_attempted():
    result = q1.check(load("exercises", NOTEBOOK, "error_from"))
    assert result.outcome is Outcome.NOT_ATTEMPTED, result.message


def raises_it(status, headers, body):
    raise error_from(status, headers, body)


def every_4xx_is_not_found(status, headers, body):
    error = error_from(status, headers, body)
    if 400 <= status < 500 and status != 429:
        return NotFound(status, error.detail, body, error.retry_after)
    return error


def only_500_is_a_server_error(status, headers, body):
    error = error_from(status, headers, body)
    if status > 500:
        return APIError(status, error.detail, body, error.retry_after)
    return error


def whole_body_as_detail(status, headers, body):
    error = error_from(status, headers, body)
    error.detail = str(body)
    return error


def retry_after_as_text(status, headers, body):
    error = error_from(status, headers, body)
    error.retry_after = headers.get("Retry-After")
    return error


def seconds_only(status, headers, body):
    error = error_from(status, headers, body)
    value = headers.get("Retry-After")
    error.retry_after = float(value) if value and value.isdigit() else None
    return error


def detail_from_json_only(status, headers, body):
    error = error_from(status, headers, body)
    error.detail = body["detail"]
    return error


def trusts_any_retry_after(status, headers, body):
    error = error_from(status, headers, body)
    value = headers.get("Retry-After")
    if value is not None and value.strip().isalpha():
        error.retry_after = float(value)
    return error


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (raises_it, "return the exception instead of raising it"),
        (every_4xx_is_not_found, "(status 401) return Unauthorized (status 401); you returned"),
        (
            only_500_is_a_server_error,
            "return ServerError (every 5xx status); you returned APIError",
        ),
        (whole_body_as_detail, """.detail should be the server's "detail" field"""),
        (retry_after_as_text, "should be a number of seconds (a float); yours is '1'"),
        (seconds_only, "an HTTP date 30 s ahead (Retry-After: an HTTP date) .retry_after should"),
        (detail_from_json_only, "for a proxy's HTML page for a 502 error_from raised TypeError"),
        (trusts_any_retry_after, "Retry-After is not valid error_from raised ValueError"),
    ],
)
def test_error_from_wrong_answers(wrong, message):
    incorrect(q1.check(wrong), message)


def test_retry_after_seconds_reads_both_forms():
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("Thu, 01 Jan 1970 00:00:00 GMT") == 0.0  # the past: now
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


# --- 11.2 paginate ------------------------------------------------------------------------------


def test_paginate_solution_passes():
    result = q2.check(load("solutions", NOTEBOOK, "paginate"))
    assert result.outcome is Outcome.CORRECT, result.message


def test_paginate_stub_is_not_attempted():
    result = q2.check(load("exercises", NOTEBOOK, "paginate"))
    assert result.outcome is Outcome.NOT_ATTEMPTED, result.message


async def get_page(session, url):
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json(), response.links.get("next")


async def until_an_empty_page(session, url):
    page = 1
    while True:
        body, _ = await get_page(session, f"{url}&page={page}")
        if not body["data"]:
            return
        for item in body["data"]:
            yield item
        page += 1


async def skips_the_first_page(session, url):
    _, following = await get_page(session, url)
    while following is not None:
        body, following = await get_page(session, str(following["url"]))
        for item in body["data"]:
            yield item


async def every_page_first(session, url):
    items, next_url = [], url
    while next_url is not None:
        body, following = await get_page(session, next_url)
        items.extend(body["data"])
        next_url = str(following["url"]) if following else None
    for item in items:
        yield item


async def its_own_session(session, url):
    async with aiohttp.ClientSession(timeout=TIMEOUT) as own:
        next_url = url
        while next_url is not None:
            body, following = await get_page(own, next_url)
            for item in body["data"]:
                yield item
            next_url = str(following["url"]) if following else None


async def returns_a_list(session, url):
    body, _ = await get_page(session, url)
    return body["data"]


async def quiet_about_errors(session, url):
    next_url = url
    while next_url is not None:
        async with session.get(next_url) as response:
            body = await response.json()
            following = response.links.get("next")
        for item in body.get("data", []):
            yield item
        next_url = str(following["url"]) if following else None


async def never_moves_on(session, url):
    while True:
        body, following = await get_page(session, url)
        for item in body["data"]:
            yield item
        if following is None:
            return


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (until_an_empty_page, 'pages: stop when a page has no rel="next" link'),
        (skips_the_first_page, "missing ids: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"),
        (every_page_first, "requests: yield each page's users before you fetch the next page"),
        (its_own_session, "the server saw no request from the session that paginate was given"),
        (returns_a_list, "from a coroutine: make it an async generator"),
        (quiet_about_errors, "the server answers 400, and paginate finished without an error"),
        (never_moves_on, "yielded some users more than once"),
    ],
)
def test_paginate_wrong_answers(wrong, message):
    incorrect(q2.check(wrong), message)


# --- 11.3 RobustClient ---------------------------------------------------------------------------


def test_robust_client_solution_passes():
    result = q3.check(Solution)
    assert result.outcome is Outcome.CORRECT, result.message


def test_robust_client_stub_is_not_attempted():
    result = q3.check(load("exercises", NOTEBOOK, "RobustClient"))
    assert result.outcome is Outcome.NOT_ATTEMPTED, result.message


class Retries404(Solution):
    RETRY_STATUSES = {404, 429, 502, 503, 504}


class RaisesForStatus(Solution):
    async def get(self, path, **params):
        async with self._session.get(self._url(path), params=params) as response:
            response.raise_for_status()
            return await response.json()


class NeverLogsIn(Solution):
    async def _bearer(self):
        return {}


class NeverRetries(Solution):
    def _delay(self, attempt, error):
        return None


class LosesTheFirstPage(Solution):
    async def paginate(self, path, **params):
        _, response = await self._send("GET", path, params=params)
        following = response.links.get("next")
        while following is not None:
            body, response = await self._send("GET", str(following["url"]))
            for item in body["data"]:
                yield item
            following = response.links.get("next")


class RetriesPost(Solution):
    IDEMPOTENT = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "POST"}


class IgnoresRetryAfter(Solution):
    def _delay(self, attempt, error):
        return random.uniform(0, 0.05 * 2**attempt)


class WaitsForAnyRetryAfter(Solution):
    def _delay(self, attempt, error):
        if error is not None and error.retry_after:
            return error.retry_after
        return super()._delay(attempt, error)


class RetryAfterOnlyFor503(Solution):
    def _delay(self, attempt, error):
        if error is not None and error.status == 429:
            return random.uniform(0, 0.05 * 2**attempt)
        return super()._delay(attempt, error)


class NoTimeout(Solution):
    async def __aenter__(self):
        self._session = aiohttp.ClientSession(headers=self.headers)
        return self


class EntersAsNone(Solution):
    async def __aenter__(self):
        await super().__aenter__()


class GenericTimeout(Solution):
    async def get(self, path, **params):
        try:
            return await super().get(path, **params)
        except TimeoutError:
            raise RuntimeError("the request timed out") from None


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (Retries404, "requests for api.get('/api/users/99999'): a 404 is final"),
        (
            RaisesForStatus,
            "raised aiohttp.ClientResponseError (status 404); it should raise NotFound",
        ),
        (NeverLogsIn, "raised Unauthorized (401): with username and password, get a token"),
        (NeverRetries, "raised ServerError (503): the endpoint fails twice with 503"),
        (LosesTheFirstPage, "missing ids: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"),
        (RetriesPost, "the server got 2 POSTs"),
        (IgnoresRetryAfter, "the server got 4 requests for api.get('/api/maintenance')"),
        (WaitsForAnyRetryAfter, "still running after the check's deadline: it asks for Retry"),
        (RetryAfterOnlyFor503, "429 with Retry-After: 1"),
        (NoTimeout, "was still running after 1.5 s: give the session aiohttp.ClientTimeout"),
        (EntersAsNone, "gave None: return self from __aenter__"),
        (GenericTimeout, "raised RuntimeError; it should raise TimeoutError"),
    ],
)
def test_robust_client_wrong_answers(wrong, message):
    incorrect(q3.check(wrong), message)


def test_robust_client_wants_the_class():
    incorrect(q3.check(Solution("http://127.0.0.1:9")), "pass your class itself")


def test_the_solution_works_as_a_client_too():
    """The worked solution is a usable client outside the check (one kernel, one loop)."""

    async def use():
        import httplab

        async with Solution(httplab.start().api, username="alice", password="wonderland") as api:
            return await api.get("/api/private")

    assert asyncio.run(use()) == {"username": "alice"}
