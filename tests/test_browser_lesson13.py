"""Lesson 13's live feed page in Chromium: the browser's EventSource receives what the kernel
publishes, straight on loopback and through jupyter-server-proxy under a hub-like base URL."""

from __future__ import annotations

import pytest
import requests
from browser import needs_chromium
from jupyterlab_server import running_jupyterlab

import httplab
from httplab import ssepage

pytestmark = needs_chromium


@pytest.fixture
def feed_page():
    server = httplab.serve_aiohttp(ssepage.create_app(), name="test-feed-page")
    yield server
    server.stop()


def publish(server, text: str) -> None:
    requests.post(f"{server.url}/publish", json={"text": text}, timeout=5).raise_for_status()


def follow_the_feed(page, url: str, server) -> None:
    """Open the page; a message from before (history) and one published now both arrive."""
    publish(server, "before the page opened")
    page.goto(url, timeout=15_000)
    page.locator("#status").filter(has_text="Connected.").wait_for(timeout=10_000)
    publish(server, "<b>live</b> from the kernel")
    log = page.locator("#log")
    log.filter(has_text="#2<b>live</b> from the kernel").wait_for(timeout=10_000)
    assert log.locator("li").all_inner_texts() == [
        "#1before the page opened",
        "#2<b>live</b> from the kernel",  # shown as text, never run as HTML
    ]


def test_the_page_follows_the_feed_on_loopback(page, feed_page):
    follow_the_feed(page, ssepage.page_url(feed_page), feed_page)


def test_the_page_follows_the_feed_through_jupyter_server_proxy(browser, feed_page, tmp_path):
    with running_jupyterlab(tmp_path, base_url="/user/alice/") as hub:
        context = browser.new_context()
        try:
            hub_page = context.new_page()
            # the token in the URL logs the browser in (a cookie) for the proxied page
            hub_page.goto(f"{hub.url}api/status?token={hub.token}", timeout=15_000)
            follow_the_feed(hub_page, f"{hub.url}proxy/{feed_page.port}/", feed_page)
        finally:
            context.close()
