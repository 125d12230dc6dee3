"""Generate the learner's exercise notebooks from the solution notebooks.

In a solution notebook, the answer sits between `### BEGIN SOLUTION` and `### END SOLUTION`
(nbgrader's markers) inside a code cell; it becomes a stub that raises NotImplementedError,
which the checker reports as "not attempted yet". Markdown between `<!-- BEGIN SOLUTION -->`
and `<!-- END SOLUTION -->` and cells tagged `solution-only` are dropped. Outputs are cleared.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from .course import EXERCISES, dumps, lessons, read, tagged
from .navigation import companion_nav, with_nav

CODE_REGION = re.compile(
    r"^(?P<indent>[ \t]*)### BEGIN SOLUTION[^\n]*\n.*?^[ \t]*### END SOLUTION[^\n]*$", re.M | re.S
)
MARKDOWN_REGION = re.compile(r"<!-- BEGIN SOLUTION -->.*?<!-- END SOLUTION -->\n?", re.S)
STUB = "{indent}# YOUR CODE HERE\n{indent}raise NotImplementedError()"
KEPT_METADATA = ("kernelspec", "language_info")


def stub_source(source: str) -> str:
    """The code with every solution region replaced by a stub."""
    return CODE_REGION.sub(lambda m: STUB.format(indent=m["indent"]), source)


def student_version(solution: nbformat.NotebookNode, path: Path) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {
        key: solution.metadata[key] for key in KEPT_METADATA if key in solution.metadata
    }
    regions = 0
    for cell in solution.cells:
        if tagged(cell, "solution-only"):
            continue
        if cell.cell_type == "code":
            regions += len(CODE_REGION.findall(cell.source))
            new = nbformat.v4.new_code_cell(stub_source(cell.source))
        elif cell.cell_type == "markdown":
            text = MARKDOWN_REGION.sub("", cell.source)
            if not text.strip():  # the cell held only solution text
                continue
            new = nbformat.v4.new_markdown_cell(text)
        else:
            new = nbformat.v4.new_raw_cell(cell.source)
        tags = cell.get("metadata", {}).get("tags")
        if tags:
            new.metadata["tags"] = list(tags)
        new["id"] = cell["id"]
        notebook.cells.append(new)
    if "BEGIN SOLUTION" in dumps(notebook):
        raise ValueError(f"{path}: a solution marker is left after stubbing (check its spelling)")
    if regions == 0:
        raise ValueError(f"{path}: no '### BEGIN SOLUTION' region, so nothing for a learner to do")
    return notebook


def expected(root: Path) -> dict[Path, str]:
    """Every exercise notebook, as generated from its solution notebook."""
    course = lessons(root)
    files = {}
    for index, lesson in enumerate(course):
        if lesson.solution is None:
            continue
        notebook = student_version(read(lesson.solution), lesson.solution)
        notebook = with_nav(notebook, companion_nav(course, index, EXERCISES))
        files[lesson.exercise] = dumps(notebook)
    return files


def stale(root: Path) -> list[Path]:
    """Exercise notebooks that are missing, out of date, or have no solution any more."""
    wanted = expected(root)
    present = set((root / EXERCISES).glob("*.ipynb"))
    out_of_date = [
        p for p, text in wanted.items() if not p.exists() or p.read_text("utf-8") != text
    ]
    return sorted(out_of_date + [p for p in present if p not in wanted])


def write_all(root: Path, only: set[Path] | None = None) -> list[Path]:
    """Regenerate exercises/ (only those of the solutions in `only`, if given); return the
    files written or removed."""
    (root / EXERCISES).mkdir(exist_ok=True)
    wanted = expected(root)
    changed = stale(root)
    if only is not None:
        names = {path.name for path in only}
        changed = [path for path in changed if path.name in names]
    for path in changed:
        if path in wanted:
            path.write_text(wanted[path], encoding="utf-8")
        else:
            path.unlink()
    return changed
