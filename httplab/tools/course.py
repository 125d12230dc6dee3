"""Where the course's notebooks are, and what their title cells say."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

LESSONS, SOLUTIONS, EXERCISES = "notebooks", "solutions", "exercises"
TITLE = re.compile(r"^#\s+(?P<number>\d\d)\s*·\s*(?P<title>.+?)\s*$", re.M)
TIME = re.compile(r"\*\*Time:\*\*\s*(?P<time>.+?)\s*$", re.M)


def find_root(start: Path | None = None) -> Path:
    """The course folder: the nearest folder above `start` (or cwd) holding notebooks/."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / LESSONS).is_dir() and (folder / "httplab").is_dir():
            return folder
    return Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Lesson:
    """One lesson notebook and, if it has exercises, its solution notebook."""

    number: str
    title: str
    time: str
    path: Path
    solution: Path | None

    @property
    def exercise(self) -> Path | None:
        if self.solution is None:
            return None
        return self.solution.parent.parent / EXERCISES / self.solution.name


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def write(notebook: nbformat.NotebookNode, path: Path) -> None:
    path.write_text(dumps(notebook), encoding="utf-8")


def dumps(notebook: nbformat.NotebookNode) -> str:
    return nbformat.writes(notebook) + "\n"


def title_of(notebook: nbformat.NotebookNode, path: Path) -> tuple[str, str, str]:
    """(number, title, time) from the first cell, which must be '# NN · Title'."""
    first = notebook.cells[0].source if notebook.cells else ""
    heading, time = TITLE.search(first), TIME.search(first)
    if heading is None:
        raise ValueError(f"{path}: the first cell must start with a heading '# NN · Title'")
    return heading["number"], heading["title"], time["time"] if time else ""


def lessons(root: Path) -> list[Lesson]:
    """Every lesson in order, with its solution notebook when there is one."""
    found = []
    for path in sorted((root / LESSONS).glob("[0-9][0-9]-*.ipynb")):
        number, title, time = title_of(read(path), path)
        solution = root / SOLUTIONS / path.name
        found.append(Lesson(number, title, time, path, solution if solution.exists() else None))
    return found


def tagged(cell: nbformat.NotebookNode, tag: str) -> bool:
    return tag in cell.get("metadata", {}).get("tags", [])
