"""Lesson 09 and its chat page in a real JupyterLab, in Chromium: Run All, then no
error and no stderr that the lesson did not announce (tests/browser.py says how).
The chat page through jupyter-server-proxy on a real JupyterHub is tested in test_hub.py."""

from __future__ import annotations

from browser import assert_clean, check_chat_page_in_the_notebook, needs_chromium, run_all

pytestmark = needs_chromium


def test_websocket_lesson_and_its_chat_page_in_the_browser(page, jupyterlab):
    state = run_all(page, jupyterlab, "09-websockets.ipynb")
    assert_clean(state, "09-websockets.ipynb")
    check_chat_page_in_the_notebook(page, "http://127.0.0.1:")
