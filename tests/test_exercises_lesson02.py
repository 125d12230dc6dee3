"""Lesson 02's checks: known-wrong answers are incorrect, with a message that names the fix;
correct answers written differently from the solutions pass."""

from __future__ import annotations

import re

import pytest
import requests
from exercise_testing import assert_incorrect

from httplab.checks import Outcome
from httplab.exercises.lesson02 import q1, q2, q3

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


def with_head(url):
    return allow(requests.head(url, timeout=5))


def splits_at_comma_space(url):
    return set(requests.options(url, timeout=5).headers["Allow"].split(", "))


def characters(url):
    return set(requests.options(url, timeout=5).headers["Allow"].replace(" ", ""))


def tries_each_method(url):
    allowed = set()
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        if requests.request(method, url, timeout=5).status_code != 405:
            allowed.add(method)
    return allowed


def the_header_itself(url):
    return requests.options(url, timeout=5).headers["Allow"]


def without_the_query(url):
    bare = url.split("?")[0]
    return allow(requests.options(bare, timeout=5))


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (not_stripped, "strip the spaces around each name"),
        (raises_for_status, "raised HTTPError: 405 Client Error: Method Not Allowed"),
        (with_get, "return a set of method names"),
        (provokes_a_405, "the server saw DELETE /api/users: ask with `requests.options`"),
        (a_list, "you returned list ['GET', 'HEAD', 'OPTIONS', 'POST']: return a set"),
        (lower_case, "method names are case-sensitive (RFC 9110, section 9.1)"),
        (with_none, "you returned ['GET', 'HEAD', None, 'OPTIONS', 'POST']: every item"),
        (ignores_the_url, "for /api/users/3 you returned ['GET', 'HEAD', 'OPTIONS', 'POST']"),
        (without_the_query, "the course API received no request for /api/users"),
        (with_head, "the server saw HEAD /api/users: ask with `requests.options`"),
        (splits_at_comma_space, "you returned ['GET,HEAD,PATCH,PUT']: split the `Allow` header"),
        (characters, "that is a set of the header's characters; split the header into names"),
        (tries_each_method, "the server saw GET /api/users: ask with `requests.options`"),
        (the_header_itself, "you returned str 'GET, HEAD, OPTIONS, POST': return a set"),
    ],
)
def test_q1_wrong_answers(wrong, message):
    assert_incorrect(q1.check(wrong), message)


def with_a_session(url):
    """Correct too: a Session, and a regex that splits at commas and spaces."""
    with requests.Session() as session:
        allow_header = session.options(url, timeout=5).headers.get("Allow", "")
    return {name for name in re.split(r"[,\s]+", allow_header) if name}


def test_q1_accepts_a_session_and_a_regex():
    result = q1.check(with_a_session)
    assert result.outcome is Outcome.CORRECT, result.message


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


def first_byte_only(url):
    response = requests.get(url, headers={"Range": "bytes=0-0"}, timeout=5)
    return int(response.headers.get("Content-Range", "/0").split("/")[-1])


def asks_options(url):
    return int(requests.options(url, timeout=5).headers.get("Content-Length", 0))


def head_then_get(url):
    size = int(requests.head(url, timeout=5).headers["Content-Length"])
    if len(requests.get(url, timeout=5).content) != size:
        raise ValueError("the sizes differ")
    return size


def in_kilobytes(url):
    return int(requests.head(url, timeout=5).headers["Content-Length"]) // 1000


def as_float(url):
    return float(requests.head(url, timeout=5).headers["Content-Length"])


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (head_then_get, "the server saw GET /api/download and started sending the body"),
        (in_kilobytes, "you returned 123: return the size in bytes"),
        (first_byte_only, "the server saw GET /api/download and started sending the body"),
        (asks_options, "the server saw OPTIONS: send one HEAD request (`requests.head`)"),
        (as_float, "you returned float 123456.0: return the `Content-Length` as an `int`"),
        (downloads_it, "the server saw GET /api/download and started sending the body"),
        (streams_it, "the server saw GET /api/download"),
        (as_text, "you returned str '123456': return the `Content-Length` as an `int`"),
        (head_body, "for size=123456 you returned 0: return the size in bytes, as the `Content"),
    ],
)
def test_q2_wrong_answers(wrong, message):
    assert_incorrect(q2.check(wrong), message)


def head_in_a_session(url):
    """Correct too: a HEAD through a Session, the header read without a KeyError."""
    with requests.Session() as session:
        response = session.head(url, timeout=5)
    return int(response.headers.get("content-length", "0"))


def test_q2_accepts_a_session():
    result = q2.check(head_in_a_session)
    assert result.outcome is Outcome.CORRECT, result.message


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


def status_only(method, url, state_url, body=None):
    def state():
        return requests.get(state_url, timeout=5).status_code

    before = state()
    requests.request(method, url, json=body, timeout=5)
    one = state()
    requests.request(method, url, json=body, timeout=5)
    return before == one, one == state()


def safe_by_the_table(method, url, state_url, body=None):
    """Measures idempotence, but takes safety from the chapter's table."""
    requests.request(method, url, json=body, timeout=5)
    one = state_of(state_url)
    requests.request(method, url, json=body, timeout=5)
    return CHAPTER[method][0], one == state_of(state_url)


def before_and_after_two(method, url, state_url, body=None):
    before = state_of(state_url)
    requests.request(method, url, json=body, timeout=5)
    one = state_of(state_url)
    requests.request(method, url, json=body, timeout=5)
    return before == one, before == state_of(state_url)


def state_by_head(method, url, state_url, body=None):
    def state():
        return requests.head(state_url, timeout=5).status_code

    before = state()
    requests.request(method, url, json=body, timeout=5)
    one = state()
    requests.request(method, url, json=body, timeout=5)
    return before == one, one == state()


def without_the_body(method, url, state_url, body=None):
    before = state_of(state_url)
    requests.request(method, url, timeout=5)
    one = state_of(state_url)
    requests.request(method, url, timeout=5)
    return before == one, one == state_of(state_url)


def body_as_form(method, url, state_url, body=None):
    before = state_of(state_url)
    requests.request(method, url, data=body, timeout=5)
    one = state_of(state_url)
    requests.request(method, url, data=body, timeout=5)
    return before == one, one == state_of(state_url)


def a_list_of_flags(method, url, state_url, body=None):
    send_twice(method, url, body)
    return list(CHAPTER[method])


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (from_the_table, ": you said not idempotent, but the second request left the state"),
        (from_a_better_table, "POST /items/"),
        (only_post_is_unsafe_and_so_on, "GET /counter/hit on the counter service: you said safe"),
        (compares_responses, "DELETE /api/users/"),
        (sends_once, "the server saw your POST once: an experiment sends the request twice"),
        (status_only, "POST /api/users/"),
        (safe_by_the_table, "GET /counter/hit on the counter service: you said safe"),
        (before_and_after_two, "you said not idempotent, but the second request left the state"),
        (state_by_head, "Read the state as the status code and body of a GET of `state_url`"),
        (without_the_body, "the server answered 400 to your POST: it did not get the body"),
        (body_as_form, "send it as JSON, `requests.request(method, url, json=body, timeout=5)`"),
        (compares_headers_too, "PATCH /api/users/"),
        (safe_swapped, "you said safe, but the state at /api/users/"),
        (a_list_of_flags, "return a tuple of two bools `(safe, idempotent)`"),
    ],
)
def test_q3_wrong_answers(wrong, message):
    assert_incorrect(q3.check(wrong), message)


def snapshot(method, url, state_url, body=None):
    """Correct too: a Session, and the state compared as (status, parsed JSON)."""
    with requests.Session() as session:

        def state():
            response = session.get(state_url, timeout=5)
            return response.status_code, response.json()

        states = [state()]
        for _ in range(2):
            session.request(method, url, json=body, timeout=5)
            states.append(state())
    return states[0] == states[1], states[1] == states[2]


def test_q3_accepts_a_session_and_parsed_json():
    result = q3.check(snapshot)
    assert result.outcome is Outcome.CORRECT, result.message


def test_q3_messages_say_what_the_experiment_shows():
    result = q3.check(from_a_better_table)
    assert_incorrect(result, "POST /items/")
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
