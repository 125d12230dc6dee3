"""Lesson 00's check: known-wrong answers are incorrect, with a message that names the fix;
a correct answer written differently from the solution passes."""

from __future__ import annotations

import pytest
import requests
from exercise_testing import assert_incorrect

from httplab.checks import Outcome
from httplab.exercises.lesson00 import q1


def with_parameters(url):
    response = requests.get(url, timeout=5)
    return response.status_code, response.headers["Content-Type"]


def raises_for_status(url):
    response = requests.get(url, timeout=5)
    response.raise_for_status()
    return response.status_code, response.headers["Content-Type"].split(";")[0]


def always_ok(url):
    response = requests.get(url, timeout=5)
    return 200, response.headers["Content-Type"].split(";")[0]


def a_list(url):
    response = requests.get(url, timeout=5)
    return [response.status_code, response.headers["Content-Type"].split(";")[0]]


def no_timeout(url):
    response = requests.get(url)  # noqa: S113 (the mistake this answer makes)
    return response.status_code, response.headers["Content-Type"].split(";")[0]


def a_minute(url):
    response = requests.get(url, timeout=60)
    return response.status_code, response.headers["Content-Type"].split(";")[0]


def connect_timeout_only(url):
    response = requests.get(url, timeout=(3, None))
    return response.status_code, response.headers["Content-Type"].split(";")[0]


def with_head(url):
    response = requests.head(url, timeout=5)
    return response.status_code, response.headers["Content-Type"].split(";")[0]


def status_as_text(url):
    response = requests.get(url, timeout=5)
    return str(response.status_code), response.headers["Content-Type"].split(";")[0]


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (with_parameters, "leave out parameters such as `; charset=utf-8`"),
        (raises_for_status, "raised HTTPError: 404 Client Error"),
        (always_ok, "for /status/404 the status is 404, you returned 200"),
        (a_list, "return a tuple `(status, media_type)`"),
        (no_timeout, "never answers kept your function waiting with no timeout"),
        (no_timeout, "`requests.get(url, timeout=5)`"),
        (a_minute, "your function would wait 60 s for a server that never answers"),
        (connect_timeout_only, "waiting with no timeout: it would wait forever"),
        (with_head, "for /api/users/1 the server saw HEAD: send one GET"),
        (status_as_text, "you returned '200' as an int (`response.status_code`)"),
    ],
)
def test_wrong_answers_are_incorrect(wrong, message):
    assert_incorrect(q1.check(wrong), message)


def with_a_session(url):
    """Correct too: a Session, a short timeout, and partition instead of split."""
    with requests.Session() as session:
        response = session.get(url, timeout=2)
    media_type, _, _ = response.headers.get("content-type", "").partition(";")
    return response.status_code, media_type.strip()


def test_a_session_and_partition_pass():
    result = q1.check(with_a_session)
    assert result.outcome is Outcome.CORRECT, result.message
