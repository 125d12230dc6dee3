"""`httplab capacity`'s core on tiny notebooks: two learners who succeed, one who runs over
the time limit; every round's report has its parts, and no kernel process outlives it.
Not a timing test: the figures themselves are the command's output, not asserted here."""

from __future__ import annotations

import math
import re
from pathlib import Path

import nbformat

from httplab.checks import MIME
from httplab.tools import capacity

LESSON = """\
import requests

import httplab

lab = httplab.start()
assert requests.get(f"{lab.httpbin}/get", timeout=5).status_code == 200"""


def notebook(path: Path, *sources: str) -> Path:
    nbformat.write(
        nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources]), path
    )
    return path


def kernels_alive(result: capacity.Round) -> list[int]:
    return [lr.kernel.pid for lr in result.learners if lr.kernel and lr.kernel.is_running()]


def test_two_learners_succeed_and_leave_nothing_behind(tmp_path):
    lesson = notebook(tmp_path / "lesson.ipynb", LESSON)
    exercise = notebook(tmp_path / "exercise.ipynb", "print(lab.api)")
    result = capacity.measure(2, 0.2, lesson, exercise, limit=60)
    assert result.succeeded == 2 and result.leaked == [] and kernels_alive(result) == []
    assert [learner.delay for learner in result.learners] == [0.0, 0.1]
    for part in ("start", "lesson", "exercise"):
        assert len(result.times(part)) == 2 and all(t > 0 for t in result.times(part))
    assert all(learner.peak_mib > 20 for learner in result.learners)  # a kernel's RSS was seen
    assert all(learner.cpu_s > 0 for learner in result.learners) and result.driver_cpu_s > 0
    assert result.host_before_gib > 0 and result.host_peak_gib > 0 and result.load_peak >= 0
    line = capacity.row(result, result)
    assert line.startswith("  2  0.2 s   2/2") and re.search(r"\(\d+\.\d×\)", line), line


def test_a_learner_over_the_limit_is_reported_and_its_kernel_stopped(tmp_path):
    lesson = notebook(tmp_path / "lesson.ipynb", "x = 1")
    exercise = notebook(tmp_path / "exercise.ipynb", "import time\ntime.sleep(60)")
    result = capacity.measure(1, 0, lesson, exercise, limit=3)
    [learner] = result.learners
    assert learner.problem == "exercise: over the learner's limit of 3 s"
    assert learner.lesson_s is not None and learner.exercise_s is None
    assert result.succeeded == 0 and result.leaked == [] and kernels_alive(result) == []
    assert "1× exercise: over the learner's limit of 3 s" in capacity.row(result, result)


def test_a_round_passes_only_when_all_succeed_within_the_slowdown():
    lone = capacity.Round(0, [capacity.Learner(0, 1.0, 10.0, 5.0)])
    quick = capacity.Learner(0, 1.0, 20.0, 9.0)
    assert capacity.Round(60, [quick, capacity.Learner(0, 1.0, 30.0, 15.0)]).passes(lone)
    assert not capacity.Round(60, [quick, capacity.Learner(0, 1.0, 31.0, 5.0)]).passes(lone)
    assert not capacity.Round(60, [quick, capacity.Learner(0, 1.0, 10.0, 15.1)]).passes(lone)
    assert not capacity.Round(60, [quick, capacity.Learner(0, problem="lesson: x")]).passes(lone)
    assert capacity.percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert capacity.percentile([float(n) for n in range(1, 21)], 0.95) == 19.0
    assert math.isnan(capacity.percentile([], 0.95))


def test_a_check_that_is_not_correct_fails_the_learner():
    record = {"exercise": "q2", "outcome": "incorrect", "message": "use a timeout"}
    output = nbformat.v4.new_output("display_data", data={MIME: record})
    exercise = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[output])])
    assert capacity._check_problem(exercise) == "exercise: check q2 said incorrect"
