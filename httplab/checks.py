"""The exercise checker: `q.check(answer)`, `q.hint()`, `q.solution()`.

Every check ends in one of three outcomes: correct, incorrect (with a message that says
what went wrong), or not attempted yet (the answer still raises NotImplementedError).
A learner's exception becomes a message, never a traceback from the checker; so does a bug in
a check (its message says so, and the course's tests catch it).

A check is a function that receives the learner's answer, runs it against the lab, and
raises `Incorrect("...")` when it finds a mistake; it returns a short success message.
It calls the learner's code through `call(...)` (or `await acall(...)`), which turns the
learner's exceptions into outcomes. A check may be `async`: it then runs on an event loop
of its own in a worker thread, so `q.check(...)` works in a cell whose loop is running.
"""

from __future__ import annotations

import asyncio
import html
import inspect
import re
import threading
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .attempts import record as record_progress

MIME = "application/vnd.httplab.check+json"
CODE_SPAN = re.compile(r"`([^`]+)`")
PORT = re.compile(r"(127\.0\.0\.1|localhost):\d+")


class Outcome(StrEnum):
    CORRECT = "correct"
    INCORRECT = "incorrect"
    NOT_ATTEMPTED = "not attempted"


class Incorrect(Exception):
    """Raised by a check: the answer is wrong, and the message says how."""


class NotAttempted(Exception):
    """Raised when the learner's answer is still the stub."""


_LOOK = {
    Outcome.CORRECT: ("✅", "Correct", "#1b5e20", "#e8f5e9"),
    Outcome.INCORRECT: ("❌", "Incorrect", "#b71c1c", "#ffebee"),
    Outcome.NOT_ATTEMPTED: ("✏️", "Not attempted yet", "#0d47a1", "#e3f2fd"),
}


@dataclass(frozen=True)
class Result:
    """The outcome of one check, shown nicely in a notebook."""

    exercise: str
    outcome: Outcome
    message: str

    @property
    def correct(self) -> bool:
        return self.outcome is Outcome.CORRECT

    def __str__(self) -> str:
        icon, label, _, _ = _LOOK[self.outcome]
        return f"{icon} {label} ({self.exercise}): {self.message}"

    def __await__(self) -> Generator[Any, None, Result]:
        """`await q1.check(...)` works too: the check has already run, so this returns at once."""
        return self
        yield  # makes this a generator, as `await` requires

    def html(self) -> str:
        """The outcome as an HTML box, with the message's `code spans` rendered as code."""
        icon, label, colour, background = _LOOK[self.outcome]
        message = CODE_SPAN.sub(r"<code>\1</code>", html.escape(self.message))
        return (
            f'<div style="border-left:4px solid {colour};background:{background};'
            f'padding:6px 10px;color:{colour}"><b>{icon} {label}</b> '
            f"({html.escape(self.exercise)}): {message}</div>"
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        record = {"exercise": self.exercise, "outcome": self.outcome.value, "message": self.message}
        return {"text/plain": str(self), "text/html": self.html(), MIME: record}


def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function; its exceptions become outcomes, not tracebacks."""
    _require_callable(function)
    try:
        result = function(*args, **kwargs)
        if inspect.isawaitable(result):
            if inspect.iscoroutine(result):
                result.close()  # never awaited: close it so Python does not warn
            raise Incorrect(
                f"{_name(function)} returned a coroutine: write it with `def`, not `async def`"
            )
        return result
    except (Incorrect, NotAttempted):
        raise
    except NotImplementedError:
        raise NotAttempted from None
    except Exception as exc:  # the learner's mistake, reported as a message
        raise Incorrect(f"{_signature(function, args)} raised {describe(exc)}") from None


def call_within(
    function: Callable[..., Any], *args: Any, seconds: float, late: str, thread: str
) -> Any:
    """`call(function, *args)` in a daemon thread named `thread`: what it returns or raises,
    or Incorrect(late) if it is still running after `seconds` (it is left to finish alone)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = call(function, *args)
        except BaseException as exc:  # passed back to the check's thread
            box["error"] = exc

    worker = threading.Thread(target=run, name=thread, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise Incorrect(late)
    if "error" in box:
        raise box["error"]
    return box.get("value")


async def acall(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Await the learner's async function; its exceptions become outcomes."""
    _require_callable(function)
    try:
        result = function(*args, **kwargs)
        if not inspect.isawaitable(result):
            raise Incorrect(f"{_name(function)} must be a coroutine function: use `async def`")
        return await result
    except (Incorrect, NotAttempted):
        raise
    except NotImplementedError:
        raise NotAttempted from None
    except Exception as exc:
        raise Incorrect(f"{_signature(function, args)} raised {describe(exc)}") from None


def expect_http_error(
    function: Callable[..., Any], *args: Any, status: int, endpoint: str, when: str, response: str
) -> None:
    """Call the learner's function, which must let the `status` answered by `endpoint`
    (e.g. "POST /api/token") raise requests.HTTPError; anything else is Incorrect.

    An HTTPError raised by hand may carry no response: the check then reads the server's log.
    """
    import requests

    path = endpoint.split()[-1]
    try:
        answer = function(*args)
    except NotImplementedError:
        raise NotAttempted from None
    except requests.HTTPError as exc:
        got = exc.response.status_code if exc.response is not None else None
        if got is not None and got != status:
            raise Incorrect(
                f"{when} your function raised HTTPError for status {got}; "
                f"expected the {status} of {endpoint}"
            ) from None
        return
    except Exception as exc:
        raise Incorrect(
            f"{when} your function raised {type(exc).__name__}: let the {status} "
            f"of {path} raise requests.HTTPError (response.raise_for_status())"
        ) from None
    raise Incorrect(
        f"{when} {path} answers {status}, but your function returned "
        f"{answer!r}: call raise_for_status() on the {response} response"
    )


def without_ports(text: str) -> str:
    """`text` with loopback ports masked, so that a message stays the same from run to run."""
    return PORT.sub(r"\1:PORT", text)


def counted(number: int, noun: str) -> str:
    """'1 connection', '2 connections': a count with its noun, in the right number (for the
    messages of every lesson's checks)."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _require_callable(function: Any) -> None:
    if not callable(function):
        raise Incorrect(f"pass your function itself, not {type(function).__name__} {function!r}")


def _name(function: Callable[..., Any]) -> str:
    return getattr(function, "__name__", repr(function))


def _signature(function: Callable[..., Any], args: tuple[Any, ...]) -> str:
    shown = ", ".join(short(arg) for arg in args)
    return f"{_name(function)}({shown})"


def short(value: Any, limit: int = 60) -> str:
    """A value's repr for a message: cut to `limit` characters, loopback ports masked."""
    text = without_ports(repr(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(exc: BaseException) -> str:
    """An exception for a message: its type and the first line of its text, ports masked."""
    text = without_ports(str(exc)).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _run_in_thread(coroutine: Awaitable[Any]) -> Any:
    """Run a coroutine to completion on a fresh event loop in a worker thread."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = asyncio.run(coroutine)  # type: ignore[arg-type]
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=run, name="httplab-check")
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


class Text(str):
    """A string shown without quotes in a notebook."""

    def __repr__(self) -> str:
        return str(self)


class Exercise:
    """One exercise: a check, progressive hints, and where its worked solution is."""

    registry: list[Exercise] = []

    def __init__(
        self,
        key: str,
        title: str,
        check: Callable[..., str | Awaitable[str]],
        *,
        answer: str,
        hints: list[str],
        solution: str,
    ) -> None:
        self.key = key
        self.title = title
        self._check = check
        self.answer = answer  # the name the learner defines (a function or class)
        self.hints = hints
        self.solution_notebook = solution
        Exercise.registry.append(self)

    def check(self, *answer: Any) -> Result:
        """Run the check on your answer (usually your function) against the lab."""
        result = self._judge(answer)
        record_progress(result)
        return result

    def _judge(self, answer: tuple[Any, ...]) -> Result:
        try:
            if not answer:
                raise Incorrect("pass your answer to check(), e.g. q1.check(my_function)")
            message = self._check(*answer)
            if inspect.isawaitable(message):
                message = _run_in_thread(message)
            return Result(self.key, Outcome.CORRECT, message)
        except NotAttempted:
            return Result(
                self.key,
                Outcome.NOT_ATTEMPTED,
                "replace `raise NotImplementedError()` with your code, then run the cell again",
            )
        except Incorrect as wrong:
            return Result(self.key, Outcome.INCORRECT, str(wrong))
        except Exception as bug:  # the checker's own fault: a message, not a traceback
            message = (
                f"the check itself failed ({describe(bug)}), so your answer was not judged; "
                "this is a bug in the course, please report it"
            )
            return Result(self.key, Outcome.INCORRECT, message)

    def hint(self, number: int = 1) -> Text:
        """Hint number 1, 2, ... (each says a little more)."""
        count = len(self.hints)
        if not 1 <= number <= count:
            return Text(f"There are {count} hints for {self.key}: hint(1) to hint({count}).")
        return Text(f"Hint {number}/{count} for {self.key}: {self.hints[number - 1]}")

    def solution(self) -> Text:
        """Where the worked solution is."""
        where = f"solutions/{self.solution_notebook}"
        return Text(f"The worked solution of {self.key} ({self.title}) is in {where}.")

    def __repr__(self) -> str:
        return f"<Exercise {self.key}: {self.title}>"
