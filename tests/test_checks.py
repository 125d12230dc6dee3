"""The checker's machinery: three outcomes, learner errors as messages, async checks."""

from __future__ import annotations

import asyncio

from httplab.checks import MIME, Exercise, Incorrect, Outcome, acall, call


def _exercise(check):
    exercise = Exercise(
        "T.1", "test", check, answer="double", hints=["first", "second"], solution="x.ipynb"
    )
    Exercise.registry.remove(exercise)
    return exercise


def double_check(function):
    if call(function, 2) != 4:
        raise Incorrect("double(2) should be 4")
    return "doubles"


def test_correct():
    result = _exercise(double_check).check(lambda x: 2 * x)
    assert result.outcome is Outcome.CORRECT and result.correct
    assert result.message == "doubles"


def test_incorrect_has_the_checks_message():
    result = _exercise(double_check).check(lambda x: x + 1 if x != 2 else 5)
    assert result.outcome is Outcome.INCORRECT
    assert result.message == "double(2) should be 4"


def test_stub_is_not_attempted():
    def double(x):
        raise NotImplementedError()

    result = _exercise(double_check).check(double)
    assert result.outcome is Outcome.NOT_ATTEMPTED


def test_learner_exception_becomes_a_message():
    def double(x):
        return {}["missing"]

    result = _exercise(double_check).check(double)
    assert result.outcome is Outcome.INCORRECT
    assert result.message == "double(2) raised KeyError: 'missing'"
    assert "Traceback" not in str(result)


def test_not_a_function_and_no_answer():
    exercise = _exercise(double_check)
    assert "pass your function itself" in exercise.check(42).message
    assert "pass your answer" in exercise.check().message


def test_a_coroutine_where_a_function_is_expected():
    async def double(x):
        return 2 * x

    result = _exercise(double_check).check(double)
    assert result.outcome is Outcome.INCORRECT and "async def" in result.message


async def test_async_check_runs_inside_a_running_loop():
    async def check(function):
        value = await acall(function, 3)
        if value != 6:
            raise Incorrect(f"got {value}")
        return "ok"

    async def double(x):
        await asyncio.sleep(0)
        return 2 * x

    asyncio.get_running_loop()  # like a notebook cell: a loop is running here
    assert _exercise(check).check(double).correct
    assert _exercise(check).check(lambda x: x).outcome is Outcome.INCORRECT


def test_checker_bugs_are_a_message_that_does_not_blame_the_learner():
    def broken_check(function):
        raise ZeroDivisionError("bug in the checker")

    result = _exercise(broken_check).check(lambda: None)
    assert result.outcome is Outcome.INCORRECT
    assert result.message.startswith("the check itself failed (ZeroDivisionError: bug in the")
    assert "bug in the course" in result.message


def test_display_and_hints():
    exercise = _exercise(double_check)
    bundle = exercise.check(lambda x: 2 * x)._repr_mimebundle_()
    assert bundle[MIME] == {"exercise": "T.1", "outcome": "correct", "message": "doubles"}
    assert bundle["text/plain"].startswith("✅ Correct")
    assert exercise.hint() == "Hint 1/2 for T.1: first"
    assert exercise.hint(2).endswith("second")
    assert "hint(1) to hint(2)" in exercise.hint(3)
    assert exercise.solution().endswith("solutions/x.ipynb.")


async def test_a_result_can_be_awaited():
    result = await _exercise(double_check).check(lambda x: 2 * x)
    assert result.outcome is Outcome.CORRECT


def test_code_spans_render_as_code_in_html():
    result = _exercise(lambda f: (_ for _ in ()).throw(Incorrect("use `timeout=5` <now>"))).check(1)
    assert "<code>timeout=5</code>" in result.html()
    assert "&lt;now&gt;" in result.html()
