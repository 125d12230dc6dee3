"""Lesson 03's checks: known-wrong answers are incorrect, with a message that names the fix;
correct answers written differently from the solutions pass."""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import urljoin

import pytest
import requests
from exercise_testing import assert_incorrect

from httplab.checks import Outcome
from httplab.exercises.lesson03 import q1, q2, q3

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


def phrase_or_none(code):
    return HTTPStatus(code).phrase if code in HTTPStatus._value2member_map_ else None


def describe_by_the_tens(url):
    code = requests.get(url, allow_redirects=False, timeout=5).status_code
    return code, phrase_or_none(code), CLASSES[code // 10]


def describe_with_the_name(url):
    code = requests.get(url, allow_redirects=False, timeout=5).status_code
    return code, HTTPStatus(code).name if phrase_or_none(code) else None, CLASSES[code // 100]


def describe_with_the_description(url):
    code = requests.get(url, allow_redirects=False, timeout=5).status_code
    known = phrase_or_none(code)
    return code, HTTPStatus(code).description if known else None, CLASSES[code // 100]


def describe_raising_for_status(url):
    response = requests.get(url, allow_redirects=False, timeout=5)
    response.raise_for_status()
    code = response.status_code
    return code, phrase_or_none(code), CLASSES[code // 100]


def describe_code_as_text(url):
    code = requests.get(url, allow_redirects=False, timeout=5).status_code
    return str(code), phrase_or_none(code), CLASSES[code // 100]


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (describe_by_the_tens, "raised KeyError: 20. The class is `CLASSES[code // 100]`"),
        (describe_with_the_name, "you returned 'NO_CONTENT': take `HTTPStatus(code).phrase`"),
        (describe_with_the_description, "the phrase of 200 is 'OK', you returned 'Request"),
        (describe_raising_for_status, "do not call `raise_for_status()` here"),
        (describe_raising_for_status, "for url: http://127.0.0.1:PORT/api/users/999"),
        (describe_code_as_text, "you returned '200' as an `int` (`response.status_code`)"),
        (describe_following_redirects, "Pass `allow_redirects=False` to see the redirect itself"),
        (
            describe_with_wire_reason,
            "you returned the reason phrase this server sent ('NO CONTENT')",
        ),
        (describe_trusting_httpstatus, "for /status/499: describe(url) raised ValueError"),
        (describe_trusting_httpstatus, "catch the `ValueError`, return `None` as the phrase"),
        (describe_unknown_as_text, "is not in `http.HTTPStatus`, so the phrase is `None`"),
        (describe_errors_together, "the class of 404 is 'client error'"),
        (describe_as_list, "return a tuple `(code, phrase, class)`"),
        (describe_with_head, "for /api/users/1 the server saw HEAD: send a GET"),
        (describe_without_the_query, "the course API received no request for /api/users/1"),
    ],
)
def test_describe_wrong_answers(wrong, message):
    assert_incorrect(q1.check(wrong), message)


PHRASES = {status.value: status.phrase for status in HTTPStatus}
NAMES = ["informational", "success", "redirection", "client error", "server error"]


def describe_from_a_table(url):
    """Correct too: a lookup table of phrases, a Session, the class from the first character."""
    with requests.Session() as session:
        code = session.get(url, allow_redirects=False, timeout=5).status_code
    return code, PHRASES.get(code), NAMES[int(str(code)[0]) - 1]


def test_describe_accepts_a_table_of_phrases():
    result = q1.check(describe_from_a_table)
    assert result.outcome is Outcome.CORRECT, result.message


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


def location_required(response):
    if 300 <= response.status_code < 400:
        return "follow", urljoin(response.url, response.headers["Location"])
    return decide(response)


def forgets_429(response):
    return ("give up", None) if response.status_code == 429 else decide(response)


def retry_without_seconds(response):
    action, value = decide(response)
    return (action, None) if action == "retry" else (action, value)


def done_with_the_body(response):
    action, value = decide(response)
    return (action, response.text) if action == "done" else (action, value)


def ok_means_done(response):
    return ("done", None) if response.ok else decide(response)


def a_list(response):
    return list(decide(response))


def only_the_action(response):
    return decide(response)[0]


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (only_the_action, "GET /api/users/1 → 200 OK: you returned 'done'; return a tuple"),
        (location_required, "raised KeyError: 'location'. Not every 3xx has a Location"),
        (forgets_429, "429 is temporary: return `('retry', <seconds>)`"),
        (retry_without_seconds, "you returned ('retry', None); the server asked for 10 s"),
        (done_with_the_body, "with 'done' the second item is None"),
        (ok_means_done, "a 3xx with a Location header is a redirect: return `('follow'"),
        (a_list, "you returned ['done', None]; return a tuple `(action, value)`"),
        (wrong_word, "'success' is not one of the five actions"),
        (by_class_only, "304 Not Modified has no Location to follow"),
        (raw_location, "the Location '/get' is relative: resolve it against `response.url`"),
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


def next_action_with_match(response):
    """Correct too: a match statement, and Retry-After read with a default."""
    status = response.status_code
    match status // 100, status:
        case (2, _) | (_, 304):
            return "done", None
        case (3, _) if response.headers.get("Location"):
            return "follow", urljoin(response.url, response.headers["Location"])
        case (_, 401):
            return "reauthenticate", None
        case (_, 429 | 502 | 503 | 504):
            value = response.headers.get("Retry-After", "1")
            return "retry", int(value) if value.isdigit() else 1
    return "give up", None


def test_next_action_accepts_a_match_statement():
    result = q2.check(next_action_with_match)
    assert result.outcome is Outcome.CORRECT, result.message


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


def no_timeout(session, url, cache):
    headers = {"If-None-Match": cache[url][0]} if url in cache else {}
    response = session.get(url, headers=headers)
    if response.status_code == 304:
        return cache[url][1]
    cache[url] = (response.headers["ETag"], response.json())
    return cache[url][1]


def cached(response, cache, url):
    """The rest of a correct get_json, after the request."""
    if response.status_code == 304:
        return cache[url][1]
    cache[url] = (response.headers["ETag"], response.json())
    return cache[url][1]


def if_match(session, url, cache):
    headers = {"If-Match": cache[url][0]} if url in cache else {}
    return cached(session.get(url, headers=headers, timeout=5), cache, url)


def copies_the_headers(session, url, cache):
    headers = dict(session.headers)
    if url in cache:
        headers["If-None-Match"] = cache[url][0]
    return cached(requests.get(url, headers=headers, timeout=5), cache, url)


def no_read_timeout(session, url, cache):
    headers = {"If-None-Match": cache[url][0]} if url in cache else {}
    return cached(session.get(url, headers=headers, timeout=(3, None)), cache, url)


def if_modified_since(session, url, cache):
    headers = {"If-Modified-Since": cache[url][0]} if url in cache else {}
    response = session.get(url, headers=headers, timeout=5)
    if response.status_code == 304:
        return cache[url][1]
    cache[url] = (response.headers.get("Last-Modified", ""), response.json())
    return cache[url][1]


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (if_match, "the server answered 200 every time: send `If-None-Match`"),
        (copies_the_headers, "went through the session: send every request with `session.get"),
        (no_read_timeout, "pass `timeout=5` to `session.get`"),
        (if_modified_since, "send `If-None-Match` with the ETag of the last 200 for that URL"),
        (no_timeout, "your function sent a request with no timeout"),
        (no_timeout, "pass `timeout=5` to `session.get`"),
        (no_cache, "the server answered 200 every time: send `If-None-Match`"),
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


def get_json_with_records(session, url, cache):
    """Correct too: a dict per URL, and the status compared with `response.ok`."""
    record = cache.get(url)
    headers = {"If-None-Match": record["etag"]} if record else {}
    response = session.get(url, headers=headers, timeout=(3, 10))
    if response.status_code == 304 and record:
        return record["body"]
    if not response.ok:
        response.raise_for_status()
    cache[url] = {"etag": response.headers.get("ETag"), "body": response.json()}
    return cache[url]["body"]


def test_get_json_accepts_a_record_per_url():
    result = q3.check(get_json_with_records)
    assert result.outcome is Outcome.CORRECT, result.message
