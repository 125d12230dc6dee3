"""Suite-wide rules: a notebook cell that is skipped or xfailed is a failure, and so is any
skip when running in CI (where every test, browser tests included, must really run)."""

from __future__ import annotations

import os

import pytest

_bad: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    xfail = hasattr(report, "wasxfail")  # xfailed, or xpassed when the cell ran anyway
    if not (report.skipped or xfail) or report.when not in ("setup", "call"):
        return
    in_notebook = ".ipynb" in report.nodeid
    if in_notebook or os.environ.get("CI"):
        kind = ("xpassed" if report.passed else "xfailed") if xfail else "skipped"
        _bad.append(f"{report.nodeid}: {kind}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _bad and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter) -> None:
    if _bad:
        terminalreporter.section(
            "not allowed: skips and xfails (notebook cells, or anything in CI)"
        )
        for line in _bad:
            terminalreporter.write_line(line)
