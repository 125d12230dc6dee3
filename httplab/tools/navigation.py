"""Write the navigation cell of every notebook and the course's table of contents.

The navigation cell is the last cell of each lesson and solution notebook, tagged
`navigation`; the contents table lives in lesson 00 (a cell tagged `contents`) and in the
README between `<!-- syllabus:start -->` and `<!-- syllabus:end -->`. All of it is written
from the lessons' title cells, never by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from .course import EXERCISES, LESSONS, SOLUTIONS, Lesson, dumps, lessons, read, tagged

NAV_TAG, CONTENTS_TAG = "navigation", "contents"
README_BLOCK = re.compile(r"(<!-- syllabus:start -->\n).*?(<!-- syllabus:end -->)", re.S)
CONTENTS = "../README.md#syllabus"


def _link(text: str, target: Path, here: str) -> str:
    """A Markdown link to `target` from the folder `here` ("" for the course root)."""
    folder = target.parent.name
    if folder == here:
        return f"[{text}]({target.name})"
    return f"[{text}]({'' if here == '' else '../'}{folder}/{target.name})"


def _label(lesson: Lesson) -> str:
    return f"{lesson.number} · {lesson.title}"


def lesson_nav(course: list[Lesson], index: int) -> str:
    lesson, parts = course[index], []
    if index > 0:
        parts.append(_link(f"← {_label(course[index - 1])}", course[index - 1].path, LESSONS))
    parts.append(f"[Contents]({CONTENTS})")
    if lesson.exercise is not None:
        parts.append(_link("Exercises", lesson.exercise, LESSONS))
    if index + 1 < len(course):
        parts.append(_link(f"{_label(course[index + 1])} →", course[index + 1].path, LESSONS))
    return " | ".join(parts)


def companion_nav(course: list[Lesson], index: int, here: str) -> str:
    """Navigation of an exercise or solution notebook."""
    lesson = course[index]
    parts = [_link(f"← Lesson {_label(lesson)}", lesson.path, here), f"[Contents]({CONTENTS})"]
    if here == EXERCISES:
        parts.append(_link("Worked solutions", lesson.solution, here))
    else:
        parts.append(_link("Exercises (without answers)", lesson.exercise, here))
    if index + 1 < len(course):
        nxt = course[index + 1]
        parts.append(_link(f"Next lesson: {_label(nxt)} →", nxt.path, here))
    return " | ".join(parts)


def contents_table(course: list[Lesson], here: str) -> str:
    rows = [
        "| # | Lesson | Time (teaching · exercises) | Exercises | Solutions |",
        "|---|---|---|---|---|",
    ]
    for lesson in course:
        exercise = _link("exercises", lesson.exercise, here) if lesson.exercise else "—"
        solution = _link("solutions", lesson.solution, here) if lesson.solution else "—"
        title = _link(lesson.title, lesson.path, here)
        rows.append(f"| {lesson.number} | {title} | {lesson.time} | {exercise} | {solution} |")
    return "\n".join(rows)


def with_nav(notebook: nbformat.NotebookNode, text: str) -> nbformat.NotebookNode:
    """The notebook with its navigation cell (last, tagged) set to `text`."""
    cells = [cell for cell in notebook.cells if not tagged(cell, NAV_TAG)]
    nav = nbformat.v4.new_markdown_cell("---\n" + text, metadata={"tags": [NAV_TAG]})
    nav["id"] = "navigation"
    notebook.cells = [*cells, nav]
    return notebook


def with_contents(notebook: nbformat.NotebookNode, table: str) -> nbformat.NotebookNode:
    for cell in notebook.cells:
        if tagged(cell, CONTENTS_TAG):
            cell.source = "## Course map\n\n" + table
    return notebook


def readme_with_syllabus(readme: str, table: str) -> str:
    if not README_BLOCK.search(readme):
        raise ValueError("README.md has no <!-- syllabus:start --> ... <!-- syllabus:end --> block")
    return README_BLOCK.sub(lambda m: m[1] + table + "\n" + m[2], readme)


def expected(root: Path) -> dict[Path, str]:
    """Every file the navigation step writes, with the text it should hold."""
    course = lessons(root)
    files: dict[Path, str] = {}
    for index, lesson in enumerate(course):
        notebook = with_nav(read(lesson.path), lesson_nav(course, index))
        if lesson.number == "00":
            with_contents(notebook, contents_table(course, LESSONS))
        files[lesson.path] = dumps(notebook)
        if lesson.solution is not None:
            solution = with_nav(read(lesson.solution), companion_nav(course, index, SOLUTIONS))
            files[lesson.solution] = dumps(solution)
    readme = root / "README.md"
    files[readme] = readme_with_syllabus(
        readme.read_text(encoding="utf-8"), contents_table(course, "")
    )
    return files


def write_all(root: Path, only: set[Path] | None = None) -> list[Path]:
    """Write the navigation cells and contents tables (of `only` and the README, if given);
    return the files that changed."""
    changed = []
    for path, text in expected(root).items():
        if only is not None and path not in only and path.name != "README.md":
            continue
        if path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed
