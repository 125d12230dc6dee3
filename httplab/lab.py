"""The practice lab: a local httpbin and the course API, started with one call.

>>> lab = httplab.start()      # idempotent: a second call returns the running lab
>>> lab.httpbin                # psf/httpbin, the endpoints the chapter uses on httpbin.org
'http://127.0.0.1:40123'
>>> lab.api                    # the course API (see httplab.courseapi for its endpoints)
'http://127.0.0.1:40124'
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass

from . import servers

HTTPBIN = "lab-httpbin"
API = "lab-api"
_lock = threading.Lock()


@dataclass(frozen=True)
class Lab:
    """The URLs of the running practice servers."""

    httpbin: str
    api: str

    @property
    def ws(self) -> str:
        """The course API's base URL for WebSockets (ws://...)."""
        return "ws" + self.api.removeprefix("http")

    def reset(self) -> None:
        """Put the course API back in its seed state (users, items, faults, stats)."""
        import requests

        requests.post(f"{self.api}/api/reset", timeout=5).raise_for_status()

    def stats(self, client_id: str) -> dict:
        """What the course API saw from one client: requests, connections, peak concurrency."""
        import requests

        response = requests.get(f"{self.api}/api/stats/{client_id}", timeout=5)
        response.raise_for_status()
        return response.json()


def new_client_id(prefix: str = "client") -> str:
    """A fresh client id, to send as `X-Client-Id` so the lab keeps separate counts for you."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def _httpbin_app():
    servers.quiet_logger("httpbin.core")  # httpbin warns on import when flasgger is absent
    from httpbin import app

    return app


def start() -> Lab:
    """Start the practice servers (or return the running ones) and give their URLs."""
    from .courseapi import create_app

    with _lock:
        httpbin, api = servers.get(HTTPBIN), servers.get(API)
        if httpbin is None:
            httpbin = servers.serve_wsgi(_httpbin_app(), name=HTTPBIN)
        if api is None:
            api = servers.serve_aiohttp(create_app, name=API)
        return Lab(httpbin=httpbin.url, api=api.url)


def stop() -> None:
    """Stop the practice servers."""
    for name in (HTTPBIN, API):
        server = servers.get(name)
        if server is not None:
            server.stop()
