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
