"""`httplab capacity`: how many simulated learners this host holds.

A simulated learner is one kernel (its own process, as on a hub where each learner has a
server and kernels of their own) that runs a lesson, then an exercise notebook, end to end.
The kernels are started directly, with no hub or Jupyter server in between. Learners start
at evenly spread moments over a window of W seconds, all in one temporary working folder.
Each round reports how many succeeded (no cell raised, every check said correct), the
lesson's and the exercise's run times against a lone learner measured first, the peak
memory of each kernel with its children, the host's memory and the load.
Every kernel is shut down at the end of its learner, killed if it outlives its time limit,
and a round reports any process of it still alive afterwards.
"""

from __future__ import annotations

import asyncio
import copy
import math
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from ..servers import quiet_logger
from .course import read
from .grade import records

LESSON = "notebooks/09-websockets.ipynb"
# the worked answers of lesson 07: its checks send concurrent requests with deadlines to the
# lab and read the lab's own counts, so a starved host makes them fail, as it would a class
EXERCISE = "solutions/07-async-clients.ipynb"
SLOWDOWN = 3.0  # a round passes when every p95 is at most this many times the lone learner's
SAMPLE_EVERY = 0.5  # seconds between two memory samples
MIB, GIB = 2**20, 2**30
QUIET = quiet_logger("httplab.capacity")  # a failed learner is a row, not a log line


@dataclass
class Learner:
    """One simulated learner: when it started, how long each part took, what went wrong."""

    delay: float
    start_s: float | None = None  # kernel start, until it answers
    lesson_s: float | None = None
    exercise_s: float | None = None
    peak_mib: float = 0.0  # RSS of the kernel and its children, at its highest
    cpu_s: float | None = None  # CPU time of the kernel and its children, start to finish
    problem: str = ""
    kernel: psutil.Process | None = field(default=None, repr=False)


@dataclass
class Round:
    """N learners arriving over a window, and what the host went through."""

    window: float
    learners: list[Learner]
    host_before_gib: float = 0.0
    host_peak_gib: float = 0.0
    load_before: float = 0.0
    load_peak: float = 0.0
    driver_cpu_s: float = 0.0  # this process's CPU time, talking to every kernel
    leaked: list[int] = field(default_factory=list)

    @property
    def succeeded(self) -> int:
        return sum(not learner.problem for learner in self.learners)

    def times(self, part: str) -> list[float]:
        values = (getattr(learner, f"{part}_s") for learner in self.learners)
        return [value for value in values if value is not None]

    def passes(self, lone: Round) -> bool:
        """All succeeded, nothing leaked, and each p95 at most SLOWDOWN times the lone one."""
        if self.succeeded < len(self.learners) or self.leaked:
            return False
        return all(
            percentile(self.times(part), 0.95) <= SLOWDOWN * lone.times(part)[0]
            for part in ("lesson", "exercise")
        )


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `share` of them at or below."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else math.nan


def _problem(part: str, exc: BaseException) -> str:
    """What went wrong, in one line: the exception's type and the start of its message."""
    if isinstance(exc, CellTimeoutError):
        return f"{part}: a cell ran over its time limit"
    if isinstance(exc, DeadKernelError):
        return f"{part}: the kernel died"
    if isinstance(exc, CellExecutionError):
        what, text = f"a cell raised {exc.ename}", exc.evalue
    else:
        what, text = type(exc).__name__, str(exc)
    first = text.strip().splitlines()[0][:80] if text.strip() else ""
    return f"{part}: {what} {first}".rstrip()


def _check_problem(notebook: nbformat.NotebookNode) -> str:
    """The first check of the exercise notebook that did not say correct, if any."""
    for exercise, (outcome, _) in records(notebook).items():
        if outcome != "correct":
            return f"exercise: check {exercise} said {outcome}"
    return ""


async def _run_cells(client: NotebookClient, notebook: nbformat.NotebookNode) -> float:
    client.nb = notebook
    started = time.perf_counter()
    for index, cell in enumerate(notebook.cells):
        await client.async_execute_cell(cell, index)
    return time.perf_counter() - started


async def _start_kernel(client: NotebookClient, **options: object) -> None:
    """Start the kernel and its client as nbclient does, but without the heartbeat thread.

    jupyter_client stops that thread with a blocking join on the event loop; when a kernel
    dies at start (its ZMQ port taken meanwhile, jupyter_client#487), the thread can miss
    the stop and the join never returns, hanging every learner. Nothing here needs it.
    """
    client.km = client.create_kernel_manager()
    await client.async_start_new_kernel(**options)
    client.kc = client.km.client()
    client.kc.start_channels(hb=False)
    await client.kc.wait_for_ready(timeout=client.startup_timeout)


async def _learner(
    learner: Learner,
    notebooks: tuple[nbformat.NotebookNode, nbformat.NotebookNode],
    folder: Path,
    limit: float,
) -> None:
    """Start a kernel after the learner's delay, run both notebooks in it, shut it down."""
    await asyncio.sleep(learner.delay)
    lesson, exercise = (copy.deepcopy(notebook) for notebook in notebooks)
    client = NotebookClient(
        lesson,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(folder)}},
        log=QUIET,
    )
    env = {**os.environ, "HTTPLAB_PROGRESS": "off"}  # not the teacher's own progress
    part = "kernel start"
    started = time.perf_counter()
    budget = asyncio.timeout(limit)
    with tempfile.TemporaryFile("w+", dir=folder) as kernel_log:  # its stderr, off screen
        try:
            async with budget:
                await _start_kernel(client, env=env, stderr=kernel_log)
                async with client.async_setup_kernel():  # shuts the kernel down at the end
                    learner.kernel = psutil.Process(client.km.provisioner.pid)
                    learner.start_s = time.perf_counter() - started
                    part = "lesson"
                    learner.lesson_s = await _run_cells(client, lesson)
                    part = "exercise"
                    learner.exercise_s = await _run_cells(client, exercise)
                    learner.cpu_s = _cpu_seconds(learner.kernel)
            learner.problem = _check_problem(exercise)
        except Exception as exc:  # any failure is this learner's row, the others go on
            # nbclient may turn the cancelled cell into another error: the budget tells
            learner.problem = _problem(part, exc)
            if budget.expired():
                learner.problem = f"{part}: over the learner's limit of {limit:g} s"
            elif part == "kernel start" or isinstance(exc, DeadKernelError):
                kernel_log.seek(0)
                said = [line.strip() for line in kernel_log if line.strip()]
                learner.problem += f" (the kernel's last words: {said[-1][:100]})" if said else ""
        finally:  # a kernel that failed or was stopped while starting
            if client.kc is not None:
                client.kc.stop_channels()
            if client.km is not None and client.km.has_kernel:
                await client.km.shutdown_kernel(now=True)


def _memory_mib(kernel: psutil.Process, seen: set[psutil.Process]) -> float:
    """RSS of a kernel and its children, in MiB; remembers every process it saw."""
    try:
        processes = [kernel, *kernel.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for process in processes:
        seen.add(process)
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / MIB


def _cpu_seconds(kernel: psutil.Process) -> float:
    """User and system CPU seconds of a kernel and its children (living and reaped)."""
    total = 0.0
    for process in [kernel, *kernel.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:  # a child that ended in between
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def _host_used_gib() -> float:
    memory = psutil.virtual_memory()
    return (memory.total - memory.available) / GIB


async def _sample(result: Round, seen: set[psutil.Process], done: asyncio.Event) -> None:
    """Every SAMPLE_EVERY s until `done`: each learner's memory, the host's, the load."""
    while not done.is_set():
        for learner in result.learners:
            if learner.kernel is not None:
                learner.peak_mib = max(learner.peak_mib, _memory_mib(learner.kernel, seen))
        result.host_peak_gib = max(result.host_peak_gib, _host_used_gib())
        result.load_peak = max(result.load_peak, os.getloadavg()[0])
        try:
            await asyncio.wait_for(done.wait(), SAMPLE_EVERY)
        except TimeoutError:
            pass


def _reap(processes: set[psutil.Process]) -> list[int]:
    """The pids among `processes` still alive a few seconds on; those are killed."""
    alive = [process for process in processes if process.is_running()]
    _, alive = psutil.wait_procs(alive, timeout=3)
    for process in alive:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    return sorted(process.pid for process in alive)


async def _round(count: int, window: float, lesson: Path, exercise: Path, limit: float) -> Round:
    learners = [Learner(delay=window * index / count) for index in range(count)]
    result = Round(window, learners, host_before_gib=_host_used_gib())
    result.load_before = os.getloadavg()[0]
    notebooks = (read(lesson), read(exercise))
    seen: set[psutil.Process] = set()
    done = asyncio.Event()
    driver = psutil.Process().cpu_times()
    with tempfile.TemporaryDirectory(prefix="httplab-capacity-") as folder:
        for path in (lesson, exercise):  # the learners' own copy of the course
            shutil.copy(path, folder)
        sampler = asyncio.create_task(_sample(result, seen, done))
        try:
            await asyncio.gather(
                *(_learner(learner, notebooks, Path(folder), limit) for learner in learners)
            )
        finally:
            done.set()
            await sampler
            after = psutil.Process().cpu_times()
            result.driver_cpu_s = after.user + after.system - driver.user - driver.system
            result.leaked = _reap(seen | {learner.kernel for learner in learners if learner.kernel})
    return result


def measure(count: int, window: float, lesson: Path, exercise: Path, limit: float) -> Round:
    """One round: `count` learners, starting evenly over `window` seconds, each within `limit`."""
    return asyncio.run(_round(count, window, lesson, exercise, limit))


HEADER = (
    f"{'N':>3} {'window':>6} {'ok':>7}  {'kernel start':>13}  {'lesson p50/p95 (×lone)':>22}  "
    f"{'exercise p50/p95 (×lone)':>24}  {'MiB p50/max':>11}  {'CPU s p50':>9}  "
    f"{'host used GiB':>13}  {'driver CPU':>10}  load 1 min"
)


def _spread(values: list[float]) -> str:
    return f"{percentile(values, 0.5):.1f}/{percentile(values, 0.95):.1f} s" if values else "-"


def _times(result: Round, lone: Round, part: str) -> str:
    values = result.times(part)
    if not values:
        return "-"
    return f"{_spread(values)} ({percentile(values, 0.95) / lone.times(part)[0]:.1f}×)"


def row(result: Round, lone: Round) -> str:
    """One line of the table (a round against the lone learner), then its problems if any."""
    count = len(result.learners)
    memory = [learner.peak_mib for learner in result.learners]
    cpu = [learner.cpu_s for learner in result.learners if learner.cpu_s is not None]
    line = (
        f"{count:>3} {result.window:>4g} s {result.succeeded:>3}/{count:<3}  "
        f"{_spread(result.times('start')):>13}  {_times(result, lone, 'lesson'):>22}  "
        f"{_times(result, lone, 'exercise'):>24}  "
        f"{f'{percentile(memory, 0.5):.0f}/{max(memory):.0f}':>11}  "
        f"{percentile(cpu, 0.5):>7.1f} s  "
        f"{f'{result.host_before_gib:.1f} → {result.host_peak_gib:.1f}':>13}  "
        f"{result.driver_cpu_s:>8.1f} s  "
        f"{result.load_before:.1f} → {result.load_peak:.1f}"
    )
    problems = Counter(learner.problem for learner in result.learners if learner.problem)
    for problem, times in problems.most_common(3):
        line += f"\n      {times}× {problem}"
    if result.leaked:
        line += f"\n      processes left after the round (killed): {result.leaked}"
    return line


def run(
    counts: list[int],
    windows: list[float],
    lesson: Path,
    exercise: Path,
    limit: float,
    say: Callable[[str], None] = print,
) -> tuple[Round, dict[float, int]]:
    """A lone learner, then every class size at every window; say each row as it comes.

    Larger class sizes are skipped at a window once a round there failed. Returns the lone
    round and, per window, the largest class size that passed (0 if none did).
    """
    say(f"lesson {lesson.name}, exercise {exercise.name}, at most {limit:g} s per learner")
    say(f"load average before the lone learner: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    lone = measure(1, 0, lesson, exercise, limit)
    say(HEADER)
    say(row(lone, lone) + "   (the lone learner)")
    if lone.succeeded != 1:
        return lone, dict.fromkeys(windows, 0)
    largest = dict.fromkeys(windows, 0)
    failed: set[float] = set()
    for count in counts:
        for window in windows:
            if window in failed:
                continue
            result = measure(count, window, lesson, exercise, limit)
            say(row(result, lone))
            if result.passes(lone):
                largest[window] = max(largest[window], count)
            else:
                failed.add(window)
    say(f"processes of this command still running: {len(psutil.Process().children())}")
    return lone, largest
