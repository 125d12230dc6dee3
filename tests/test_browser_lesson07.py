"""Lesson 07 (top-level await, plots) in a real JupyterLab, in Chromium: Run All, then no
error and no stderr that the lesson did not announce (tests/browser.py says how)."""

from __future__ import annotations

from browser import assert_clean, needs_chromium, run_all

pytestmark = needs_chromium


def test_async_lesson_runs_in_the_browser(page, jupyterlab):
    # top-level await, a kernel whose loop is already running, plots and a progress bar
    state = run_all(page, jupyterlab, "07-async-clients.ipynb", timeout_s=180)
    assert_clean(state, "07-async-clients.ipynb")
    assert page.locator('.jp-OutputArea-output img[src^="data:image/png"]').count() >= 2
