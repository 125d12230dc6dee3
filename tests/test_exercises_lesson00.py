"""Lesson 00's check: fails on the stub and on known-wrong answers, passes on the solution."""

from __future__ import annotations

import pytest
import requests
from nbcode import load

from httplab.checks import Outcome
from httplab.exercises.lesson00 import q1

NOTEBOOK = "00-start-here.ipynb"


def test_solution_passes():
    result = q1.check(load("solutions", NOTEBOOK, "status_and_type"))
    assert result.outcome is Outcome.CORRECT, result.message


def test_stub_is_not_attempted():
    result = q1.check(load("exercises", NOTEBOOK, "status_and_type"))
    assert result.outcome is Outcome.NOT_ATTEMPTED


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


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (with_parameters, "leave out parameters such as '; charset=utf-8'"),
        (raises_for_status, "raised HTTPError: 404 Client Error"),
        (always_ok, "for /status/404 the status is 404, you returned 200"),
        (a_list, "return a tuple (status, media type)"),
    ],
)
def test_wrong_answers_are_incorrect(wrong, message):
    result = q1.check(wrong)
    assert result.outcome is Outcome.INCORRECT
    assert message in result.message
