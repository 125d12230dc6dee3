"""Lesson 07's checks: each fails on the stub and on known-wrong answers, passes on the
solution. The wrong answers are the classic mistakes: no limit, a limit that is not the
one asked for, results in the order they finish, one failure that costs every result."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from nbcode import load

from httplab.checks import Outcome
from httplab.exercises.lesson07 import q1, q2

NOTEBOOK = "07-async-clients.ipynb"
TIMEOUT = aiohttp.ClientTimeout(total=10)


async def get_json(session: aiohttp.ClientSession, url: str):
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def get_or_error(session: aiohttp.ClientSession, url: str):
    try:
        return await get_json(session, url)
    except (aiohttp.ClientError, TimeoutError) as error:
        return error


# --- 07.1 fetch_all -----------------------------------------------------------------------


def test_fetch_all_solution_passes():
    result = q1.check(load("solutions", NOTEBOOK, "fetch_all"))
    assert result.outcome is Outcome.CORRECT, result.message


def test_fetch_all_stub_is_not_attempted():
    result = q1.check(load("exercises", NOTEBOOK, "fetch_all"))
    assert result.outcome is Outcome.NOT_ATTEMPTED, result.message


async def unbounded(urls, limit):
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        return await asyncio.gather(*(get_or_error(session, url) for url in urls))


async def in_the_order_they_finish(urls, limit):
    semaphore = asyncio.Semaphore(limit)

    async def one(session, url):
        async with semaphore:
            return await get_or_error(session, url)

    results = []
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        for next_done in asyncio.as_completed([one(session, url) for url in urls]):
            results.append(await next_done)
    return results


async def first_failure_raises(urls, limit):
    connector = aiohttp.TCPConnector(limit=limit)
    async with aiohttp.ClientSession(timeout=TIMEOUT, connector=connector) as session:
        return await asyncio.gather(*(get_json(session, url) for url in urls))


async def one_at_a_time(urls, limit):
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        return [await get_or_error(session, url) for url in urls]


async def always_three(urls, limit):
    semaphore = asyncio.Semaphore(3)

    async def one(session, url):
        async with semaphore:
            return await get_or_error(session, url)

    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        return await asyncio.gather(*(one(session, url) for url in urls))


async def catches_only_http_errors(urls, limit):
    semaphore = asyncio.Semaphore(limit)

    async def one(session, url):
        async with semaphore:
            try:
                return await get_json(session, url)
            except aiohttp.ClientResponseError as error:
                return error

    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        return await asyncio.gather(*(one(session, url) for url in urls))


async def none_for_failures(urls, limit):
    results = await always_three(urls, limit) if limit == 3 else await bounded(urls, limit)
    return [None if isinstance(result, Exception) else result for result in results]


async def bounded(urls, limit):
    connector = aiohttp.TCPConnector(limit=limit)
    async with aiohttp.ClientSession(timeout=TIMEOUT, connector=connector) as session:
        return await asyncio.gather(*(get_or_error(session, url) for url in urls))


async def responses_not_json(urls, limit):
    semaphore = asyncio.Semaphore(limit)

    async def one(session, url):
        async with semaphore:
            try:
                async with session.get(url) as response:
                    response.raise_for_status()
                    return await response.text()
            except aiohttp.ClientError as error:
                return error

    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        return await asyncio.gather(*(one(session, url) for url in urls))


def not_async(urls, limit):
    return []


def test_connector_limit_is_a_correct_answer_too():
    result = q1.check(bounded)
    assert result.outcome is Outcome.CORRECT, result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (unbounded, "in flight at once: keep at most `limit` in flight"),
        (in_the_order_they_finish, "the results are out of order"),
        (first_failure_raises, "a failing URL must not cost the others their results"),
        (one_at_a_time, "with limit=3 the server never saw more than 1 of your requests"),
        (always_three, "with limit=5 the server never saw more than 3 of your requests"),
        (catches_only_http_errors, "raised ClientConnectorError: a failing URL must not cost"),
        (none_for_failures, "so result 3 should be the exception that request raised"),
        (responses_not_json, "result 0 should be the decoded JSON body {'slept': 0.14}"),
        (not_async, "must be a coroutine function: write it with `async def`"),
    ],
)
def test_fetch_all_wrong_answers_are_incorrect(wrong, message):
    result = q1.check(wrong)
    assert result.outcome is Outcome.INCORRECT
    assert message in result.message


def test_fetch_all_messages_name_no_port():
    result = q1.check(first_failure_raises)
    assert "127.0.0.1" not in result.message and "client=" not in result.message


# --- 07.2 fetch_within --------------------------------------------------------------------


def test_fetch_within_solution_passes():
    result = q2.check(load("solutions", NOTEBOOK, "fetch_within"))
    assert result.outcome is Outcome.CORRECT, result.message


def test_fetch_within_stub_is_not_attempted():
    result = q2.check(load("exercises", NOTEBOOK, "fetch_within"))
    assert result.outcome is Outcome.NOT_ATTEMPTED, result.message


async def no_deadline(urls, seconds):
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        return await asyncio.gather(*(get_json(session, url) for url in urls))


async def wait_for_everything(urls, seconds):
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        return await asyncio.wait_for(
            asyncio.gather(*(get_json(session, url) for url in urls)), seconds
        )


async def timeout_per_request_one_after_another(urls, seconds):
    results = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=seconds)) as session:
        for url in urls:
            try:
                results.append(await get_json(session, url))
            except TimeoutError:
                results.append(None)
    return results


async def exceptions_instead_of_none(urls, seconds):
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=seconds)) as session:
        return await asyncio.gather(
            *(get_json(session, url) for url in urls), return_exceptions=True
        )


async def too_short(urls, seconds):
    return await timeout_per_request_concurrently(urls, seconds / 10)


async def timeout_per_request_concurrently(urls, seconds):
    async def one(session, url):
        try:
            return await get_json(session, url)
        except TimeoutError:
            return None

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=seconds)) as session:
        return await asyncio.gather(*(one(session, url) for url in urls))


def test_a_timeout_per_request_sent_together_is_correct_too():
    result = q2.check(timeout_per_request_concurrently)
    assert result.outcome is Outcome.CORRECT, result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (no_deadline, "was still running after 1 s: start all the requests together"),
        (wait_for_everything, "raised TimeoutError: catch the timeout, and keep the answers"),
        (timeout_per_request_one_after_another, "stop waiting at the deadline"),
        (exceptions_instead_of_none, "its result should be None, not a TimeoutError"),
        (too_short, "within the deadline, so its result should be {'slept': 0.05}"),
    ],
)
def test_fetch_within_wrong_answers_are_incorrect(wrong, message):
    result = q2.check(wrong)
    assert result.outcome is Outcome.INCORRECT
    assert message in result.message
