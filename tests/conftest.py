"""Fixtures of the browser tests: one Chromium and one JupyterLab per test module (so that
modules run side by side on the suite's workers), a fresh page per test."""

from __future__ import annotations

import pytest
from browser import CHROMIUM, LAUNCH_ARGS
from jupyterlab_server import running_jupyterlab


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    with running_jupyterlab(tmp_path_factory.mktemp("jupyterlab")) as server:
        yield server
