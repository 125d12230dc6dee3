"""The course in a real JupyterLab, in a real browser (Playwright driving Debian's Chromium).

Each test opens a lesson, runs all its cells, waits for the kernel to go idle and fails on
any error or stderr output that the lesson did not announce (cells tagged
`raises-exception`). Without Chromium these tests are skipped with a message saying how to
get it; in CI (CI=true) a skip fails the run (see conftest.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from jupyterlab_server import running_jupyterlab

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ROOT = Path(__file__).resolve().parents[1]
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed: `sudo apt-get install chromium` (Debian/Ubuntu) to run "
    "the browser tests",
)

# What the notebook model looks like after Run All: per code cell, its execution count,
# tags, and the error or stderr outputs it produced.
CELLS_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = panel.content.model.cells;
  const found = [];
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') continue;
    const outputs = cell.outputs.toJSON();
    const bad = outputs.filter(o => o.output_type === 'error' ||
                                    (o.output_type === 'stream' && o.name === 'stderr'));
    found.push({index: i, count: cell.executionCount,
                tags: cell.getMetadata('tags') || [], bad: bad.length, outputs: outputs.length});
  }
  return {cells: found, kernel: panel.sessionContext.session?.kernel?.status ?? 'none'};
}"""


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    with running_jupyterlab(tmp_path_factory.mktemp("jupyterlab")) as server:
        yield server


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


def run_all(page, jupyterlab, notebook: str, timeout_s: float = 60) -> dict:
    """Open a lesson, clear its stored outputs, Run All, wait for every cell and an idle kernel."""
    page.goto(jupyterlab.lab_url(f"notebooks/{notebook}"), timeout=30_000)
    page.wait_for_function(
        "() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel"
        "?.status === 'idle'",
        timeout=30_000,
    )
    page.evaluate(
        "async () => {"
        " const commands = window.jupyterapp.commands;"
        " await commands.execute('notebook:clear-all-cell-outputs');"
        " await commands.execute('notebook:run-all-cells'); }"
    )
    page.wait_for_function(
        f"() => {{ const s = ({CELLS_JS})();"
        " return s.kernel === 'idle' && s.cells.every(c => c.count !== null); }",
        timeout=timeout_s * 1000,
        polling=200,
    )
    return page.evaluate(CELLS_JS)


def expected_errors(notebook: str) -> set[int]:
    cells = nbformat.read(ROOT / "notebooks" / notebook, as_version=4).cells
    return {i for i, c in enumerate(cells) if "raises-exception" in c.metadata.get("tags", [])}


def assert_clean(state: dict, notebook: str) -> None:
    allowed = expected_errors(notebook)
    bad = [c["index"] for c in state["cells"] if c["bad"] and c["index"] not in allowed]
    assert not bad, f"{notebook}: error or stderr output in cells {bad}"
    assert all(c["count"] is not None for c in state["cells"]), f"{notebook}: cells not run"


def stderr_in_page(page) -> int:
    return page.locator(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
    ).count()


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


# Run in the kernel of lesson 09 after Run All: a kernel client joins the chat that the page
# in the notebook's IFrame has joined, and says something.
KERNEL_SAYS = """
async with connect(f"{chat_page.ws_url}/ws?name=kernel") as kernel_client:
    await kernel_client.send(json.dumps({"type": "message", "text": "hello from the kernel"}))
    while json.loads(await kernel_client.recv()).get("type") != "message":
        pass
"""


def execute_in_kernel(page, code: str) -> None:
    page.evaluate(
        "async (code) => { const kernel ="
        " window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;"
        " const reply = await kernel.requestExecute({code}).done;"
        " if (reply.content.status !== 'ok') throw new Error(JSON.stringify(reply.content)); }",
        code,
    )


def check_chat_page_in_the_notebook(page, expected_src_start: str) -> None:
    """The chat page shown in lesson 09's IFrame joined the chat; a broadcast from a kernel
    client reaches it, and what the page says comes back to it through the server."""
    iframe = page.locator('iframe[src*="?name=screen"]')
    assert iframe.get_attribute("src").startswith(expected_src_start)
    chat = page.frame_locator('iframe[src*="?name=screen"]')
    chat.locator("#status").filter(has_text="Connected as screen.").wait_for(timeout=15_000)
    execute_in_kernel(page, KERNEL_SAYS)
    chat.locator("#log").filter(has_text="hello from the kernel").wait_for(timeout=10_000)
    chat.locator("#text").fill("hello from the browser")
    chat.locator("#text").press("Enter")
    chat.locator("#log").filter(has_text="hello from the browser").wait_for(timeout=10_000)


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
