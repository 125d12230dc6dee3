"""Lesson 06's checks fail with a specific message on known-wrong answers (the mistakes
learners really make) and pass on correct answers written differently from the solution.
(tests/test_exercise_answers.py runs the solutions and the stubs.)"""

from __future__ import annotations

import email.utils
import random
import time

import httpx
import pytest
import requests
from exercise_testing import assert_incorrect
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

from httplab.checks import Outcome
from httplab.exercises.lesson06 import q1, q2, q3

# --- exercise 1 ---------------------------------------------------------------------------


def chapter_order(url, timeout):
    """The chapter's order: ConnectionError first, so a ConnectTimeout lands there."""
    try:
        response = requests.get(url, timeout=timeout)
        response.raise_for_status()
        response.json()
    except requests.ConnectionError:
        return "no connection"
    except requests.Timeout:
        return "timeout"
    except requests.HTTPError as exc:
        return f"http {exc.response.status_code}"
    except requests.JSONDecodeError:
        return "not json"
    except requests.TooManyRedirects:
        return "too many redirects"
    return "ok"


def no_raise_for_status(url, timeout):
    try:
        requests.get(url, timeout=timeout).json()
    except requests.Timeout:
        return "timeout"
    except requests.ConnectionError:
        return "no connection"
    except requests.JSONDecodeError:
        return "not json"
    except requests.TooManyRedirects:
        return "too many redirects"
    return "ok"


def no_timeout(url, timeout):
    try:
        response = requests.get(url, timeout=5)  # ignores the timeout it was given
        response.raise_for_status()
        response.json()
    except requests.Timeout:
        return "timeout"
    except requests.ConnectionError:
        return "no connection"
    except requests.HTTPError as exc:
        return f"http {exc.response.status_code}"
    except requests.JSONDecodeError:
        return "not json"
    except requests.TooManyRedirects:
        return "too many redirects"
    return "ok"


def builtin_exceptions(url, timeout):
    """Python's own ConnectionError and TimeoutError are not what requests raises."""
    try:
        response = requests.get(url, timeout=timeout)
        response.raise_for_status()
        response.json()
    except TimeoutError:
        return "timeout"
    except ConnectionError:
        return "no connection"
    except requests.HTTPError as exc:
        return f"http {exc.response.status_code}"
    except requests.JSONDecodeError:
        return "not json"
    except requests.TooManyRedirects:
        return "too many redirects"
    return "ok"


def catch_all_as_redirects(url, timeout):
    """Every other RequestException labelled as the one failure left in the table."""
    try:
        response = requests.get(url, timeout=timeout)
        response.raise_for_status()
        response.json()
    except requests.Timeout:
        return "timeout"
    except requests.ConnectionError:
        return "no connection"
    except requests.HTTPError as exc:
        return f"http {exc.response.status_code}"
    except requests.JSONDecodeError:
        return "not json"
    except requests.RequestException:
        return "too many redirects"
    return "ok"


def no_catch_all(url, timeout):
    try:
        response = requests.get(url, timeout=timeout)
        response.raise_for_status()
        response.json()
    except requests.Timeout:
        return "timeout"
    except requests.ConnectionError:
        return "no connection"
    except requests.HTTPError as exc:
        return f"http {exc.response.status_code}"
    except requests.JSONDecodeError:
        return "not json"
    except requests.TooManyRedirects:
        return "too many redirects"
    return "ok"


def catch_all_first(url, timeout):
    try:
        response = requests.get(url, timeout=timeout)
        response.raise_for_status()
        response.json()
    except requests.RequestException:
        return "failed"
    except requests.Timeout:
        return "timeout"
    return "ok"


def forgets_redirects(url, timeout):
    try:
        response = requests.get(url, timeout=timeout)
        response.raise_for_status()
        response.json()
    except requests.Timeout:
        return "timeout"
    except requests.ConnectionError:
        return "no connection"
    except requests.HTTPError as exc:
        return f"http {exc.response.status_code}"
    except requests.JSONDecodeError:
        return "not json"
    return "ok"


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (chapter_order, "put `except requests.Timeout` before `except requests.ConnectionError`"),
        (no_raise_for_status, "a missing user (/api/users/99999) you returned 'ok'"),
        (no_timeout, "you waited for the whole answer: pass `timeout=timeout`"),
        (builtin_exceptions, "a closed port on 127.0.0.1 your function raised "),
        (forgets_redirects, "raised requests.TooManyRedirects: catch it"),
        (catch_all_as_redirects, "keep `except requests.TooManyRedirects` for redirects only"),
        (no_catch_all, "raised requests.InvalidSchema: catch it and return 'failed'"),
        (catch_all_first, "a missing user (/api/users/99999) you returned 'failed'"),
    ],
)
def test_q1_wrong_answers(wrong, message):
    assert_incorrect(q1.check(wrong), message)


def isinstance_chain(url, timeout):
    """Correct too: status and Content-Type read by hand, one except with isinstance."""
    try:
        response = requests.get(url, timeout=timeout)
        if response.status_code >= 400:
            return f"http {response.status_code}"
        if "json" not in response.headers.get("Content-Type", ""):
            return "not json"
        response.json()
        return "ok"
    except requests.RequestException as exc:
        for kind, name in [
            (requests.Timeout, "timeout"),
            (requests.ConnectionError, "no connection"),
            (requests.TooManyRedirects, "too many redirects"),
        ]:
            if isinstance(exc, kind):
                return name
        return "failed"


def with_httpx(url, timeout):
    """Correct too, with httpx's exceptions."""
    try:
        response = httpx.get(url, timeout=timeout, follow_redirects=True)
        response.raise_for_status()
        response.json()
    except httpx.TimeoutException:
        return "timeout"
    except httpx.ConnectError:
        return "no connection"
    except httpx.HTTPStatusError as exc:
        return f"http {exc.response.status_code}"
    except httpx.TooManyRedirects:
        return "too many redirects"
    except ValueError:
        return "not json"
    except httpx.HTTPError:  # httpx.UnsupportedProtocol for ftp://
        return "failed"
    return "ok"


@pytest.mark.parametrize("answer", [isinstance_chain, with_httpx])
def test_q1_accepts_alternatives(answer):
    result = q1.check(answer)
    assert result.outcome is Outcome.CORRECT, result.message


def test_q1_builtin_connection_error_names_the_requests_exception():
    result = q1.check(builtin_exceptions)
    assert "requests.ConnectionError" in result.message, result.message


# --- exercise 2 ---------------------------------------------------------------------------


def session_with(**options):
    def retrying_session(total, backoff_factor):
        settings = {
            "total": total,
            "backoff_factor": backoff_factor,
            "status_forcelist": [429, 502, 503, 504],
            "raise_on_status": False,
            **options,
        }
        session = requests.Session()
        session.mount("http://", HTTPAdapter(max_retries=Retry(**settings)))
        session.mount("https://", HTTPAdapter(max_retries=Retry(**settings)))
        return session

    return retrying_session


def http_only(total, backoff_factor):
    retry = Retry(
        total=total,
        backoff_factor=backoff_factor,
        status_forcelist=[429, 502, 503, 504],
        raise_on_status=False,
    )
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=retry))
    return session


def plain_session(total, backoff_factor):
    return requests.Session()


def an_adapter(total, backoff_factor):
    return HTTPAdapter(max_retries=Retry(total=total))


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (plain_session, "a 503 came back after 1 attempt: mount an `HTTPAdapter"),
        (an_adapter, "return a requests.Session, not HTTPAdapter"),
        (session_with(raise_on_status=True), "Retry(..., raise_on_status=False)"),
        (session_with(total=5), "with total=2 the server saw 6 attempts, expected 3"),
        (session_with(status_forcelist=[503]), "a 502 Bad Gateway was tried 1 time, expected"),
        (session_with(status_forcelist=[404, 429, 502, 503, 504]), "a 404 was tried 3 times"),
        (session_with(allowed_methods=None), "POST 2 times: a POST that failed may already have"),
        (session_with(allowed_methods=["GET", "POST"]), "keep `allowed_methods` at its default"),
        (
            session_with(respect_retry_after_header=False),
            "the server said Retry-After: 1 and your session retried sooner",
        ),
        (session_with(status_forcelist=[502, 503, 504]), "a 429 Too Many Requests without"),
        (session_with(status_forcelist=[429, 502, 503]), "a 504 Gateway Timeout without Retry"),
        (http_only, "your session retries http:// URLs but not https:// ones"),
    ],
)
def test_q2_wrong_answers(wrong, message):
    assert_incorrect(q2.check(wrong), message)


class RetryingSession(requests.Session):
    """Correct too: a subclass, `status=` instead of `total=`, jitter, GET and HEAD only."""

    def __init__(self, total, backoff_factor):
        super().__init__()
        retry = Retry(
            total=None,
            status=total,
            connect=total,
            read=total,
            backoff_factor=backoff_factor,
            backoff_jitter=0.05,
            status_forcelist={429, 502, 503, 504},
            allowed_methods=frozenset({"GET", "HEAD"}),
            raise_on_status=False,
        )
        for prefix in ("http://", "https://"):
            self.mount(prefix, HTTPAdapter(max_retries=retry))


def test_q2_accepts_an_alternative():
    result = q2.check(RetryingSession)
    assert result.outcome is Outcome.CORRECT, result.message


# --- exercise 3 ---------------------------------------------------------------------------


def retrier(*, temporary=(429, 502, 503, 504), extra_attempt=0, wait_for=None, give_up=None):
    """A family of retry loops, each with one mistake switched on.

    wait_for(response, attempt, backoff, max_wait) -> seconds to sleep, or None to give up;
    give_up(response) is what happens when giving up (default: raise_for_status)."""

    def right_wait(response, attempt, backoff, max_wait):
        retry_after = response.headers.get("Retry-After", "")
        if retry_after.isdigit():
            wait = int(retry_after)
        elif retry_after:
            wait = email.utils.parsedate_to_datetime(retry_after).timestamp() - time.time()
        else:
            wait = backoff * 2 ** (attempt - 1)
        return None if wait > max_wait else max(0, wait)

    def get_json_with_retries(url, *, attempts=4, backoff=0.1, max_wait=5.0, timeout=5.0):
        for attempt in range(1, attempts + 1 + extra_attempt):
            response = requests.get(url, timeout=timeout)
            if response.status_code < 400:
                return response.json()
            last = attempt == attempts + extra_attempt
            wait = (wait_for or right_wait)(response, attempt, backoff, max_wait)
            if response.status_code not in temporary or last or wait is None:
                if give_up is not None:
                    return give_up(response)
                response.raise_for_status()
            time.sleep(wait)

    return get_json_with_retries


def backoff_only(response, attempt, backoff, max_wait):
    retry_after = response.headers.get("Retry-After", "")
    if retry_after.isdigit() and int(retry_after) > max_wait:
        return None
    return backoff * 2 ** (attempt - 1)  # computes Retry-After but sleeps the backoff


def retry_after_only_for_503(response, attempt, backoff, max_wait):
    retry_after = response.headers.get("Retry-After", "")
    if response.status_code == 503 and retry_after.isdigit():
        return None if int(retry_after) > max_wait else int(retry_after)
    return backoff * 2 ** (attempt - 1)


def no_backoff(response, attempt, backoff, max_wait):
    retry_after = response.headers.get("Retry-After", "")
    wait = int(retry_after) if retry_after.isdigit() else 0
    return None if wait > max_wait else wait


def caps_the_wait(response, attempt, backoff, max_wait):
    retry_after = response.headers.get("Retry-After", "")
    wait = int(retry_after) if retry_after.isdigit() else backoff * 2 ** (attempt - 1)
    return min(wait, max_wait)  # like urllib3's retry_after_max: waits, then retries


def never_gives_up_waiting(response, attempt, backoff, max_wait):
    retry_after = response.headers.get("Retry-After", "")
    return int(retry_after) if retry_after.isdigit() else backoff * 2 ** (attempt - 1)


def int_retry_after(response, attempt, backoff, max_wait):
    """The hint that was: int() on a header that may be an HTTP date."""
    if "Retry-After" in response.headers:
        wait = int(response.headers["Retry-After"])
    else:
        wait = backoff * 2 ** (attempt - 1)
    return None if wait > max_wait else wait


def date_as_absent(response, attempt, backoff, max_wait):
    retry_after = response.headers.get("Retry-After", "")
    wait = int(retry_after) if retry_after.isdigit() else backoff * 2 ** (attempt - 1)
    return None if wait > max_wait else wait


class GaveUp(Exception):
    pass


def raise_own_error(response):
    raise GaveUp(f"gave up after {response.status_code}")


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (retrier(temporary=range(400, 600)), "a 404 was tried 3 times"),
        (retrier(temporary=()), "after one 503 Service Unavailable you gave up"),
        (retrier(extra_attempt=1), "with attempts=3 the server saw 4 attempts"),
        (retrier(give_up=lambda response: None), "you returned None; raise requests.HTTPError"),
        (retrier(give_up=raise_own_error), "you raised GaveUp; raise requests.HTTPError"),
        (retrier(wait_for=caps_the_wait), "max_wait=1.0, and you tried 2 times"),
        (retrier(wait_for=no_backoff), "wait backoff * 2 ** (n - 1)"),
        (retrier(wait_for=backoff_only), "a 503 said Retry-After: 1 and your retry came sooner"),
        (retrier(temporary=(502, 503, 504)), "429 Too Many Requests is temporary"),
        (
            retrier(wait_for=retry_after_only_for_503),
            "a 429 said Retry-After: 1 and the server refused all your 3 attempts",
        ),
        (retrier(wait_for=int_retry_after), "raised ValueError: Retry-After is either a number"),
        (retrier(wait_for=date_as_absent), "your 3 attempts all came before that date"),
    ],
)
def test_q3_wrong_answers(wrong, message):
    assert_incorrect(q3.check(wrong), message)


def while_loop_with_jitter(url, *, attempts=4, backoff=0.1, max_wait=5.0, timeout=5.0):
    """Correct too: a while loop, a Session, jitter, Retry-After as float or HTTP date."""
    attempt = 0
    with requests.Session() as session:
        while True:
            attempt += 1
            response = session.get(url, timeout=timeout)
            if response.ok:
                return response.json()
            if response.status_code not in (429, 502, 503, 504) or attempt >= attempts:
                raise requests.HTTPError(f"gave up after {attempt}", response=response)
            retry_after = response.headers.get("retry-after")
            if retry_after is None:
                wait = backoff * 2 ** (attempt - 1) + random.uniform(0, backoff / 10)
            else:
                try:
                    wait = float(retry_after)
                except ValueError:
                    when = email.utils.parsedate_to_datetime(retry_after).timestamp()
                    wait = max(0.0, when - time.time())
            if wait > max_wait:
                raise requests.HTTPError(f"asked to wait {wait} s", response=response)
            time.sleep(wait)


def test_q3_accepts_an_alternative():
    result = q3.check(while_loop_with_jitter)
    assert result.outcome is Outcome.CORRECT, result.message


def test_q3_wants_the_response_on_the_http_error():
    def no_response(response):
        raise requests.HTTPError(f"gave up after {response.status_code}")

    message = "for a 404: you raised requests.HTTPError without its response"
    assert_incorrect(q3.check(retrier(give_up=no_response)), message)


def test_q3_gives_up_on_a_long_retry_after_without_waiting():
    """The check itself returns promptly even when the answer would sleep for 120 s."""
    started = time.perf_counter()
    assert_incorrect(q3.check(retrier(wait_for=never_gives_up_waiting)), "still waiting after 3 s")
    assert time.perf_counter() - started < 10
