"""`httplab grade` over a small class: a solved notebook, a stub, a wrong answer, and every
kind of bad input (not a notebook, another course's notebook, a hanging cell, deleted check
cells, an edited given cell), each on its own row; learners' files untouched; no report
overwritten."""

from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path

import nbformat
import pytest

from httplab.tools import cli

ROOT = Path(__file__).resolve().parents[1]
LESSON = "00-start-here.ipynb"
WRONG = "    return 200, 'text/html'"


def exercise_notebook() -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "exercises" / LESSON, as_version=4)


def answered(body: str) -> nbformat.NotebookNode:
    """The exercise notebook with the stub's body replaced by `body`."""
    notebook = exercise_notebook()
    for cell in notebook.cells:
        if "raise NotImplementedError()" in cell.source:
            head = cell.source.split("# YOUR CODE HERE")[0]
            cell.source = head + body.strip("\n").lstrip() + "\n"
    return notebook


def write(path: Path, notebook: nbformat.NotebookNode) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    class_dir = tmp_path_factory.mktemp("class")
    solution = nbformat.read(ROOT / "solutions" / LESSON, as_version=4)
    write(class_dir / "ann" / LESSON, solution)
    write(class_dir / "ben" / LESSON, exercise_notebook())
    write(class_dir / "cat" / LESSON, answered(WRONG))
    (class_dir / "dan").mkdir()
    (class_dir / "dan" / LESSON).write_text("{ this is not json", encoding="utf-8")
    shutil.copy(ROOT / "notebooks" / LESSON, class_dir / "eve.ipynb")  # a lesson, no exercises
    hanging = answered("    import time\n    time.sleep(60)")
    hanging.cells.insert(3, nbformat.v4.new_code_cell("import time\ntime.sleep(60)"))
    write(class_dir / "fay" / LESSON, hanging)
    no_checks = exercise_notebook()
    no_checks.cells = [c for c in no_checks.cells if ".check(" not in c.source]
    write(class_dir / "gus" / LESSON, no_checks)
    edited = exercise_notebook()
    setup = next(c for c in edited.cells if "httplab.start()" in c.source)
    setup.source += "\nlab = None  # my change"
    write(class_dir / "hal" / LESSON, edited)
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in class_dir.rglob("*.ipynb")}
    earlier = tmp_path_factory.mktemp("reports") / "grades"
    earlier.mkdir()
    (earlier / "grades.csv").write_text("an earlier report")
    argv = ["grade", str(class_dir), "--out", str(earlier), "--timeout", "4", "--jobs", "4"]
    assert cli.main(argv) == 0
    out = earlier.with_name("grades-2")
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in class_dir.rglob("*.ipynb")}
    with (out / "grades.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {"rows": rows, "out": out, "earlier": earlier, "untouched": before == after}


def outcomes(graded, learner, checks_only=False):
    return [
        (row["exercise"], row["outcome"], row["message"])
        for row in graded["rows"]
        if row["learner"] == learner and (row["exercise"] or not checks_only)
    ]


def test_solution_correct_stub_not_attempted_wrong_incorrect(graded):
    assert outcomes(graded, "ann", checks_only=True)[0][:2] == ("00.1", "correct")
    assert outcomes(graded, "ben") == [("00.1", "not attempted", outcomes(graded, "ben")[0][2])]
    [(exercise, outcome, message)] = outcomes(graded, "cat")
    assert (exercise, outcome) == ("00.1", "incorrect") and "text/html" in message


def test_bad_input_is_reported_on_its_own_row(graded):
    assert outcomes(graded, "dan") == [("", "problem", "not a notebook (NotJSONError)")]
    [(_, kind, message)] = outcomes(graded, "eve")
    assert kind == "problem" and "not an exercise notebook of this course" in message
    fay = outcomes(graded, "fay")
    assert ("", "problem", "a cell ran longer than 4 s and was stopped") in fay
    assert ("00.1", "missing") in [row[:2] for row in fay]
    gus = outcomes(graded, "gus")
    assert any("`q1.check(status_and_type)` was deleted" in row[2] for row in gus)
    assert ("00.1", "missing") in [row[:2] for row in gus]
    hal = outcomes(graded, "hal")
    assert any("was edited" in row[2] and row[1] == "problem" for row in hal)


def test_nothing_lost_or_overwritten(graded):
    assert graded["untouched"], "grading changed a learner's file"
    assert (graded["earlier"] / "grades.csv").read_text() == "an earlier report"
    summary = (graded["out"] / "summary.md").read_text()
    assert "| 00.1 | 6 | 17% | 17% | 33% | 33% |" in summary, summary
    assert "<table>" in (graded["out"] / "summary.html").read_text()
