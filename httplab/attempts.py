"""A self-paced learner's progress: every check's outcome, kept on the learner's machine.

    httplab.progress()          # a table of every exercise: ✅ ❌ ✏️ and the last attempt
    httplab.reset_progress()    # forget every attempt

The attempts live in a small SQLite file in the user's Jupyter data directory
(`jupyter --data-dir`, then `httplab/progress.sqlite`), never in the course folder and never
sent anywhere. `HTTPLAB_PROGRESS_FILE` names another file; `HTTPLAB_PROGRESS=off` turns the
recording off (the course's own tools do that when they run the solutions). SQLite takes a
lock for each write, so two kernels checking at the same moment both keep their attempts.
"""

from __future__ import annotations

import html
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .checks import Result

SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    exercise TEXT NOT NULL,
    outcome TEXT NOT NULL,
    message TEXT NOT NULL,
    at TEXT NOT NULL
)
"""
ICONS = {"correct": "✅", "incorrect": "❌", "not attempted": "✏️"}


def progress_file() -> Path:
    """Where the attempts are kept."""
    chosen = os.environ.get("HTTPLAB_PROGRESS_FILE")
    if chosen:
        return Path(chosen)
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "httplab" / "progress.sqlite"


def enabled() -> bool:
    return os.environ.get("HTTPLAB_PROGRESS", "on").lower() not in {"off", "0", "no"}


@contextmanager
def _database() -> Iterator[sqlite3.Connection]:
    path = progress_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, timeout=30)) as connection:
        with connection:  # one transaction: committed on success, rolled back on error
            connection.execute(SCHEMA)
            yield connection


def record(result: Result) -> None:
    """Keep one check's outcome (called by every `qN.check(...)`); an unwritable file
    loses the record, never the check."""
    if not enabled():
        return
    now = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        with _database() as db:
            db.execute(
                "INSERT INTO attempts VALUES (?, ?, ?, ?)",
                (result.exercise, result.outcome.value, result.message, now),
            )
    except (OSError, sqlite3.Error):  # progress is a convenience: never fail a check on it
        pass


@dataclass(frozen=True)
class Row:
    """Where a learner stands on one exercise."""

    exercise: str
    title: str
    status: str  # correct (once solved, stays solved), incorrect, or not attempted
    attempts: int
    last: str  # the time of the last attempt, "" if none


class Progress(list[Row]):
    """Every exercise of the course with its status; shown as a table in JupyterLab."""

    def summary(self) -> str:
        solved = sum(row.status == "correct" for row in self)
        return f"{solved} of {len(self)} exercises solved"

    def __str__(self) -> str:
        lines = [self.summary()]
        for row in self:
            last = f"last attempt {row.last}" if row.last else ""
            lines.append(f"{ICONS[row.status]} {row.exercise:<6} {row.title:<55} {last}".rstrip())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{ICONS[r.status]}</td><td>{r.exercise}</td><td>{html.escape(r.title)}</td>"
            f"<td>{r.attempts}</td><td>{r.last}</td></tr>"
            for r in self
        )
        return (
            f"<p><b>{self.summary()}</b></p><table><thead><tr><th></th><th>exercise</th>"
            f"<th>title</th><th>attempts</th><th>last attempt (UTC)</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )

    def __repr__(self) -> str:
        return str(self)


def progress() -> Progress:
    """Your progress through every exercise of the course."""
    attempts: dict[str, list[tuple[str, str]]] = {}
    if progress_file().exists():
        with _database() as db:
            query = "SELECT exercise, outcome, at FROM attempts ORDER BY at, rowid"
            for exercise, outcome, at in db.execute(query):
                attempts.setdefault(exercise, []).append((outcome, at))
    rows = Progress()
    from .exercises import all_exercises

    for exercise in all_exercises():
        tried = [(o, at) for o, at in attempts.get(exercise.key, []) if o != "not attempted"]
        if any(outcome == "correct" for outcome, _ in tried):
            status = "correct"
        elif tried:
            status = "incorrect"
        else:
            status = "not attempted"
        last = tried[-1][1].replace("T", " ").removesuffix("+00:00") if tried else ""
        rows.append(Row(exercise.key, exercise.title, status, len(tried), last))
    return rows


def reset_progress() -> int:
    """Forget every recorded attempt; return how many were forgotten."""
    if not progress_file().exists():
        return 0
    with _database() as db:
        return db.execute("DELETE FROM attempts").rowcount
