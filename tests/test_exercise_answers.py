"""Every exercise's check passes on its worked solution and says "not attempted" on the stub,
both loaded from the notebooks exactly as the learner sees them (solutions/, exercises/)."""

from __future__ import annotations

import pytest
from nbcode import load

from httplab.checks import Outcome
from httplab.exercises import all_exercises

EXERCISES = all_exercises()


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda exercise: exercise.key)
def test_solution_passes(exercise):
    answer = load("solutions", exercise.solution_notebook, exercise.answer)
    result = exercise.check(answer)
    assert result.outcome is Outcome.CORRECT, result.message


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda exercise: exercise.key)
def test_stub_is_not_attempted(exercise):
    result = exercise.check(load("exercises", exercise.solution_notebook, exercise.answer))
    assert result.outcome is Outcome.NOT_ATTEMPTED, result.message
