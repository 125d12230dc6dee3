"""Lesson 07 in a real JupyterLab, in a real browser (Playwright driving Debian's Chromium).

Each browser test opens a lesson, runs all its cells, waits for the kernel to go idle and
fails on any error or stderr output that the lesson did not announce (cells tagged
`raises-exception`). Without Chromium these tests are skipped with a message saying how to
get it; in CI (CI=true) a skip fails the run (see conftest.py).
"""

from __future__ import annotations

from browser import assert_clean, needs_chromium, run_all

pytestmark = needs_chromium


def test_async_lesson_runs_in_the_browser(page, jupyterlab):
    # top-level await, a kernel whose loop is already running, plots and a progress bar
    state = run_all(page, jupyterlab, "07-async-clients.ipynb", timeout_s=180)
    assert_clean(state, "07-async-clients.ipynb")
    assert page.locator('.jp-OutputArea-output img[src^="data:image/png"]').count() >= 2
