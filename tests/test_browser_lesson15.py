"""Lesson 15's CORS claims, proven in Chromium: a page on one origin fetches from an API on
another port (another origin), and the API's log shows what the browser really sent."""

from __future__ import annotations

import pytest
from browser import needs_chromium

import httplab
from httplab import corsdemo

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def outcome(browser):
    page_server = httplab.serve_aiohttp(corsdemo.create_page(), name="test-cors-page")
    api_app = corsdemo.create_api(page_origin=page_server.url)
    api = httplab.serve_aiohttp(api_app, name="test-cors-api")
    context = browser.new_context()
    try:
        page = context.new_page()
        url = corsdemo.page_url(page_server.url, api.url, httplab.start().httpbin)
        page.goto(url, timeout=15_000)
        page.wait_for_function("() => window.corsResults !== undefined", timeout=15_000)
        results = page.evaluate("() => window.corsResults")
        yield results, corsdemo.log(api_app), page_server.url
    finally:
        context.close()
        api.stop()
        page_server.stop()


def seen(log, method, path):
    return [entry for entry in log if entry["method"] == method and entry["path"] == path]


def test_without_cors_the_get_is_sent_but_its_answer_hidden(outcome):
    results, log, origin = outcome
    assert results["simple GET, no CORS"].startswith("blocked: TypeError")
    (get,) = seen(log, "GET", "/closed/data")  # the request reached the server all the same
    assert get["origin"] == origin


def test_a_put_with_json_sends_a_preflight_first_and_stops_there(outcome):
    results, log, origin = outcome
    assert results["PUT with JSON, no CORS"].startswith("blocked: TypeError")
    (preflight,) = seen(log, "OPTIONS", "/closed/data")
    assert preflight["origin"] == origin
    assert preflight["request_method"] == "PUT"
    assert preflight["request_headers"] == "content-type"
    assert seen(log, "PUT", "/closed/data") == []  # the PUT itself was never sent


def test_a_listed_origin_reads_answers_after_a_preflight(outcome):
    results, log, _ = outcome
    assert results["simple GET, origin listed"] == 'read 200 {"policy":"listed","secret":"42"}'
    assert results["PUT with JSON, origin listed"].startswith("read 200")
    assert [entry["request_method"] for entry in seen(log, "OPTIONS", "/listed/data")] == ["PUT"]
    assert len(seen(log, "PUT", "/listed/data")) == 1
    assert results["GET with cookies, origin listed"].startswith("read 200")


def test_a_wildcard_works_without_credentials_and_fails_with_them(outcome):
    results, log, _ = outcome
    assert results["simple GET, wildcard"].startswith("read 200")
    assert results["GET with cookies, wildcard"].startswith("blocked: TypeError")
    assert len(seen(log, "GET", "/wildcard/data")) == 2  # both were sent and answered


def test_httpbin_reflects_any_origin_so_credentials_pass(outcome):
    results, _, _ = outcome
    assert results["GET with cookies, httpbin"].startswith("read 200")
