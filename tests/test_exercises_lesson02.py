"""Lesson 02's checks: each fails on the stub and on known-wrong answers, passes on the solution."""

from __future__ import annotations

import pytest
import requests
from nbcode import load

from httplab.checks import Outcome
from httplab.exercises.lesson02 import q1, q2, q3

NOTEBOOK = "02-methods.ipynb"
EXERCISES = [(q1, "allowed_methods"), (q2, "content_length"), (q3, "classify")]


@pytest.mark.parametrize(("exercise", "name"), EXERCISES)
def test_solution_passes(exercise, name):
    result = exercise.check(load("solutions", NOTEBOOK, name))
    assert result.outcome is Outcome.CORRECT, result.message


@pytest.mark.parametrize(("exercise", "name"), EXERCISES)
def test_stub_is_not_attempted(exercise, name):
    result = exercise.check(load("exercises", NOTEBOOK, name))
    assert result.outcome is Outcome.NOT_ATTEMPTED


# --- q1 -----------------------------------------------------------------------------------------


def allow(response):
    return {name.strip() for name in response.headers["Allow"].split(",")}


def not_stripped(url):
    return set(requests.options(url, timeout=5).headers["Allow"].split(","))


def raises_for_status(url):
    response = requests.options(url, timeout=5)
    response.raise_for_status()
    return allow(response)


def with_get(url):
    return {"GET", "HEAD", "OPTIONS", "POST"}, requests.get(url, timeout=5)


def provokes_a_405(url):  # DELETE on a collection gets 405 + Allow, but on an item it deletes!
    return allow(requests.delete(url, timeout=5))


def a_list(url):
    return sorted(allow(requests.options(url, timeout=5)))


def lower_case(url):
    return {name.lower() for name in allow(requests.options(url, timeout=5))}


def ignores_the_url(url):
    requests.options(url, timeout=5)
    return {"GET", "HEAD", "OPTIONS", "POST"}


def with_none(url):
    return allow(requests.options(url, timeout=5)) | {None}


def without_the_query(url):
    bare = url.split("?")[0]
    return allow(requests.options(bare, timeout=5))


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (not_stripped, "strip the spaces around each name"),
        (raises_for_status, "raised HTTPError: 405 Client Error: Method Not Allowed"),
        (with_get, "return a set of method names"),
        (provokes_a_405, "the server saw DELETE /api/users: ask with OPTIONS"),
        (a_list, "you returned list ['GET', 'HEAD', 'OPTIONS', 'POST']: return a set"),
        (lower_case, "method names are case-sensitive (RFC 9110, section 9.1)"),
        (with_none, "you returned ['GET', 'HEAD', None, 'OPTIONS', 'POST']: every item"),
        (ignores_the_url, "for /api/users/3 you returned ['GET', 'HEAD', 'OPTIONS', 'POST']"),
        (without_the_query, "the course API received no request for /api/users"),
    ],
)
def test_q1_wrong_answers(wrong, message):
    result = q1.check(wrong)
    assert result.outcome is Outcome.INCORRECT
    assert message in result.message


# --- q2 -----------------------------------------------------------------------------------------


def downloads_it(url):
    return len(requests.get(url, timeout=5).content)


def streams_it(url):
    with requests.get(url, stream=True, timeout=5) as response:
        return int(response.headers["Content-Length"])


def as_text(url):
    return requests.head(url, timeout=5).headers["Content-Length"]


def head_body(url):
    return len(requests.head(url, timeout=5).content)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (downloads_it, "the server saw GET /api/download and started sending the body"),
        (streams_it, "the server saw GET /api/download"),
        (as_text, "you returned str '123456': return the Content-Length as an int"),
        (head_body, "for size=123456 you returned 0: read the Content-Length"),
    ],
)
def test_q2_wrong_answers(wrong, message):
    result = q2.check(wrong)
    assert result.outcome is Outcome.INCORRECT
    assert message in result.message


# --- q3 -----------------------------------------------------------------------------------------

CHAPTER = {
    "GET": (True, True),
    "HEAD": (True, True),
    "OPTIONS": (True, True),
    "POST": (False, False),
    "PUT": (False, True),
    "PATCH": (False, False),
    "DELETE": (False, True),
}


def send_twice(method, url, body):
    return [requests.request(method, url, json=body, timeout=5) for _ in range(2)]


def from_the_table(method, url, state_url, body=None):
    send_twice(method, url, body)
    return CHAPTER[method]


def from_a_better_table(method, url, state_url, body=None):
    """Knows that this API's PATCH sets fields, but still looks methods up."""
    send_twice(method, url, body)
    return (method in {"GET", "HEAD", "OPTIONS"}, method != "POST")


def only_post_is_unsafe_and_so_on(method, url, state_url, body=None):
    """Right for every course API request, but trusts GET to be safe."""
    send_twice(method, url, body)
    if "/items/" in url:
        return False, True
    if "counter" in url:
        return method == "GET", method == "GET"
    return CHAPTER[method][0], method != "POST"


def state_of(state_url):
    response = requests.get(state_url, timeout=5)
    return response.status_code, response.text


def compares_responses(method, url, state_url, body=None):
    before = state_of(state_url)
    first, second = send_twice(method, url, body)
    after = state_of(state_url)
    same = (first.status_code, first.text) == (second.status_code, second.text)
    return before == after if first.request.method in {"GET", "HEAD"} else False, same


def sends_once(method, url, state_url, body=None):
    before = state_of(state_url)
    requests.request(method, url, json=body, timeout=5)
    after = state_of(state_url)
    return before == after, before == after


def compares_headers_too(method, url, state_url, body=None):
    def state():
        response = requests.get(state_url, timeout=5)
        return response.status_code, response.text, response.headers.get("ETag")

    before = state()
    requests.request(method, url, json=body, timeout=5)
    one = state()
    requests.request(method, url, json=body, timeout=5)
    two = state()
    return before == one, one == two and method not in {"POST", "PATCH"}


def safe_swapped(method, url, state_url, body=None):
    before = state_of(state_url)
    requests.request(method, url, json=body, timeout=5)
    one = state_of(state_url)
    requests.request(method, url, json=body, timeout=5)
    two = state_of(state_url)
    return one == two, before == one


def a_list(method, url, state_url, body=None):
    send_twice(method, url, body)
    return list(CHAPTER[method])


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (from_the_table, ": you said not idempotent, but the second request left the state"),
        (from_a_better_table, "POST /items/"),
        (only_post_is_unsafe_and_so_on, "GET /counter/hit on the counter service: you said safe"),
        (compares_responses, "DELETE /api/users/"),
        (sends_once, "the server saw your POST 1 time(s): an experiment sends the request twice"),
        (compares_headers_too, "PATCH /api/users/"),
        (safe_swapped, "you said safe, but the state at /api/users/"),
        (a_list, "return a tuple of two bools (safe, idempotent)"),
    ],
)
def test_q3_wrong_answers(wrong, message):
    result = q3.check(wrong)
    assert result.outcome is Outcome.INCORRECT
    assert message in result.message


def test_q3_messages_say_what_the_experiment_shows():
    result = q3.check(from_a_better_table)
    assert "POST /items/" in result.message
    assert "you said not idempotent, but the second request left the state" in result.message
    result = q3.check(compares_responses)
    assert "a 404 after a 204 is fine" in result.message


# --- the counter service of the lesson and of q3 ----------------------------------------------


def test_the_counter_breaks_the_promises_it_should():
    from httplab.methods import serve_counter

    url = serve_counter("test-counter")
    assert requests.get(f"{url}/counter", timeout=5).json() == {"value": 0}
    assert requests.get(f"{url}/counter/hit", timeout=5).json() == {"value": 1}  # unsafe GET
    for expected in (6, 11):  # a PATCH that is not idempotent
        answer = requests.patch(f"{url}/counter", json={"add": 5}, timeout=5)
        assert answer.json() == {"value": expected}
    for _ in range(2):  # a PUT that is
        assert requests.put(f"{url}/counter", json={"value": 3}, timeout=5).json() == {"value": 3}
    wrong = requests.patch(f"{url}/counter", json={"add": "five"}, timeout=5)
    assert (wrong.status_code, wrong.reason) == (422, "Unprocessable Content")
    assert wrong.json()["error"] == "Unprocessable Content"
    assert requests.put(f"{url}/counter", data="{", timeout=5).status_code == 400
