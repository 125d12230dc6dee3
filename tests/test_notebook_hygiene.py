"""Stored notebooks read like lessons: structure, clean outputs, nothing that nbval would
silently skip, no call to an outside host."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from httplab.tools.course import TIME, TITLE, tagged

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
STORED = LESSONS + SOLUTIONS
# loopback, and names reserved never to resolve (RFC 2606, RFC 6761): .test .example .invalid
OUTSIDE_HOST = re.compile(
    r"https?://(?!127\.0\.0\.1|localhost|\[::1\])"
    r"(?![\w.-]+\.(?:test|example|invalid|localhost)(?![\w.-]))[\w.-]+\.\w+"
)


def ids(paths):
    return [f"{p.parent.name}/{p.name}" for p in paths]


@pytest.mark.parametrize("path", STORED, ids=ids(STORED))
def test_stored_outputs_are_complete_and_clean(path):
    for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type != "code":
            continue
        where = f"{path.name} cell {index}"
        assert cell.execution_count is not None, f"{where}: not executed (nbval would skip it)"
        for output in cell.outputs:
            if output.output_type == "error":
                assert tagged(cell, "raises-exception"), f"{where}: unexpected {output.ename}"
            if output.output_type == "stream":
                assert output.name == "stdout", f"{where}: stderr output: {output.text[:200]}"
            text = str(output.get("text", "")) + str(output.get("data", {}).get("text/plain", ""))
            assert "Warning" not in text, f"{where}: a warning in the output"


@pytest.mark.parametrize("path", LESSONS, ids=ids(LESSONS))
def test_lesson_structure(path):
    cells = nbformat.read(path, as_version=4).cells
    first = cells[0].source
    assert TITLE.search(first) and TIME.search(first), f"{path.name}: title and **Time:** line"
    assert "**Objectives.**" in first, f"{path.name}: objectives at the top"
    assert any(c.source.startswith("## Key points") for c in cells), f"{path.name}: key points"
    assert tagged(cells[-1], "navigation"), f"{path.name}: navigation cell last"


@pytest.mark.parametrize("path", STORED, ids=ids(STORED))
def test_code_never_calls_an_outside_host(path):
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code":
            assert not OUTSIDE_HOST.search(cell.source), f"{path.name}: {cell.source[:120]}"


NBVAL_MARKER = re.compile(r"^\s*#\s*(NBVAL_\w+)(.*)$", re.M)
KNOWN_MARKERS = {
    "NBVAL_IGNORE_OUTPUT",
    "NBVAL_CHECK_OUTPUT",
    "NBVAL_RAISES_EXCEPTION",
    "NBVAL_SKIP",
}


@pytest.mark.parametrize("path", STORED, ids=ids(STORED))
def test_nbval_markers_are_ones_nbval_reads(path):
    """nbval matches a marker comment exactly: `# NBVAL_IGNORE_OUTPUT (why)` is silently
    ignored, and the cell's output is then compared after all."""
    for cell in nbformat.read(path, as_version=4).cells:
        for name, rest in NBVAL_MARKER.findall(cell.source if cell.cell_type == "code" else ""):
            assert name in KNOWN_MARKERS and not rest.strip(), (
                f"{path.name}: `# {name}{rest}`: put the marker alone on its line"
            )
