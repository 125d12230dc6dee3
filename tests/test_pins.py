"""Installs stay reproducible: requirements.txt and requirements-dev.txt are locks made from
the hand-edited requirements*.in files (uv pip compile), every package in them is pinned
exactly, the two agree, and the environment running the tests is exactly the dev lock."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9_.-]+)(\[[^\]]*\])?==(?P<version>[^\s;]+)\s*(;(?P<marker>.*))?$"
)
LOCAL = {"httplab"}  # the course's own package, installed with `-e .`


def lock(name: str) -> dict[str, str]:
    """{package: version} of a lock file, for the Python and platform running the tests."""
    pins = {}
    for line in (ROOT / name).read_text("utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "-e ", "-r ")):
            continue
        match = PIN.match(line)
        assert match, f"{name}: not pinned exactly: {line!r}"
        if match["marker"] is None or Marker(match["marker"]).evaluate():
            pins[canonicalize_name(match["name"])] = match["version"]
    return pins


def direct(name: str) -> list[Requirement]:
    """The requirements a hand-edited .in file asks for (for this Python)."""
    found = []
    for line in (ROOT / name).read_text("utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate():
                found.append(requirement)
    return found


@pytest.mark.parametrize(
    ("source", "locked"),
    [("requirements.in", "requirements.txt"), ("requirements-dev.in", "requirements-dev.txt")],
)
def test_the_lock_satisfies_its_input(source, locked):
    pins = lock(locked)
    for requirement in direct(source):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{locked} lacks {name}: run the uv pip compile line in {source}"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{locked} pins {name}=={pins[name]} but {source} asks {requirement}: "
            f"the lock is stale, run the uv pip compile line in {source}"
        )


def test_the_dev_lock_keeps_the_learners_pins():
    learner, dev = lock("requirements.txt"), lock("requirements-dev.txt")
    changed = {n: (v, dev.get(n)) for n, v in learner.items() if dev.get(n) != v}
    assert not changed, f"requirements-dev.txt differs from requirements.txt: {changed}"


def test_this_environment_is_exactly_the_dev_lock():
    pins = lock("requirements-dev.txt")
    installed = {
        canonicalize_name(dist.metadata["Name"]): dist.version for dist in metadata.distributions()
    }
    tools = {"pip", "setuptools", "wheel"}  # the venv's own installers
    extra = sorted(set(installed) - set(pins) - LOCAL - tools)
    missing = sorted(set(pins) - set(installed))
    wrong = {n: (installed[n], v) for n, v in pins.items() if n in installed and installed[n] != v}
    assert not (extra or missing or wrong), (
        f"not in the lock: {extra}; not installed: {missing}; (installed, pinned): {wrong}"
    )
