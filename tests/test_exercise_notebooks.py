"""Each exercise notebook runs clean as a learner first opens it, and every check in it
says "not attempted" (the stubs raise NotImplementedError, which is not an error).

The notebooks run one after another in one kernel, their names cleared before each, so the
suite does not pay a kernel start (and a practice lab start) per notebook."""

from __future__ import annotations

from pathlib import Path

import pytest

from httplab.checks import MIME
from httplab.tools import execute

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))


@pytest.fixture(scope="module")
def executed():
    return execute.run_in_one_kernel(EXERCISES)


@pytest.mark.parametrize("path", EXERCISES, ids=[p.name for p in EXERCISES])
def test_exercise_notebook_runs_and_nothing_is_attempted(path, executed):
    notebook = executed[path]
    outcomes = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error", f"{path.name}: {output.get('ename')}"
            assert output.get("name") != "stderr", f"{path.name}: stderr {output.get('text')}"
            record = output.get("data", {}).get(MIME)
            if record:
                outcomes.append((record["exercise"], record["outcome"]))
    assert outcomes, f"{path.name} runs no check"
    assert all(outcome == "not attempted" for _, outcome in outcomes), outcomes
