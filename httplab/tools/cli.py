"""`httplab`: the course's maintenance commands.

httplab nav [NOTEBOOK...]      write navigation cells, lesson 00's map, the README syllabus
httplab exercises [NOTEBOOK...]
                               generate exercises/ from solutions/
httplab refresh [NOTEBOOK...]  write navigation, re-execute lessons and solutions (or only
                               those named) and store their outputs, generate exercises/
httplab check                  fail if exercises/ or navigation are out of date
httplab bench [--twice] [--suite] [NOTEBOOK...]
                               print each notebook's run time (and the test suite's)
httplab grade [--out DIR] [--timeout S] [--jobs N] PATH...
                               run a class's exercise notebooks; write grades.csv and a summary
httplab capacity [--learners 1,10,20,40,60] [--window S] [--exercise NOTEBOOK] [--timeout S]
                               measure how many simulated learners this host holds
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from . import execute, navigation, student
from .course import EXERCISES, LESSONS, SOLUTIONS, find_root


def _relative(paths: list[Path], root: Path) -> str:
    return ", ".join(str(p.relative_to(root)) for p in paths) or "nothing"


def _notebooks(root: Path, names: list[str], folders: tuple[str, ...]) -> list[Path]:
    if names:
        return [Path(name).resolve() for name in names]
    return [
        path for folder in folders for path in sorted((root / folder).glob("[0-9][0-9]-*.ipynb"))
    ]


def _only(args: argparse.Namespace) -> set[Path] | None:
    names = getattr(args, "notebooks", None)
    return {Path(name).resolve() for name in names} if names else None


def cmd_nav(root: Path, args: argparse.Namespace) -> int:
    print("navigation written:", _relative(navigation.write_all(root, _only(args)), root))
    return 0


def cmd_exercises(root: Path, args: argparse.Namespace) -> int:
    print("exercises written:", _relative(student.write_all(root, _only(args)), root))
    return 0


def cmd_refresh(root: Path, args: argparse.Namespace) -> int:
    """Named notebooks only (and the README) when names are given, so that two people
    refreshing different lessons at once do not overwrite each other's notebooks."""
    cmd_nav(root, args)
    for path in _notebooks(root, args.notebooks, (LESSONS, SOLUTIONS)):
        print(f"{path.relative_to(root)}: {execute.refresh(path):.1f} s", flush=True)
    cmd_exercises(root, args)
    return 0


def cmd_check(root: Path, args: argparse.Namespace) -> int:
    problems = [p for p, text in navigation.expected(root).items() if p.read_text("utf-8") != text]
    problems += student.stale(root)
    for path in problems:
        print(f"out of date: {path.relative_to(root)}")
    if problems:
        print("run `httplab nav` and `httplab exercises` (or `httplab refresh`)")
    return 1 if problems else 0


def cmd_bench(root: Path, args: argparse.Namespace) -> int:
    import httplab

    started = time.perf_counter()
    httplab.start()
    cold = time.perf_counter() - started
    started = time.perf_counter()
    httplab.start()
    warm = time.perf_counter() - started
    httplab.stop()
    print(f"practice lab start: {cold * 1000:.0f} ms cold, {warm * 1000:.3f} ms when running")
    passes = 2 if args.twice else 1
    header = "run 1 (s)  run 2 (s)" if args.twice else "cells (s)"
    print(f"{'notebook':<45} {header}  with kernel start (s)")
    total = 0.0
    for path in _notebooks(root, args.notebooks, (LESSONS, SOLUTIONS, EXERCISES)):
        started = time.perf_counter()
        _, seconds = execute.run(path, passes)
        wall = time.perf_counter() - started
        total += wall
        shown = "  ".join(f"{s:9.2f}" for s in seconds)
        print(f"{str(path.relative_to(root)):<45} {shown}  {wall:9.2f}", flush=True)
    print(f"{'all notebooks, one after another':<45} {total:9.2f}")
    if args.suite:
        started = time.perf_counter()
        code = subprocess.call([sys.executable, "-m", "pytest", "-q"], cwd=root)
        print(f"{'test suite (pytest, wall clock)':<45} {time.perf_counter() - started:9.2f}")
        return code
    return 0


def cmd_grade(root: Path, args: argparse.Namespace) -> int:
    from . import grade

    paths = [Path(p) for p in args.paths]
    folder, table, seconds = grade.grade(paths, root, Path(args.out), args.timeout, args.jobs)
    print((folder / "summary.md").read_text("utf-8"))
    print(f"{len(table)} rows in {folder / 'grades.csv'}; summary in {folder}/summary.html")
    print(f"graded in {seconds:.1f} s with {args.jobs} kernels at a time")
    return 0


def cmd_capacity(root: Path, args: argparse.Namespace) -> int:
    from . import capacity

    counts = [int(count) for count in args.learners.split(",")]
    # spread arrivals as a class starts (the default: a minute), then all at once: the worst case
    windows = [args.window, 0.0] if args.window else [0.0]
    exercise = Path(args.exercise).resolve() if args.exercise else root / capacity.EXERCISE
    _, largest = capacity.run(counts, windows, root / capacity.LESSON, exercise, args.timeout)
    for window, count in largest.items():
        print(
            f"largest N with all succeeding and p95 ≤ {capacity.SLOWDOWN:g}× lone, "
            f"learners arriving over {window:g} s: {count}"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="httplab", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    nav = commands.add_parser("nav", help="write navigation cells and the syllabus")
    nav.add_argument("notebooks", nargs="*")
    exercises = commands.add_parser("exercises", help="generate exercises/ from solutions/")
    exercises.add_argument("notebooks", nargs="*")
    refresh = commands.add_parser("refresh", help="re-execute notebooks and store outputs")
    refresh.add_argument("notebooks", nargs="*")
    commands.add_parser("check", help="fail if generated files are out of date")
    bench = commands.add_parser("bench", help="time every notebook")
    bench.add_argument("notebooks", nargs="*")
    bench.add_argument("--twice", action="store_true", help="Run All twice in one kernel")
    bench.add_argument("--suite", action="store_true", help="also time the whole test suite")
    grading = commands.add_parser("grade", help="grade a class's exercise notebooks")
    grading.add_argument("paths", nargs="+", help="notebooks, or folders of them")
    grading.add_argument("--out", default="grades", help="report folder (never overwritten)")
    grading.add_argument("--timeout", type=float, default=60, help="seconds a cell may take")
    grading.add_argument("--jobs", type=int, default=4, help="notebooks run at once")
    cap = commands.add_parser("capacity", help="measure how many learners this host holds")
    cap.add_argument("--learners", default="1,10,20,40,60", help="class sizes, comma-separated")
    cap.add_argument(
        "--window", type=float, default=60, help="seconds over which learners start (0 also runs)"
    )
    cap.add_argument(
        "--exercise", help="exercise notebook (default solutions/07-async-clients.ipynb)"
    )
    cap.add_argument("--timeout", type=float, default=300, help="seconds a learner may take")
    args = parser.parse_args(argv)
    # the kernels these tools start run solutions and stubs: not the maintainer's progress
    os.environ.setdefault("HTTPLAB_PROGRESS", "off")
    handler = {
        "nav": cmd_nav,
        "exercises": cmd_exercises,
        "refresh": cmd_refresh,
        "check": cmd_check,
        "bench": cmd_bench,
        "grade": cmd_grade,
        "capacity": cmd_capacity,
    }[args.command]
    return handler(find_root(), args)


if __name__ == "__main__":
    sys.exit(main())
