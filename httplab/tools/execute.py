"""Execute notebooks: refresh their stored outputs, or time them."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from .course import read, write

CELL_TIMEOUT = 120


def _client(notebook: nbformat.NotebookNode, path: Path) -> NotebookClient:
    return NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )


def run(path: Path, passes: int = 1) -> tuple[nbformat.NotebookNode, list[float]]:
    """Run every cell `passes` times in ONE kernel (like Run All, then Run All again).

    Returns the notebook with the outputs of the last pass and the seconds each pass took.
    A cell that raises stops the run (CellExecutionError), unless it is tagged
    `raises-exception`.
    """
    notebook = read(path)
    client = _client(notebook, path)
    seconds = []
    # the kernel process's own log (not cell output) stays out of the terminal
    with client.setup_kernel(stderr=subprocess.DEVNULL):
        # store the language_info a kernel writes, so JupyterLab opens the file unchanged
        reply = client.wait_for_reply(client.kc.kernel_info())
        notebook.metadata["language_info"] = reply["content"]["language_info"]
        for _ in range(passes):
            started = time.perf_counter()
            for index, cell in enumerate(notebook.cells):
                client.execute_cell(cell, index)
            seconds.append(time.perf_counter() - started)
    return notebook, seconds


def run_in_one_kernel(paths: list[Path]) -> dict[Path, nbformat.NotebookNode]:
    """Run each notebook top to bottom, one after another in ONE kernel, its names cleared
    (`%reset -f`) before each: what a learner sees on a first Run All, without a kernel start
    per notebook. Returns each notebook with its outputs (a cell that raises leaves an error
    output; the run goes on)."""
    notebooks = {path: read(path) for path in paths}
    combined = nbformat.v4.new_notebook()
    for notebook in notebooks.values():
        combined.cells.append(nbformat.v4.new_code_cell("%reset -f"))
        combined.cells += notebook.cells  # the same cell objects: outputs land in each notebook
    client = _client(combined, paths[0])
    client.allow_errors = True
    with client.setup_kernel(stderr=subprocess.DEVNULL):
        for index, cell in enumerate(combined.cells):
            client.execute_cell(cell, index)
    return notebooks


def refresh(path: Path) -> float:
    """Re-execute a notebook and store its outputs in place; return the seconds it took."""
    notebook, seconds = run(path)
    write(notebook, path)
    return seconds[0]
