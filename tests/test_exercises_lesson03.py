"""Lesson 03's checks: each passes on the solution, says "not attempted" on the stub, and
fails with its specific message on known-wrong answers."""

from __future__ import annotations

import re
from http import HTTPStatus
from urllib.parse import urljoin

import pytest
import requests
from nbcode import load

from httplab.checks import Outcome
from httplab.exercises.lesson03 import q1, q2, q3

NOTEBOOK = "03-status-codes.ipynb"
EXERCISES = [(q1, "describe"), (q2, "next_action"), (q3, "get_json")]


@pytest.mark.parametrize(("exercise", "name"), EXERCISES)
def test_solution_passes(exercise, name):
    result = exercise.check(load("solutions", NOTEBOOK, name))
    assert result.outcome is Outcome.CORRECT, result.message


@pytest.mark.parametrize(("exercise", "name"), EXERCISES)
def test_stub_is_not_attempted(exercise, name):
    result = exercise.check(load("exercises", NOTEBOOK, name))
    assert result.outcome is Outcome.NOT_ATTEMPTED, result.message


def assert_incorrect(result, message):
    assert result.outcome is Outcome.INCORRECT, result.message
    assert message in result.message, result.message
    assert not re.search(r":\d{2,5}\b|0x[0-9a-f]{6}", result.message)  # no port, no address


# ---------------------------------------------------------------------------- 03.1

CLASSES = {1: "informational", 2: "success", 3: "redirection", 4: "client error", 5: "server error"}


def describe_following_redirects(url):
    code = requests.get(url, timeout=5).status_code
    return code, HTTPStatus(code).phrase, CLASSES[code // 100]


def describe_with_wire_reason(url):
    response = requests.get(url, allow_redirects=False, timeout=5)
    return response.status_code, response.reason, CLASSES[response.status_code // 100]


def describe_trusting_httpstatus(url):
    code = requests.get(url, allow_redirects=False, timeout=5).status_code
    return code, HTTPStatus(code).phrase, CLASSES[code // 100]


def describe_unknown_as_text(url):
    code = requests.get(url, allow_redirects=False, timeout=5).status_code
    phrase = HTTPStatus(code).phrase if code in HTTPStatus._value2member_map_ else "Unknown"
    return code, phrase, CLASSES[code // 100]


def describe_errors_together(url):
    code = requests.get(url, allow_redirects=False, timeout=5).status_code
    phrase = HTTPStatus(code).phrase if code in HTTPStatus._value2member_map_ else None
    return code, phrase, "error" if code >= 400 else CLASSES[code // 100]


def describe_with_head(url):
    code = requests.head(url, allow_redirects=False, timeout=5).status_code
    phrase = HTTPStatus(code).phrase if code in HTTPStatus._value2member_map_ else None
    return code, phrase, CLASSES[code // 100]


def describe_without_the_query(url):
    code = requests.get(url.split("?")[0], allow_redirects=False, timeout=5).status_code
    return code, HTTPStatus(code).phrase, CLASSES[code // 100]


def describe_as_list(url):
    code = requests.get(url, allow_redirects=False, timeout=5).status_code
    return [code, HTTPStatus(code).phrase, CLASSES[code // 100]]


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (describe_following_redirects, "Pass allow_redirects=False to see the redirect itself"),
        (
            describe_with_wire_reason,
            "you returned the reason phrase this server sent ('NO CONTENT')",
        ),
        (describe_trusting_httpstatus, "for /status/499: describe(url) raised ValueError"),
        (describe_trusting_httpstatus, "catch the ValueError, return None as the phrase"),
        (describe_unknown_as_text, "is not in http.HTTPStatus, so the phrase is None"),
        (describe_errors_together, "the class of 404 is 'client error'"),
        (describe_as_list, "return a tuple (code, phrase, class)"),
        (describe_with_head, "for /api/users/1 the server saw HEAD: send a GET"),
        (describe_without_the_query, "the course API received no request for /api/users/1"),
    ],
)
def test_describe_wrong_answers(wrong, message):
    assert_incorrect(q1.check(wrong), message)


# ---------------------------------------------------------------------------- 03.2


def decide(response, *, follow=None, retry=None, forbidden=None, server_error=None):
    """A correct decision, except for the one rule a wrong answer below replaces."""
    status = response.status_code
    if 200 <= status < 300 or status == 304:
        return "done", None
    if 300 <= status < 400:
        location = response.headers["Location"]
        return "follow", follow(response) if follow else urljoin(response.url, location)
    if status == 401:
        return "reauthenticate", None
    if status == 403 and forbidden:
        return forbidden
    if status in (429, 502, 503, 504):
        return "retry", retry(response) if retry else int(response.headers.get("Retry-After", 1))
    if status >= 500 and server_error:
        return server_error
    return "give up", None


def by_class_only(response):
    status = response.status_code
    if status < 300:
        return "done", None
    if status < 400:
        return "follow", urljoin(response.url, response.headers.get("Location", ""))
    if status < 500:
        return ("reauthenticate", None) if status == 401 else ("give up", None)
    return "retry", int(response.headers.get("Retry-After", 1))


def raw_location(response):
    return decide(response, follow=lambda r: r.headers["Location"])


def retry_after_as_text(response):
    return decide(response, retry=lambda r: r.headers.get("Retry-After", "1"))


def retry_after_ignored(response):
    return decide(response, retry=lambda r: 1)


def retry_after_required(response):
    return decide(response, retry=lambda r: int(r.headers["Retry-After"]))


def reauthenticate_on_403(response):
    return decide(response, forbidden=("reauthenticate", None))


def retry_on_500(response):
    return decide(response, server_error=("retry", 1))


def wrong_word(response):
    action, value = decide(response)
    return ("success" if action == "done" else action), value


def only_the_action(response):
    return decide(response)[0]


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (only_the_action, "GET /api/users/1 → 200 OK: you returned 'done'; return a tuple"),
        (wrong_word, "'success' is not one of the five actions"),
        (by_class_only, "304 Not Modified has no Location to follow"),
        (raw_location, "the Location '/get' is relative: resolve it against response.url"),
        (retry_after_as_text, "Retry-After is text ('10'): return the seconds as a number"),
        (retry_after_ignored, "the server asked for 10 s (Retry-After: 10)"),
        (retry_after_required, "GET /api/gateway → 502 Bad Gateway: next_action(response) raised"),
        (reauthenticate_on_403, "403 Forbidden: the server knows who you are and refuses"),
        (reauthenticate_on_403, "the same credentials will not help (a different identity"),
        (retry_on_500, "500 means the server failed on this request; by this exercise's rules"),
        (retry_on_500, "lesson 06 retries idempotent requests with backoff"),
    ],
)
def test_next_action_wrong_answers(wrong, message):
    assert_incorrect(q2.check(wrong), message)


def test_next_action_reports_the_learners_exception_with_the_case():
    def retry_after_required_for_429(response):
        if response.status_code == 429:
            return "retry", int(response.headers["Retry-After"])
        return decide(response)

    result = q2.check(retry_after_required_for_429)
    assert_incorrect(
        result,
        "GET /status/429 (on httpbin, no Retry-After) → 429 Too Many Requests: "
        "next_action(response) raised KeyError: 'retry-after'",
    )


# ---------------------------------------------------------------------------- 03.3


def no_cache(session, url, cache):
    return session.get(url, timeout=5).json()


def json_on_304(session, url, cache):
    headers = {"If-None-Match": cache[url]} if url in cache else {}
    response = session.get(url, headers=headers, timeout=5)
    cache[url] = response.headers["ETag"]
    return response.json()


def trusts_the_cache(session, url, cache):
    if url not in cache:
        cache[url] = session.get(url, timeout=5).json()
    return cache[url]


def one_slot(session, url, cache):
    headers = {"If-None-Match": cache["etag"]} if "etag" in cache else {}
    response = session.get(url, headers=headers, timeout=5)
    if response.status_code == 304:
        return cache["body"]
    cache["etag"], cache["body"] = response.headers["ETag"], response.json()
    return cache["body"]


def never_updates(session, url, cache):
    headers = {"If-None-Match": cache[url][0]} if url in cache else {}
    response = session.get(url, headers=headers, timeout=5)
    if response.status_code == 304:
        return cache[url][1]
    cache.setdefault(url, (response.headers["ETag"], response.json()))
    return response.json()


def strips_quotes(session, url, cache):
    headers = {"If-None-Match": cache[url][0]} if url in cache else {}
    response = session.get(url, headers=headers, timeout=5)
    if response.status_code == 304:
        return cache[url][1]
    cache[url] = (response.headers["ETag"].strip('"'), response.json())
    return cache[url][1]


def without_the_session(session, url, cache):
    headers = {"If-None-Match": cache[url][0]} if url in cache else {}
    response = requests.get(url, headers=headers, timeout=5)
    if response.status_code == 304:
        return cache[url][1]
    cache[url] = (response.headers["ETag"], response.json())
    return cache[url][1]


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (no_cache, "the server answered 200 every time: send If-None-Match"),
        (json_on_304, "the 2nd call, for /api/users/"),
        (json_on_304, "get_json(session, url, cache) raised JSONDecodeError"),
        (json_on_304, "A 304 has no body: return the body you cached"),
        (trusts_the_cache, "returned the user as it was before the change"),
        (one_slot, "the 4th call, for /api/users/"),
        (one_slot, "keep one ETag and body per URL"),
        (never_updates, "when the server answers 200, store the new ETag and body"),
        (strips_quotes, "exactly as the server sent it (quotes included)"),
        (without_the_session, "the lab saw no GET carrying your session's X-Client-Id"),
    ],
)
def test_get_json_wrong_answers(wrong, message):
    assert_incorrect(q3.check(wrong), message)
