"""Every exercise notebook has the same frame (CONTRIBUTING.md, "The frame of every exercise
notebook"): the intro says how hints work; each exercise is a heading, its task, given cells,
ONE stub cell, ONE check cell `qN.check(name)`, ONE hint pointer that counts the hints; no
cell prints a hint on Run All."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import nbformat
import pytest

from httplab.tools.course import tagged

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
HEADING = re.compile(r"^## Exercise (\d+): \S")
CHECK = re.compile(r"^q(\d+)\.check\((\w+)\)$")
INTRO = (
    "Each exercise ends with a check cell. Stuck? Run `qN.hint(1)` in a cell of your own; "
    "each exercise says how many hints it has."
)


def pointer(number: int, hints: int) -> str:
    count = "there is one hint" if hints == 1 else f"there are {hints} hints, each says more"
    return f"Stuck? Run `q{number}.hint(1)` in a cell of your own; {count}."


def flat(text: str) -> str:
    return " ".join(text.split())


def exercises_of(path: Path) -> dict[int, object]:
    module = importlib.import_module(f"httplab.exercises.lesson{path.name[:2]}")
    return {
        int(name[1:]): value
        for name, value in vars(module).items()
        if re.fullmatch(r"q\d+", name) and hasattr(value, "hints")
    }


def is_stub(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "code" and "### BEGIN SOLUTION" in cell.source


def sections(cells: list) -> dict[int, list]:
    """The cells of each exercise, from its heading to the next heading (or navigation)."""
    found: dict[int, list] = {}
    current = None
    for cell in cells:
        if tagged(cell, "navigation"):
            break
        match = HEADING.match(cell.source) if cell.cell_type == "markdown" else None
        if match:
            current = int(match[1])
            found[current] = []
        if current is not None and not tagged(cell, "solution-only"):
            found[current].append(cell)
    return found


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.name for p in SOLUTIONS])
def test_intro_says_how_hints_work(path):
    first = nbformat.read(path, as_version=4).cells[0]
    assert re.match(rf"# {path.name[:2]} · .+: exercises\n", first.source), first.source[:80]
    assert INTRO in flat(first.source), f"{path.name}: the intro must say: {INTRO}"
    assert "**Time:**" in first.source


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.name for p in SOLUTIONS])
def test_no_code_cell_prints_a_hint(path):
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code":
            assert ".hint(" not in cell.source, f"{path.name}: a cell calls hint(): {cell.source}"


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.name for p in SOLUTIONS])
def test_each_exercise_has_one_stub_one_check_one_hint_pointer(path):
    cells = nbformat.read(path, as_version=4).cells
    exercises = exercises_of(path)
    found = sections(cells)
    assert sorted(found) == sorted(exercises), f"{path.name}: headings {sorted(found)}"
    for number, section in found.items():
        where = f"{path.name}, exercise {number}"
        stubs = [i for i, cell in enumerate(section) if is_stub(cell)]
        checks = [i for i, cell in enumerate(section) if CHECK.match(cell.source.strip())]
        assert len(stubs) == 1, f"{where}: {len(stubs)} stub cells, want one"
        assert len(checks) == 1, f"{where}: {len(checks)} check cells, want one"
        stub, check = section[stubs[0]], section[checks[0]]
        tree = ast.parse(stub.source)
        kinds = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
        assert len(tree.body) == 1 and isinstance(tree.body[0], kinds), (
            f"{where}: the stub cell must hold only the answer; move the rest to a given cell"
        )
        exercise = exercises[number]
        q, name = CHECK.match(check.source.strip()).groups()
        assert int(q) == number and name == tree.body[0].name == exercise.answer, where
        assert stubs[0] < checks[0], f"{where}: the stub comes before the check"
        after = section[checks[0] + 1 :]
        assert after and after[0].cell_type == "markdown", f"{where}: no hint pointer"
        wanted = pointer(number, len(exercise.hints))
        assert flat(after[0].source) == wanted, f"{where}: the hint pointer must be: {wanted}"
