"""Keep loopback traffic away from HTTP proxies.

requests, httpx, websockets and aiohttp (with trust_env=True) read HTTP_PROXY, HTTPS_PROXY
and ALL_PROXY from the environment. Set without NO_PROXY, they send even 127.0.0.1 traffic to
the proxy, which cannot reach the learner's own machine. Adding the loopback names to NO_PROXY
fixes all four clients and leaves every other host going through the proxy as before.
"""

from __future__ import annotations

import os

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def bypass_proxy_for_loopback() -> None:
    """Add the loopback names to NO_PROXY and no_proxy (keeping what is already there)."""
    for var in ("NO_PROXY", "no_proxy"):
        present = [entry.strip() for entry in os.environ.get(var, "").split(",") if entry.strip()]
        missing = [name for name in LOOPBACK_NAMES if name not in present]
        if missing:
            os.environ[var] = ",".join(present + missing)
