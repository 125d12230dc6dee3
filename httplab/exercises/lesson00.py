"""Exercise of lesson 00: a first function that talks to the lab."""

from __future__ import annotations

import requests

from .. import lab as _lab
from ..checks import Exercise, Incorrect, call

# (path on the local httpbin, what it answers)
PROBES = ("/json", "/html", "/status/404", "/image/png", "/status/201")


def _check_status_and_type(status_and_type) -> str:
    base = _lab.start().httpbin
    for path in PROBES:
        url = base + path
        truth = requests.get(url, timeout=5)
        expected = (truth.status_code, truth.headers.get("Content-Type", "").split(";")[0].strip())
        answer = call(status_and_type, url)
        if not isinstance(answer, tuple) or len(answer) != 2:
            raise Incorrect(
                f"for {path} you returned {answer!r}: return a tuple (status, media type)"
            )
        status, media_type = answer
        if status != expected[0]:
            raise Incorrect(f"for {path} the status is {expected[0]}, you returned {status!r}")
        if media_type != expected[1]:
            raise Incorrect(
                f"for {path} the media type is {expected[1]!r}, you returned {media_type!r} "
                "(leave out parameters such as '; charset=utf-8')"
            )
    return f"right status and media type for all {len(PROBES)} URLs, including a 404"


q1 = Exercise(
    "00.1",
    "Status and media type",
    _check_status_and_type,
    answer="status_and_type",
    hints=[
        "`requests.get(url, timeout=5)` gives a Response; `.status_code` is the status.",
        "The media type is the part of the `Content-Type` header before any `;`.",
        "A 404 is an answer too: do not call `raise_for_status()` here.",
    ],
    solution="00-start-here.ipynb",
)
