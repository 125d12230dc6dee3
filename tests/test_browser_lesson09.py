"""Lesson 09 in a real JupyterLab, in a real browser (Playwright driving Debian's Chromium).

Each browser test opens a lesson, runs all its cells, waits for the kernel to go idle and
fails on any error or stderr output that the lesson did not announce (cells tagged
`raises-exception`). Without Chromium these tests are skipped with a message saying how to
get it; in CI (CI=true) a skip fails the run (see conftest.py).
"""

from __future__ import annotations

from browser import assert_clean, check_chat_page_in_the_notebook, needs_chromium, run_all
from jupyterlab_server import running_jupyterlab

pytestmark = needs_chromium


def test_websocket_lesson_and_its_chat_page_in_the_browser(page, jupyterlab):
    state = run_all(page, jupyterlab, "09-websockets.ipynb")
    assert_clean(state, "09-websockets.ipynb")
    check_chat_page_in_the_notebook(page, "http://127.0.0.1:")


def test_chat_page_through_jupyter_server_proxy_as_on_a_hub(browser, tmp_path):
    """JupyterLab under a hub-like base URL; the kernel sees JUPYTERHUB_SERVICE_PREFIX as on
    a JupyterHub, so the lesson shows the page at /user/alice/proxy/<port>/."""
    hub_env = {"JUPYTERHUB_SERVICE_PREFIX": "/user/alice/"}
    with running_jupyterlab(tmp_path, base_url="/user/alice/", extra_env=hub_env) as hub:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        try:
            hub_page = context.new_page()
            state = run_all(hub_page, hub, "09-websockets.ipynb")
            assert_clean(state, "09-websockets.ipynb")
            check_chat_page_in_the_notebook(hub_page, "/user/alice/proxy/")
        finally:
            context.close()
