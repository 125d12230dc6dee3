"""Suite-wide rules: a notebook cell that is skipped or xfailed is a failure, and so is any
skip when running in CI (where every test, browser tests included, must really run)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

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


def pytest_configure(config: pytest.Config) -> None:
    """Checks record progress: into a file of this test run, never the maintainer's own
    (kernels that nbval starts inherit the variable)."""
    if "HTTPLAB_PROGRESS_FILE" not in os.environ:
        folder = Path(tempfile.mkdtemp(prefix="httplab-progress-"))
        os.environ["HTTPLAB_PROGRESS_FILE"] = str(folder / "progress.sqlite")
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
