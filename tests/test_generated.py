"""Generated files are in sync with their sources, and every exercise check is tested."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import httplab.exercises
from httplab.checks import Exercise
from httplab.tools import navigation, student

ROOT = Path(__file__).resolve().parents[1]


def test_exercise_notebooks_are_generated_from_solutions():
    stale = student.stale(ROOT)
    assert not stale, f"out of date: {stale}; run `httplab exercises`"


def test_navigation_and_syllabus_are_up_to_date():
    stale = [p for p, text in navigation.expected(ROOT).items() if p.read_text("utf-8") != text]
    assert not stale, f"out of date: {stale}; run `httplab nav`"


def test_no_solution_left_in_exercises():
    for path in (ROOT / "exercises").glob("*.ipynb"):
        text = path.read_text("utf-8")
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text, path


def test_stubbing_keeps_indentation():
    source = "def f():\n    x = 1\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n"
    expected = "def f():\n    x = 1\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
    assert student.stub_source(source) == expected


def test_every_exercise_has_a_test_module_that_uses_it():
    for module_info in pkgutil.iter_modules(httplab.exercises.__path__):
        module = importlib.import_module(f"httplab.exercises.{module_info.name}")
        names = [name for name, value in vars(module).items() if isinstance(value, Exercise)]
        assert names, f"{module.__name__} defines no exercise"
        test_file = ROOT / "tests" / f"test_exercises_{module_info.name}.py"
        assert test_file.exists(), f"{module.__name__} has no {test_file.name}"
        text = test_file.read_text("utf-8")
        for name in names:
            assert f"{name}.check(" in text, f"{test_file.name} never checks {name}"
