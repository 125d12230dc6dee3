"""The exercises of each lesson: `from httplab.exercises.lesson01 import q1, q2`."""

from __future__ import annotations

import importlib
from pathlib import Path

from ..checks import Exercise


def all_exercises() -> list[Exercise]:
    """Every exercise of the course, in order (importing each lesson's checks)."""
    for path in sorted(Path(__file__).parent.glob("lesson[0-9][0-9].py")):
        importlib.import_module(f"{__name__}.{path.stem}")
    unique = {exercise.key: exercise for exercise in Exercise.registry}
    return [unique[key] for key in sorted(unique)]
