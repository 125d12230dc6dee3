"""`httplab.classroom` outside a hub says so (the hub test runs it on a real JupyterHub)."""

from __future__ import annotations

import pytest

from httplab import classroom


def test_sharing_outside_a_hub_says_why(monkeypatch):
    for name in ("JUPYTERHUB_API_URL", "JUPYTERHUB_API_TOKEN", "JUPYTERHUB_USER"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="not running on a JupyterHub"):
        classroom.share_with_group("class")
