"""code/async_http_client.py, run as a learner runs it: a subprocess with a timeout."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httplab

SCRIPT = Path(__file__).resolve().parents[1] / "code" / "async_http_client.py"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60
    )


def test_help_describes_the_options():
    result = run("--help")
    assert result.returncode == 0, result.stderr
    for option in ("--limit", "--timeout", "URL"):
        assert option in result.stdout


def test_default_starts_the_lab_and_fetches_the_chapters_ten_urls():
    result = run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    ids = [
        int(m[1])
        for line in lines
        if (m := re.match(r"200 http://127\.0\.0\.1:\d+/get\?id=(\d+) ", line))
    ]
    assert ids == list(range(10))  # every URL, in the order given
    assert lines[-1].startswith("10 of 10 succeeded")


def test_limit_is_kept_and_failures_do_not_cost_the_other_results():
    lab = httplab.start()
    client = httplab.new_client_id("cli")
    slow = [f"{lab.api}/api/slow?seconds={s}&client={client}" for s in (0.15, 0.1, 0.05, 0.12)]
    crash = f"{lab.api}/api/crash?client={client}"
    urls = [slow[0], crash, *slow[1:]]
    result = run("--limit", "2", "--timeout", "5", *urls)
    assert result.returncode == 1, result.stdout + result.stderr  # one URL failed
    lines = result.stdout.splitlines()
    assert [line.split()[1].rstrip(":") for line in lines[:5]] == urls  # in the order given
    assert lines[1] == f"FAILED {crash}: HTTP 500 Internal Server Error"
    for line, seconds in zip([lines[0], *lines[2:5]], (0.15, 0.1, 0.05, 0.12), strict=True):
        assert line.startswith("200 ") and line.endswith(f': {{"slept": {seconds}}}')
    assert lines[-1].startswith("4 of 5 succeeded")
    stats = lab.stats(client)
    assert stats["requests"] == 5
    assert stats["peak_concurrency"] == 2  # the server saw the limit, and never more


def test_timeout_is_reported_per_url():
    lab = httplab.start()
    result = run("--timeout", "0.3", f"{lab.api}/api/slow?seconds=3", f"{lab.api}/items/answer")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"FAILED {lab.api}/api/slow?seconds=3: TimeoutError"
    assert lines[1].endswith(': {"key": "answer", "value": 42}')


def test_bad_limit_is_refused():
    result = run("--limit", "0", "http://127.0.0.1:1/")
    assert result.returncode == 2
    assert "--limit: must be at least 1" in result.stderr
