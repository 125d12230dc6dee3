"""What every lesson's exercise tests share: the course's exercises, and one assertion for
a known-wrong answer (incorrect, with the message that names the fix)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from httplab.checks import Exercise, Outcome, Result

ROOT = Path(__file__).resolve().parents[1]


def all_exercises() -> list[Exercise]:
    """Every Exercise of every lesson module, in course order."""
    for path in sorted((ROOT / "httplab" / "exercises").glob("lesson*.py")):
        importlib.import_module(f"httplab.exercises.{path.stem}")
    return sorted(set(Exercise.registry), key=lambda exercise: exercise.key)


def assert_incorrect(result: Result, message: str) -> None:
    """The check said "incorrect", and its message contains `message`."""
    assert result.outcome is Outcome.INCORRECT, f"accepted a wrong answer: {result.message}"
    assert message in result.message, result.message


def check(exercise: Exercise, *answer: Any) -> Result:
    """Run `exercise`'s check on `answer`, as a learner's cell would."""
    return exercise.check(*answer)
