"""Lesson 09 in a real JupyterLab, in a real browser (Playwright driving Debian's Chromium).

Each browser test opens a lesson, runs all its cells, waits for the kernel to go idle and
fails on any error or stderr output that the lesson did not announce (cells tagged
`raises-exception`). Without Chromium these tests are skipped with a message saying how to
get it; in CI (CI=true) a skip fails the run (see conftest.py). The chat page through
jupyter-server-proxy on a real JupyterHub is tested in test_hub.py.
"""

from __future__ import annotations

from browser import assert_clean, check_chat_page_in_the_notebook, needs_chromium, run_all

pytestmark = needs_chromium


def test_websocket_lesson_and_its_chat_page_in_the_browser(page, jupyterlab):
    state = run_all(page, jupyterlab, "09-websockets.ipynb")
    assert_clean(state, "09-websockets.ipynb")
    check_chat_page_in_the_notebook(page, "http://127.0.0.1:")
