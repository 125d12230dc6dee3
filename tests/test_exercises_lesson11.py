"""Lesson 11's checks fail on known-wrong answers and pass on right answers written
differently from the solution (tests/test_exercise_answers.py runs the solutions and stubs).
The wrong answers are the classic mistakes of a hand-made API client: an error raised
instead of returned, the wrong class for a status, a Retry-After left as text, negative or
not honoured, a page lost or fetched too early, a 404 or a POST retried, a generic exception
instead of the typed one, no token or a login per request, no timeout, no jitter, a session
per attempt or never closed, a token sent to another host."""

from __future__ import annotations

import asyncio
import datetime
import email.utils
import random
import time

import aiohttp
import pytest
from exercise_testing import assert_incorrect
from nbcode import load

from httplab.apiclient import APIError, NotFound
from httplab.checks import Outcome
from httplab.exercises.lesson11 import q1, q2, q3, q4

NOTEBOOK = "11-robust-api-client.ipynb"
TIMEOUT = aiohttp.ClientTimeout(total=10)

error_from = load("solutions", NOTEBOOK, "error_from")
Solution = load("solutions", NOTEBOOK, "RobustClient")


# --- 11.1 retry_after_seconds -----------------------------------------------------------------


def digits_or_none(value):
    return float(value) if value and value.isdigit() else None


def float_of_anything(value):
    return None if value is None else float(value)


def no_clamp(value):
    if value is None:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return (when - datetime.datetime.now(datetime.UTC)).total_seconds()


def the_date_itself(value):
    if value is None or value.isdigit():
        return digits_or_none(value)
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None


def naive_now(value):
    if value is None or value.isdigit():
        return digits_or_none(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.datetime.now()).total_seconds())


def text_as_it_is(value):
    return value


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (digits_or_none, "retry_after_seconds(an HTTP date 30 s ahead) returned None; expected"),
        (float_of_anything, "(an HTTP date 30 s ahead) raised ValueError: could not convert"),
        (no_clamp, "retry_after_seconds(an HTTP date in the past) returned -"),
        (the_date_itself, "an HTTP date means the seconds from now until then"),
        (naive_now, "raised TypeError: can't subtract offset-naive and offset-aware"),
        (text_as_it_is, "retry_after_seconds('120') returned '120'; expected a number of"),
    ],
)
def test_retry_after_seconds_wrong_answers(wrong, message):
    assert_incorrect(q1.check(wrong), message)


def by_timestamps(value):
    """Right too: float() first, then the date as a timestamp against time.time()."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = None
    if seconds is not None:
        return seconds if value.strip().isdigit() else None
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    return max(0.0, email.utils.mktime_tz(parsed) - time.time())


def test_retry_after_seconds_alternative():
    result = q1.check(by_timestamps)
    assert result.outcome is Outcome.CORRECT, result.message


# --- 11.2 error_from --------------------------------------------------------------------------


def raises_it(status, headers, body):
    raise error_from(status, headers, body)


def forbidden_is_plain(status, headers, body):
    error = error_from(status, headers, body)
    if status == 403:
        return APIError(status, error.detail, body, error.retry_after)
    return error


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


def no_length_cap(status, headers, body):
    error = error_from(status, headers, body)
    if isinstance(body, str) and body.strip():
        error.detail = " ".join(body.split())
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
        (no_length_cap, "a 504 whose HTML page is 1,400 characters long the error's .detail"),
        (forbidden_is_plain, "(status 403) return Forbidden (status 403); you returned APIError"),
    ],
)
def test_error_from_wrong_answers(wrong, message):
    assert_incorrect(q2.check(wrong), message)


def error_from_by_ranges(status, headers, body):
    """Right too: a chain of ifs, the detail from a try, the classes looked up by name."""
    import httplab.apiclient as classes

    if status >= 500:
        kind = classes.ServerError
    else:
        names = {401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 429: "RateLimited"}
        kind = getattr(classes, names.get(status, "APIError"))
    try:
        detail = body["detail"] if isinstance(body["detail"], str) else None
    except (TypeError, KeyError):
        detail = None
    if detail is None:
        detail = " ".join(str(body).split())[:200] if body else ""
    from http import HTTPStatus

    detail = detail or HTTPStatus(status).phrase
    return kind(status, detail, body, by_timestamps(headers.get("retry-after")))


def test_error_from_alternative():
    result = q2.check(error_from_by_ranges)
    assert result.outcome is Outcome.CORRECT, result.message


# --- 11.3 paginate ------------------------------------------------------------------------------


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
    assert_incorrect(q3.check(wrong), message)


async def paginate_by_hand(session, url):
    """Right too: the Link header read through yarl, a for loop with a break."""
    while True:
        async with session.get(url) as response:
            if response.status >= 400:
                raise aiohttp.ClientResponseError(response.request_info, (), status=response.status)
            body = await response.json()
            following = response.links.get("next", {}).get("url")
        for item in body["data"]:
            yield item
        if following is None:
            break
        url = following


def test_paginate_alternative():
    result = q3.check(paginate_by_hand)
    assert result.outcome is Outcome.CORRECT, result.message


# --- 11.4 RobustClient ---------------------------------------------------------------------------


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


class NeverClosed(Solution):
    async def __aexit__(self, *exc_info):
        self._session = None  # forgotten, not closed


class SessionPerAttempt(Solution):
    async def _send(self, method, path, **options):
        outer = self._session
        async with aiohttp.ClientSession(headers=self.headers, timeout=outer.timeout) as session:
            self._session = session
            try:
                return await super()._send(method, path, **options)
            finally:
                self._session = outer


class LogsInEveryTime(Solution):
    async def _bearer(self):
        self._token = None
        return await super()._bearer()


class NoJitter(Solution):
    def _delay(self, attempt, error):
        if error is not None and error.retry_after:
            return super()._delay(attempt, error)
        return 0.05 * 2**attempt


class AnyAbsoluteURL(Solution):
    def _url(self, path):
        if path.startswith(("http://", "https://")):
            return path
        return super()._url(path)


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
        (NeverClosed, "its aiohttp.ClientSession was still open: close it in `__aexit__`"),
        (SessionPerAttempt, "opened 2 aiohttp sessions: open one in `__aenter__`"),
        (LogsInEveryTime, "the server got 2 logins (POST /api/token): log in once"),
        (NoJitter, "all 16 came back at the same moment; add jitter to the backoff"),
        (AnyAbsoluteURL, "it should raise ValueError before sending anything"),
    ],
)
def test_robust_client_wrong_answers(wrong, message):
    assert_incorrect(q4.check(wrong), message)


def test_robust_client_wants_the_class():
    assert_incorrect(q4.check(Solution("http://127.0.0.1:9")), "pass your class itself")


def test_the_solution_works_as_a_client_too():
    """The worked solution is a usable client outside the check (one kernel, one loop)."""

    async def use():
        import httplab

        async with Solution(httplab.start().api, username="alice", password="wonderland") as api:
            return await api.get("/api/private")

    assert asyncio.run(use()) == {"username": "alice"}


class LockedClient:
    """Right too, written from scratch: yarl for URLs, a lock around the login, the retry
    decision in one place, full jitter, the error classes of httplab.apiclient."""

    RETRY = {429, 502, 503, 504}

    def __init__(
        self,
        base_url,
        *,
        username=None,
        password=None,
        headers=None,
        timeout=5.0,
        max_attempts=4,
        max_wait=3.0,
    ):
        from yarl import URL

        self.base = URL(base_url.rstrip("/") + "/")
        self.credentials = (username, password or "") if username else None
        self.headers, self.timeout = dict(headers or {}), timeout
        self.max_attempts, self.max_wait = max_attempts, max_wait
        self.session, self.token, self.login_lock = None, None, asyncio.Lock()

    async def __aenter__(self):
        self.session = aiohttp.ClientSession(
            headers=self.headers, timeout=aiohttp.ClientTimeout(total=self.timeout)
        )
        return self

    async def __aexit__(self, *exc_info):
        await self.session.close()

    def where(self, path):
        from yarl import URL

        url = self.base.join(URL(path.lstrip("/")))
        if url.origin() != self.base.origin() or not url.path.startswith(self.base.path):
            raise ValueError(f"{url} is not under {self.base}")
        return url

    async def authorization(self):
        if self.credentials is None:
            return {}
        async with self.login_lock:
            if self.token is None:
                basic = aiohttp.encode_basic_auth(*self.credentials)
                async with self.session.post(
                    self.where("api/token"), headers={"Authorization": basic}
                ) as response:
                    body = await response.json()
                if response.status >= 400:
                    raise error_from(response.status, response.headers, body)
                self.token = body["access_token"]
        return {"Authorization": f"Bearer {self.token}"}

    async def request(self, method, path, *, params=None, json=None, key=None):
        from httplab.apiclient import read_body

        url = self.where(path)
        retryable = method == "GET" or key is not None
        extra = {"Idempotency-Key": key} if key else {}
        attempt = 0
        while True:
            attempt += 1
            final = not retryable or attempt >= self.max_attempts
            headers = {**extra, **await self.authorization()}
            wait = random.random() * min(1.0, 0.1 * 2 ** (attempt - 1))
            try:
                async with self.session.request(
                    method, url, params=params, json=json, headers=headers
                ) as response:
                    body = await read_body(response)
            except (aiohttp.ClientConnectionError, TimeoutError):
                if final:
                    raise
            else:
                if response.status < 400:
                    return body, response
                error = error_from(response.status, response.headers, body)
                if final or response.status not in self.RETRY:
                    raise error
                if error.retry_after:
                    if error.retry_after > self.max_wait:
                        raise error
                    wait = error.retry_after
            await asyncio.sleep(wait)

    async def get(self, path, **params):
        return (await self.request("GET", path, params=params or None))[0]

    async def post(self, path, data, *, idempotency_key=None):
        return (await self.request("POST", path, json=data, key=idempotency_key))[0]

    async def paginate(self, path, **params):
        target, query = path, params or None
        while target:
            body, response = await self.request("GET", target, params=query)
            for item in body["data"]:
                yield item
            following = response.links.get("next")
            target, query = (str(following["url"]) if following else None), None


def test_robust_client_written_from_scratch():
    result = q4.check(LockedClient)
    assert result.outcome is Outcome.CORRECT, result.message
