"""`httplab grade`: run a class's exercise notebooks and report every check's outcome.

Each notebook runs in a kernel of its own, in a temporary folder, with a time limit per cell;
several run at once. A learner is a folder (`class/alice/07-async-clients.ipynb`) or a file
named after them (`lesson07/alice.ipynb`). The checks print a machine-readable record
(`httplab.checks.MIME`) beside every ✅ ❌ ✏️, which is what is read here: the learners'
files are never modified, and the report goes to a new folder.

A file that is not a notebook, a notebook of another course, a cell that hangs, a deleted
check cell or an edited given cell: each is reported on its own row, and the run goes on.
"""

from __future__ import annotations

import asyncio
import csv
import os
import re
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import mistune
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from ..checks import MIME
from ..exercises import all_exercises
from ..servers import quiet_logger
from .course import EXERCISES, read

LESSON_IMPORT = re.compile(r"from httplab\.exercises\.lesson(\d\d) import")
NOTEBOOK_NAME = re.compile(r"^\d\d-[\w-]+$")
QUIET = quiet_logger("httplab.grade")  # a stopped cell is a row, not a log line
FIELDS = ["learner", "notebook", "lesson", "exercise", "outcome", "message"]


@dataclass
class Graded:
    """What one learner's notebook gave: an outcome per exercise, and problems found."""

    learner: str
    notebook: Path
    lesson: str = ""
    outcomes: dict[str, tuple[str, str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


def learner_of(path: Path) -> str:
    """`alice/07-async-clients.ipynb` is alice's; `lesson07/alice.ipynb` too."""
    return path.parent.name if NOTEBOOK_NAME.match(path.stem) else path.stem


def find_notebooks(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        else:
            found.append(path)
    return found


def lesson_of(notebook: nbformat.NotebookNode) -> str:
    for cell in notebook.cells:
        if cell.cell_type == "code":
            match = LESSON_IMPORT.search(cell.source)
            if match:
                return match[1]
    return ""


def given_cells(root: Path, lesson: str) -> dict[str, str]:
    """{cell id: source} of the cells a learner should not change (all but the stubs)."""
    matches = sorted((root / EXERCISES).glob(f"{lesson}-*.ipynb"))
    if not matches:
        return {}
    given = {}
    for cell in read(matches[0]).cells:
        if cell.cell_type == "code" and "raise NotImplementedError()" not in cell.source:
            given[cell.get("id", "")] = cell.source
    return given


def integrity_problems(notebook: nbformat.NotebookNode, given: dict[str, str]) -> list[str]:
    """Given cells that were deleted or edited (told apart by their cell ids)."""
    sources = {cell.get("id", ""): cell.source for cell in notebook.cells}
    problems = []
    for cell_id, source in given.items():
        shown = source.strip().splitlines()[0] if source.strip() else "(empty)"
        if cell_id not in sources:
            problems.append(f"the given cell `{shown}` was deleted")
        elif sources[cell_id].strip() != source.strip():
            problems.append(f"the given cell `{shown}` was edited")
    return problems


def records(notebook: nbformat.NotebookNode) -> dict[str, tuple[str, str]]:
    """{exercise: (outcome, message)} from the check records in the outputs; the last wins."""
    found = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            record = output.get("data", {}).get(MIME)
            if record:
                found[record["exercise"]] = (record["outcome"], record["message"])
    return found


def grade_one(path: Path, root: Path, cell_timeout: float) -> Graded:
    """Run one learner's notebook and read its checks' outcomes."""
    graded = Graded(learner_of(path), path)
    started = time.perf_counter()
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as exc:  # any unreadable file is reported on its row
        graded.problems.append(f"not a notebook ({type(exc).__name__})")
        return graded
    graded.lesson = lesson_of(notebook)
    if not graded.lesson:
        graded.problems.append("not an exercise notebook of this course (no httplab.exercises)")
        return graded
    graded.problems += integrity_problems(notebook, given_cells(root, graded.lesson))
    with tempfile.TemporaryDirectory(prefix="httplab-grade-") as folder:
        client = NotebookClient(
            notebook,
            timeout=cell_timeout,
            kernel_name="python3",
            allow_errors=True,
            record_timing=False,
            resources={"metadata": {"path": folder}},
            log=QUIET,
        )
        try:
            env = {**os.environ, "HTTPLAB_PROGRESS": "off"}  # not the teacher's own progress
            # a loop of this thread's own, closed at the end (several notebooks run at once)
            asyncio.run(client.async_execute(env=env, stderr=subprocess.DEVNULL))
        except CellTimeoutError:
            graded.problems.append(f"a cell ran longer than {cell_timeout:g} s and was stopped")
        except DeadKernelError:
            graded.problems.append("the kernel died")
    graded.outcomes = records(notebook)
    graded.seconds = time.perf_counter() - started
    return graded


def rows(graded: Graded, expected: dict[str, list[str]]) -> list[dict[str, str]]:
    """The CSV rows of one notebook: one per exercise of its lesson, one per problem."""
    base = {"learner": graded.learner, "notebook": str(graded.notebook), "lesson": graded.lesson}
    found = [{**base, "exercise": "", "outcome": "problem", "message": p} for p in graded.problems]
    for key in expected.get(graded.lesson, []):
        outcome, message = graded.outcomes.get(
            key, ("missing", "no check ran: its check cell was deleted or never reached")
        )
        found.append({**base, "exercise": key, "outcome": outcome, "message": message})
    return found


def summary(table: list[dict[str, str]], seconds: float, notebooks: int) -> str:
    """Per-exercise figures in Markdown: shares of each outcome, most common mistakes."""
    by_exercise: dict[str, Counter] = {}
    mistakes: dict[str, Counter] = {}
    for row in table:
        if row["exercise"]:
            by_exercise.setdefault(row["exercise"], Counter())[row["outcome"]] += 1
            if row["outcome"] == "incorrect":
                mistakes.setdefault(row["exercise"], Counter())[row["message"]] += 1
    learners = len({row["learner"] for row in table})
    lines = [
        "# Grades",
        "",
        f"{notebooks} notebooks of {learners} learners, graded in {seconds:.1f} s.",
        "",
        "| exercise | notebooks | correct | incorrect | not attempted | missing |",
        "|---|---|---|---|---|---|",
    ]
    for key in sorted(by_exercise):
        counts = by_exercise[key]
        total = sum(counts.values())
        shares = [
            f"{counts[o] / total:.0%}" for o in ("correct", "incorrect", "not attempted", "missing")
        ]
        lines.append(f"| {key} | {total} | " + " | ".join(shares) + " |")
    lines += ["", "## Most common mistakes", ""]
    for key in sorted(mistakes):
        for message, count in mistakes[key].most_common(3):
            lines.append(f"- **{key}** ({count}×): {message}")
    if not mistakes:
        lines.append("None: no check said incorrect.")
    problems = [row for row in table if row["outcome"] == "problem"]
    if problems:
        lines += ["", "## Notebooks with problems", ""]
        lines += [f"- {row['learner']}, `{row['notebook']}`: {row['message']}" for row in problems]
    return "\n".join(lines) + "\n"


def as_html(markdown_text: str) -> str:
    """The summary as an HTML page (mistune, which JupyterLab's nbconvert already uses)."""
    body = mistune.create_markdown(plugins=["table"])(markdown_text)
    return f"<!doctype html><meta charset='utf-8'><title>Grades</title>\n{body}"


def new_folder(wanted: Path) -> Path:
    """`wanted`, or `wanted-2`, `wanted-3`...: an earlier report is never overwritten."""
    candidate, n = wanted, 1
    while candidate.exists() and any(candidate.iterdir()):
        n += 1
        candidate = wanted.with_name(f"{wanted.name}-{n}")
    candidate.mkdir(parents=True, exist_ok=True)
    return candidate


def grade(
    paths: list[Path], root: Path, out: Path, cell_timeout: float = 60, jobs: int = 4
) -> tuple[Path, list[dict[str, str]], float]:
    """Grade every notebook under `paths`; write grades.csv and summary.md/.html to a new
    folder; return that folder, the rows and the seconds it took."""
    started = time.perf_counter()
    notebooks = find_notebooks(paths)
    expected: dict[str, list[str]] = {}
    for exercise in all_exercises():
        expected.setdefault(exercise.key[:2], []).append(exercise.key)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(lambda p: grade_one(p, root, cell_timeout), notebooks))
    table = [row for graded in results for row in rows(graded, expected)]
    seconds = time.perf_counter() - started
    folder = new_folder(out)
    with (folder / "grades.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(table)
    text = summary(table, seconds, len(notebooks))
    (folder / "summary.md").write_text(text, encoding="utf-8")
    (folder / "summary.html").write_text(as_html(text), encoding="utf-8")
    return folder, table, seconds
