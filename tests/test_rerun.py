"""Run All, then Run All again in the same kernel: no error, no "address already in use"."""

from __future__ import annotations

from pathlib import Path

import pytest

from httplab.tools import execute

ROOT = Path(__file__).resolve().parents[1]
TWICE = ["notebooks/00-start-here.ipynb"]


@pytest.mark.parametrize("name", TWICE)
def test_run_all_twice_in_one_kernel(name):
    # execute.run raises CellExecutionError if any cell fails on either pass
    notebook, seconds = execute.run(ROOT / name, passes=2)
    assert len(seconds) == 2
    second_pass = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    assert second_pass, "the second pass produced no output"
    assert not [o for o in second_pass if o.get("name") == "stderr"], "stderr on the second pass"
