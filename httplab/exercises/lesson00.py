"""Exercise of lesson 00: a first function that talks to the lab."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from .. import lab as _lab
from ..checks import Exercise, Incorrect, call
from ..misbehaving import require_timeout

# (path on the local httpbin, what it answers)
PROBES = ("/json", "/html", "/status/404", "/image/png", "/status/201")


def _check_status_and_type(status_and_type) -> str:
    lab = _lab.start()
    for path in PROBES:
        url = lab.httpbin + path
        truth = requests.get(url, timeout=5)
        expected = (truth.status_code, truth.headers.get("Content-Type", "").split(";")[0].strip())
        _compare(path, _call(status_and_type, url), expected)
    client = _lab.new_client_id("ex00")
    answer = _call(status_and_type, f"{lab.api}/api/users/1?client={client}")
    sent = [entry["method"] for entry in lab.stats(client)["log"]]
    if sent != ["GET"]:
        shown = ", ".join(sent) or "no request"
        raise Incorrect(
            f"for /api/users/1 the server saw {shown}: send one GET, with `requests.get`"
        )
    _compare("/api/users/1", answer, (200, "application/json"))
    require_timeout(
        lambda host, port: call(status_and_type, f"http://{host}:{port}/never-answers"),
        fix="Pass a timeout to every request: `requests.get(url, timeout=5)`.",
    )
    return (
        f"right status and media type for all {len(PROBES) + 1} URLs, including a 404, and a "
        "timeout for a server that never answers"
    )


def _call(status_and_type: Callable[[str], Any], url: str) -> Any:
    """call(status_and_type, url), its failure told without the port and with the fix."""
    try:
        return call(status_and_type, url)
    except Incorrect as wrong:
        message = str(wrong)
        if "raised HTTPError" in message:
            message += (
                ". A 4xx is an answer to report, not a failure: do not call `raise_for_status()`"
            )
        raise Incorrect(message) from None


def _compare(path: str, answer: Any, expected: tuple[int, str]) -> None:
    if not isinstance(answer, tuple) or len(answer) != 2:
        raise Incorrect(
            f"for {path} you returned {answer!r}: return a tuple `(status, media_type)`"
        )
    status, media_type = answer
    if status != expected[0]:
        advice = " as an int (`response.status_code`)" * isinstance(status, str)
        raise Incorrect(f"for {path} the status is {expected[0]}, you returned {status!r}{advice}")
    if media_type != expected[1]:
        raise Incorrect(
            f"for {path} the media type is {expected[1]!r}, you returned {media_type!r}: "
            "take the `Content-Type` header and leave out parameters such as `; charset=utf-8`"
        )


q1 = Exercise(
    "00.1",
    "Status and media type",
    _check_status_and_type,
    answer="status_and_type",
    hints=[
        "`requests.get(url, timeout=5)` gives a Response; `.status_code` is the status.",
        "The media type is the part of the `Content-Type` header before any `;`: "
        "`.split(';')[0].strip()`.",
        "A 404 is an answer too: do not call `raise_for_status()` here.",
    ],
    solution="00-start-here.ipynb",
)
