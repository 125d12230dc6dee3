"""A real JupyterLab server for browser tests: loopback, a token, a free port, and config,
data and runtime folders of its own, serving a temporary copy of the course (so nothing a
test does in the browser is ever saved into the repository)."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

from httplab.misbehaving import closed_port

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {
    # no news pop-up over the page, no update check (no internet here)
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    # never write a test's outputs back into the notebooks
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    # every cell in the DOM, so outputs are there to read
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}


@dataclass
class JupyterLab:
    url: str  # with the base URL and a trailing slash, e.g. http://127.0.0.1:8888/user/alice/
    token: str
    root: Path
    log: Path

    def lab_url(self, path: str = "") -> str:
        return f"{self.url}lab/tree/{path}?token={self.token}&reset"


def wait_until_answering(process: subprocess.Popen, url: str, name: str, log: Path) -> None:
    """Wait up to 60 s for GET `url` to succeed; RuntimeError with the end of the server's
    `log` if the `process` exits first or never answers."""
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited: {log.read_text()[-3000:]}")
        with contextlib.suppress(requests.ConnectionError):
            if requests.get(url, timeout=5).ok:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not start: {log.read_text()[-3000:]}")
        time.sleep(0.2)


def write_settings(config_dir: Path) -> None:
    for plugin, values in SETTINGS.items():
        package, name = plugin.rsplit("/", 1)
        folder = config_dir / "lab" / "user-settings" / package
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.jupyterlab-settings").write_text(json.dumps(values))


@contextlib.contextmanager
def running_jupyterlab(
    tmp: Path, base_url: str = "/", extra_env: dict[str, str] | None = None
) -> Iterator[JupyterLab]:
    """Start JupyterLab on 127.0.0.1 serving a copy of notebooks/, stop it afterwards."""
    root = tmp / "course"
    shutil.copytree(ROOT / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns(".*"))
    home = tmp / "home"
    env = dict(os.environ, HOME=str(home), IPYTHONDIR=str(home / "ipython"), **(extra_env or {}))
    for var, sub in [("CONFIG", "config"), ("DATA", "data"), ("RUNTIME", "runtime")]:
        env[f"JUPYTER_{var}_DIR"] = str(home / sub)
    write_settings(home / "config")
    token, port = secrets.token_hex(16), closed_port()
    log = tmp / "jupyterlab.log"
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", "--LabApp.expose_app_in_browser=True",
        f"--ServerApp.root_dir={root}", f"--ServerApp.base_url={base_url}",
        r"--ServerApp.allow_origin_pat=http://(localhost|127\.0\.0\.1):[0-9]+",
    ]  # fmt: skip
    with open(log, "w") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}{base_url}"
    try:
        wait_until_answering(process, f"{url}api/status?token={token}", "JupyterLab", log)
        yield JupyterLab(url=url, token=token, root=root, log=log)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
