"""What every lesson's exercise tests share: one assertion for a known-wrong answer
(incorrect, with the message that names the fix)."""

from __future__ import annotations

from httplab.checks import Outcome, Result


def assert_incorrect(result: Result, message: str) -> None:
    """The check said "incorrect", and its message contains `message`."""
    assert result.outcome is Outcome.INCORRECT, f"accepted a wrong answer: {result.message}"
    assert message in result.message, result.message
