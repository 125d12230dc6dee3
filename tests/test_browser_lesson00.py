"""Lesson 00 in a real JupyterLab, in Chromium: Run All, then no error and no stderr
that the lesson did not announce (tests/browser.py says how)."""

from __future__ import annotations

from browser import assert_clean, needs_chromium, run_all, stderr_in_page

pytestmark = needs_chromium


def test_lesson_00_runs_in_the_browser(page, jupyterlab):
    state = run_all(page, jupyterlab, "00-start-here.ipynb")
    assert_clean(state, "00-start-here.ipynb")
    assert stderr_in_page(page) == 0
    outputs = page.locator(".jp-OutputArea-output")
    assert outputs.filter(has_text="still the same lab: http://127.0.0.1:").count() == 1
    # the Mermaid diagram of the lab renders as a picture, not as code
    assert page.locator('.jp-RenderedMermaid img[src^="data:image/svg+xml"]').count() == 1
