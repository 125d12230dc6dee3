"""What the browser tests share: Debian's Chromium driven by Playwright, Run All in a real
JupyterLab, and lesson 09's chat page checked from inside the notebook.

A lesson's test opens it, runs all its cells, waits for the kernel to go idle and fails on any
error or stderr output that the lesson did not announce (cells tagged `raises-exception`).
Without Chromium the tests are skipped with a message saying how to get it; in CI (CI=true) a
skip fails the run (see conftest.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ROOT = Path(__file__).resolve().parents[1]
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed: `sudo apt-get install chromium` (Debian/Ubuntu) to run "
    "the browser tests",
)
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

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
    const said = bad.map(o => o.output_type === 'error' ? `${o.ename}: ${o.evalue}` : o.text);
    found.push({index: i, count: cell.executionCount, said: said.join(' | ').slice(0, 300),
                tags: cell.getMetadata('tags') || [], bad: bad.length, outputs: outputs.length});
  }
  return {cells: found, kernel: panel.sessionContext.session?.kernel?.status ?? 'none'};
}"""


def run_all(page, jupyterlab, notebook: str, timeout_s: float = 120) -> dict:
    """Open a lesson, clear its stored outputs, Run All, wait for every cell and an idle kernel."""
    return run_all_at(page, jupyterlab.lab_url(f"notebooks/{notebook}"), timeout_s)


def run_all_at(page, url: str, timeout_s: float = 120) -> dict:
    """Open the notebook at `url` in JupyterLab, clear its outputs, Run All, wait for idle."""
    page.goto(url, timeout=30_000)
    start_run_all(page)
    return finish_run_all(page, timeout_s)


def start_run_all(page) -> None:
    """In the notebook open in `page`, clear the outputs and start Run All without waiting
    for it (so that several pages can run at once)."""
    page.wait_for_function(
        "() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel"
        "?.status === 'idle'",
        timeout=30_000,
    )
    page.evaluate(
        "async () => {"
        " const commands = window.jupyterapp.commands;"
        " await commands.execute('notebook:clear-all-cell-outputs');"
        " commands.execute('notebook:run-all-cells'); }"
    )


def finish_run_all(page, timeout_s: float = 120) -> dict:
    """Wait until the kernel is idle with every cell run, or with Run All stopped by a cell
    that raised unannounced (then assert_clean names it); the cells' state."""
    page.wait_for_function(
        f"() => {{ const s = ({CELLS_JS})();"
        " const stopped = s.cells.some(c => c.bad && !c.tags.includes('raises-exception'));"
        " return s.kernel === 'idle' && (stopped || s.cells.every(c => c.count !== null)); }",
        timeout=timeout_s * 1000,
        polling=200,
    )
    return page.evaluate(CELLS_JS)


def expected_errors(notebook: str) -> set[int]:
    cells = nbformat.read(ROOT / "notebooks" / notebook, as_version=4).cells
    return {i for i, c in enumerate(cells) if "raises-exception" in c.metadata.get("tags", [])}


def assert_clean(state: dict, notebook: str) -> None:
    allowed = expected_errors(notebook)
    bad = {c["index"]: c["said"] for c in state["cells"] if c["bad"] and c["index"] not in allowed}
    assert not bad, f"{notebook}: error or stderr output in cells {bad}"
    assert all(c["count"] is not None for c in state["cells"]), f"{notebook}: cells not run"


def stderr_in_page(page) -> int:
    return page.locator(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
    ).count()


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
