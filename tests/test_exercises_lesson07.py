"""Lesson 07's checks fail with a specific message on known-wrong answers and pass on correct
answers written differently from the solution. The wrong answers are the classic mistakes: no
limit, a limit that is not the one asked for, results in the order they finish, one failure
that costs every result, no timeout, a session never closed.
(tests/test_exercise_answers.py runs the solutions and the stubs.)"""

from __future__ import annotations

import asyncio
import gc
import warnings

import aiohttp
import pytest
import requests
from exercise_testing import assert_incorrect

from httplab.checks import Outcome
from httplab.exercises.lesson07 import q1, q2

LONG = aiohttp.ClientTimeout(total=10)


async def get_json(session: aiohttp.ClientSession, url: str):
    async with session.get(url) as response:
        response.raise_for_status()
        return await response.json()


async def get_or_error(session: aiohttp.ClientSession, url: str):
    try:
        return await get_json(session, url)
    except (aiohttp.ClientError, TimeoutError) as error:
        return error


def within(request_timeout):
    return aiohttp.ClientTimeout(total=request_timeout)


# --- 07.1 fetch_all -----------------------------------------------------------------------


async def unbounded(urls, limit, request_timeout):
    async with aiohttp.ClientSession(timeout=within(request_timeout)) as session:
        return await asyncio.gather(*(get_or_error(session, url) for url in urls))


async def in_the_order_they_finish(urls, limit, request_timeout):
    semaphore = asyncio.Semaphore(limit)

    async def one(session, url):
        async with semaphore:
            return await get_or_error(session, url)

    results = []
    async with aiohttp.ClientSession(timeout=within(request_timeout)) as session:
        for next_done in asyncio.as_completed([one(session, url) for url in urls]):
            results.append(await next_done)
    return results


async def first_failure_raises(urls, limit, request_timeout):
    connector = aiohttp.TCPConnector(limit=limit)
    async with aiohttp.ClientSession(
        timeout=within(request_timeout), connector=connector
    ) as session:
        return await asyncio.gather(*(get_json(session, url) for url in urls))


async def one_at_a_time(urls, limit, request_timeout):
    async with aiohttp.ClientSession(timeout=within(request_timeout)) as session:
        return [await get_or_error(session, url) for url in urls]


async def always_three(urls, limit, request_timeout):
    semaphore = asyncio.Semaphore(3)

    async def one(session, url):
        async with semaphore:
            return await get_or_error(session, url)

    async with aiohttp.ClientSession(timeout=within(request_timeout)) as session:
        return await asyncio.gather(*(one(session, url) for url in urls))


async def catches_only_http_errors(urls, limit, request_timeout):
    semaphore = asyncio.Semaphore(limit)

    async def one(session, url):
        async with semaphore:
            try:
                return await get_json(session, url)
            except aiohttp.ClientResponseError as error:
                return error

    async with aiohttp.ClientSession(timeout=within(request_timeout)) as session:
        return await asyncio.gather(*(one(session, url) for url in urls))


async def catches_only_client_errors(urls, limit, request_timeout):
    """The old hint 3: a TimeoutError is not an aiohttp.ClientError."""
    semaphore = asyncio.Semaphore(limit)

    async def one(session, url):
        async with semaphore:
            try:
                return await get_json(session, url)
            except aiohttp.ClientError as error:
                return error

    async with aiohttp.ClientSession(timeout=within(request_timeout)) as session:
        return await asyncio.gather(*(one(session, url) for url in urls))


async def none_for_failures(urls, limit, request_timeout):
    results = await bounded(urls, limit, request_timeout)
    return [None if isinstance(result, Exception) else result for result in results]


async def bounded(urls, limit, request_timeout):
    connector = aiohttp.TCPConnector(limit=limit)
    async with aiohttp.ClientSession(
        timeout=within(request_timeout), connector=connector
    ) as session:
        return await asyncio.gather(*(get_or_error(session, url) for url in urls))


async def responses_not_json(urls, limit, request_timeout):
    semaphore = asyncio.Semaphore(limit)

    async def one(session, url):
        async with semaphore:
            try:
                async with session.get(url) as response:
                    response.raise_for_status()
                    return await response.text()
            except (aiohttp.ClientError, TimeoutError) as error:
                return error

    async with aiohttp.ClientSession(timeout=within(request_timeout)) as session:
        return await asyncio.gather(*(one(session, url) for url in urls))


async def ignores_the_timeout(urls, limit, request_timeout):
    connector = aiohttp.TCPConnector(limit=limit)
    async with aiohttp.ClientSession(timeout=LONG, connector=connector) as session:
        return await asyncio.gather(*(get_or_error(session, url) for url in urls))


async def never_closed(urls, limit, request_timeout):
    session = aiohttp.ClientSession(
        timeout=within(request_timeout), connector=aiohttp.TCPConnector(limit=limit)
    )
    return await asyncio.gather(*(get_or_error(session, url) for url in urls))


def not_async(urls, limit, request_timeout):
    return []


def with_requests(urls, limit, request_timeout):
    """A plain `def` that fails before it returns: still "use async def"."""
    return [requests.get(url, timeout=request_timeout).json() for url in urls]


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
        (responses_not_json, "result 0 should be the decoded JSON body {'slept': 0.3}"),
        (not_async, "must be a coroutine function: write it with `async def`"),
        (with_requests, "must be a coroutine function: write it with `async def`"),
        (catches_only_client_errors, "raised TimeoutError: one URL never answers"),
        (ignores_the_timeout, "was still running after 6 s: one URL accepts the connection"),
        (never_closed, "left an aiohttp.ClientSession open"),
    ],
)
def test_fetch_all_wrong_answers_are_incorrect(wrong, message):
    assert_incorrect(q1.check(wrong), message)


def test_fetch_all_messages_name_no_port():
    result = q1.check(first_failure_raises)
    assert "127.0.0.1" not in result.message and "client=" not in result.message


def test_a_session_left_open_prints_no_warning_later():
    """The check closes what the learner left open: no "Unclosed client session" later."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert_incorrect(q1.check(never_closed), "left an aiohttp.ClientSession open")
        gc.collect()
    assert not [w for w in caught if "Unclosed" in str(w.message)], caught


async def return_exceptions_and_a_connector(urls, limit, request_timeout):
    """Correct too: a connector limit and gather(return_exceptions=True)."""
    connector = aiohttp.TCPConnector(limit=limit)
    async with aiohttp.ClientSession(
        timeout=within(request_timeout), connector=connector
    ) as session:
        return await asyncio.gather(
            *(get_json(session, url) for url in urls), return_exceptions=True
        )


async def task_group_and_asyncio_timeout(urls, limit, request_timeout):
    """Correct too: a TaskGroup, a semaphore, and asyncio.timeout around each request."""
    semaphore = asyncio.Semaphore(limit)

    async def one(session, url):
        async with semaphore:
            try:
                async with asyncio.timeout(request_timeout):
                    return await get_json(session, url)
            except (aiohttp.ClientError, TimeoutError) as error:
                return error

    async with aiohttp.ClientSession() as session, asyncio.TaskGroup() as group:
        tasks = [group.create_task(one(session, url)) for url in urls]
    return [task.result() for task in tasks]


@pytest.mark.parametrize(
    "answer", [return_exceptions_and_a_connector, task_group_and_asyncio_timeout]
)
def test_fetch_all_correct_alternatives(answer):
    result = q1.check(answer)
    assert result.outcome is Outcome.CORRECT, result.message


# --- 07.2 fetch_within --------------------------------------------------------------------


async def no_deadline(urls, seconds):
    async with aiohttp.ClientSession(timeout=LONG) as session:
        return await asyncio.gather(*(get_json(session, url) for url in urls))


async def wait_for_everything(urls, seconds):
    async with aiohttp.ClientSession(timeout=LONG) as session:
        return await asyncio.wait_for(
            asyncio.gather(*(get_json(session, url) for url in urls)), seconds
        )


async def timeout_per_request_one_after_another(urls, seconds):
    results = []
    async with aiohttp.ClientSession(timeout=within(seconds)) as session:
        for url in urls:
            try:
                results.append(await get_json(session, url))
            except TimeoutError:
                results.append(None)
    return results


async def exceptions_instead_of_none(urls, seconds):
    async with aiohttp.ClientSession(timeout=within(seconds)) as session:
        return await asyncio.gather(
            *(get_json(session, url) for url in urls), return_exceptions=True
        )


async def too_short(urls, seconds):
    return await timeout_per_request_concurrently(urls, seconds / 100)


async def timeout_per_request_concurrently(urls, seconds):
    async def one(session, url):
        try:
            return await get_json(session, url)
        except TimeoutError:
            return None

    async with aiohttp.ClientSession(timeout=within(seconds)) as session:
        return await asyncio.gather(*(one(session, url) for url in urls))


async def session_never_closed(urls, seconds):
    session = aiohttp.ClientSession(timeout=within(seconds))

    async def one(url):
        try:
            return await get_json(session, url)
        except TimeoutError:
            return None

    return await asyncio.gather(*(one(url) for url in urls))


async def asyncio_wait(urls, seconds):
    """Correct too: asyncio.wait with a timeout, the pending ones cancelled."""
    async with aiohttp.ClientSession() as session:
        tasks = [asyncio.create_task(get_json(session, url)) for url in urls]
        await asyncio.wait(tasks, timeout=seconds)
        for task in tasks:
            task.cancel()
        return [task.result() if task.done() and not task.cancelled() else None for task in tasks]


@pytest.mark.parametrize("answer", [timeout_per_request_concurrently, asyncio_wait])
def test_fetch_within_correct_alternatives(answer):
    result = q2.check(answer)
    assert result.outcome is Outcome.CORRECT, result.message


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (no_deadline, "was still running after 2.5 s: start all the requests together"),
        (wait_for_everything, "raised TimeoutError: catch the timeout, and keep the answers"),
        (timeout_per_request_one_after_another, "stop waiting at the deadline"),
        (exceptions_instead_of_none, "its result should be None, not a TimeoutError"),
        (too_short, "within the deadline, so its result should be {'slept': 0.05}"),
        (session_never_closed, "fetch_within left an aiohttp.ClientSession open"),
    ],
)
def test_fetch_within_wrong_answers_are_incorrect(wrong, message):
    assert_incorrect(q2.check(wrong), message)
