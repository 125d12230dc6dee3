"""The course in a real JupyterLab, in a real browser (Playwright driving Debian's Chromium).

Each test opens a lesson, runs all its cells, waits for the kernel to go idle and fails on
any error or stderr output that the lesson did not announce (cells tagged
`raises-exception`). Without Chromium these tests are skipped with a message saying how to
get it; in CI (CI=true) a skip fails the run (see conftest.py).
"""

from __future__ import annotations

import pytest
from browser import (  # noqa: F401 (LAUNCH_ARGS: other tests import it from here)
    CHROMIUM,
    LAUNCH_ARGS,
    assert_clean,
    check_chat_page_in_the_notebook,
    run_all,
    stderr_in_page,
)
from jupyterlab_server import running_jupyterlab

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed: `sudo apt-get install chromium` (Debian/Ubuntu) to run "
    "the browser tests",
)


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    with running_jupyterlab(tmp_path_factory.mktemp("jupyterlab")) as server:
        yield server


def test_lesson_00_runs_in_the_browser(page, jupyterlab):
    state = run_all(page, jupyterlab, "00-start-here.ipynb")
    assert_clean(state, "00-start-here.ipynb")
    assert stderr_in_page(page) == 0
    outputs = page.locator(".jp-OutputArea-output")
    assert outputs.filter(has_text="still the same lab: http://127.0.0.1:").count() == 1
    # the Mermaid diagram of the lab renders as a picture, not as code
    assert page.locator('.jp-RenderedMermaid img[src^="data:image/svg+xml"]').count() == 1


def test_async_lesson_runs_in_the_browser(page, jupyterlab):
    # top-level await, a kernel whose loop is already running, plots and a progress bar
    state = run_all(page, jupyterlab, "07-async-clients.ipynb", timeout_s=90)
    assert_clean(state, "07-async-clients.ipynb")
    assert page.locator('.jp-OutputArea-output img[src^="data:image/png"]').count() >= 2


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
