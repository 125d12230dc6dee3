"""Each exercise notebook runs clean as a learner first opens it, and every check in it
says "not attempted" (the stubs raise NotImplementedError, which is not an error)."""

from __future__ import annotations

from pathlib import Path

import pytest

from httplab.checks import MIME
from httplab.tools import execute

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))


@pytest.mark.parametrize("path", EXERCISES, ids=[p.name for p in EXERCISES])
def test_exercise_notebook_runs_and_nothing_is_attempted(path):
    notebook, _ = execute.run(path)
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
