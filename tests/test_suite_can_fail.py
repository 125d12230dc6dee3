"""The notebook suite can fail where nbval alone would stay green: a skipped cell, and the
xfail that nbval gives every cell after a cell timeout, turn the run red (conftest.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def run_pytest(path: Path, *options: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pytest", "-o", "addopts=", "-p", "no:cacheprovider", "-q"]
    command += [*options, "--nbval-current-env", "--nbval-cell-timeout", "2", str(path)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


def notebook_of(path: Path, *sources: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(source, execution_count=n) for n, source in enumerate(sources)
    ]
    nbformat.write(notebook, path)
    return path


def test_a_skipped_cell_fails_the_run(tmp_path):
    path = notebook_of(tmp_path / "skips.ipynb", "# NBVAL_SKIP\nprint('never run')", "x = 1")
    assert run_pytest(path, "--nbval").returncode == 0  # nbval alone: green
    result = run_pytest(path, "--nbval", "-p", "conftest")
    assert result.returncode == 1, result.stdout[-2000:]
    assert "skips.ipynb::Cell 0: skipped" in result.stdout


def test_cells_after_a_timeout_are_reported(tmp_path):
    path = notebook_of(tmp_path / "hangs.ipynb", "import time\ntime.sleep(30)", "print('after')")
    result = run_pytest(path, "--nbval-lax", "-p", "conftest")
    assert result.returncode == 1, result.stdout[-2000:]
    assert "hangs.ipynb::Cell 1: xpassed" in result.stdout, result.stdout[-2000:]
