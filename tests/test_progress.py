"""A learner's progress: every check records its outcome in a file of the learner's own, the
table shows each exercise's status, two kernels at once lose nothing, and it can be reset."""

from __future__ import annotations

import subprocess
import sys

import pytest

import httplab
from httplab import attempts
from httplab.checks import Exercise, Incorrect, Outcome, Result, call


@pytest.fixture
def progress_file(tmp_path, monkeypatch):
    path = tmp_path / "data" / "progress.sqlite"
    monkeypatch.setenv("HTTPLAB_PROGRESS_FILE", str(path))
    monkeypatch.delenv("HTTPLAB_PROGRESS", raising=False)
    return path


def status(key: str) -> str:
    return next(row.status for row in httplab.progress() if row.exercise == key)


def test_every_exercise_is_listed_and_nothing_is_attempted_at_first(progress_file):
    rows = httplab.progress()
    assert [row.exercise for row in rows][:2] == ["00.1", "01.1"]
    assert len(rows) >= 33 and all(row.status == "not attempted" for row in rows)
    assert not progress_file.exists(), "reading progress must not create the file"


def test_a_check_records_its_outcome_and_solved_stays_solved(progress_file):
    from httplab.exercises.lesson02 import q1

    assert q1.check(42).outcome is Outcome.INCORRECT  # not a function
    assert status("02.1") == "incorrect"
    attempts.record(Result("02.1", Outcome.CORRECT, "fine"))
    attempts.record(Result("02.1", Outcome.INCORRECT, "a later slip"))
    row = next(row for row in httplab.progress() if row.exercise == "02.1")
    assert (row.status, row.attempts) == ("correct", 3)
    assert progress_file.exists()
    shown = str(httplab.progress())
    assert "✅ 02.1" in shown and "✏️ 00.1" in shown and "solved" in shown
    assert "<table>" in httplab.progress()._repr_html_()


def test_a_stub_is_recorded_but_counts_as_not_attempted(progress_file):
    def stub():
        raise NotImplementedError()

    exercise = Exercise("00.1", "t", call, answer="stub", hints=["h"], solution="x")
    Exercise.registry.remove(exercise)
    assert exercise.check(stub).outcome is Outcome.NOT_ATTEMPTED
    assert status("00.1") == "not attempted"


def test_reset_forgets_every_attempt(progress_file):
    attempts.record(Result("03.1", Outcome.CORRECT, "ok"))
    assert httplab.reset_progress() == 1
    assert status("03.1") == "not attempted"


def test_recording_can_be_turned_off(progress_file, monkeypatch):
    monkeypatch.setenv("HTTPLAB_PROGRESS", "off")
    attempts.record(Result("03.1", Outcome.CORRECT, "ok"))
    assert not progress_file.exists()


def test_a_broken_progress_file_never_breaks_a_check(progress_file):
    progress_file.parent.mkdir(parents=True)
    progress_file.write_text("this is not a database")

    def wrong(f):
        raise Incorrect("still judged")

    exercise = Exercise("T.9", "t", wrong, answer="f", hints=["h"], solution="x")
    Exercise.registry.remove(exercise)
    assert exercise.check(print).message == "still judged"


WRITER = """
import sys
from httplab import attempts
from httplab.checks import Outcome, Result
for i in range(int(sys.argv[1])):
    attempts.record(Result(sys.argv[2], Outcome.INCORRECT, f"try {i}"))
"""


def test_two_kernels_checking_at_once_lose_nothing(progress_file):
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, "150", key]) for key in ("04.1", "04.2")
    ]
    assert [writer.wait(timeout=60) for writer in writers] == [0, 0]
    rows = {row.exercise: row.attempts for row in httplab.progress()}
    assert rows["04.1"] == rows["04.2"] == 150
