"""Which aiohttp.ClientSession objects a learner's code opened, and whether it closed them.

A session that is never closed prints "Unclosed client session" when it is garbage
collected, which in a notebook lands under whichever cell runs next. A check watches the
sessions its own thread opens while the learner's code runs, reports those left open, and
closes them itself so that no warning ever reaches the notebook.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import aiohttp


@contextlib.contextmanager
def watch_sessions() -> Iterator[list[aiohttp.ClientSession]]:
    """The aiohttp.ClientSession objects created on this thread inside the block, in order."""
    opened: list[aiohttp.ClientSession] = []
    thread = threading.get_ident()
    original = aiohttp.ClientSession.__init__

    def init(self: aiohttp.ClientSession, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if threading.get_ident() == thread:
            opened.append(self)

    aiohttp.ClientSession.__init__ = init  # type: ignore[method-assign]
    try:
        yield opened
    finally:
        aiohttp.ClientSession.__init__ = original  # type: ignore[method-assign]


async def close_left_open(opened: list[aiohttp.ClientSession]) -> int:
    """Close the sessions the learner left open; how many there were."""
    left = [session for session in opened if not session.closed]
    for session in left:
        await session.close()
    return len(left)


def left_open_advice(count: int, name: str) -> str:
    """The message for sessions left open."""
    sessions = (
        "an aiohttp.ClientSession" if count == 1 else f"{count} aiohttp.ClientSession objects"
    )
    return (
        f'{name} left {sessions} open (Python warns "Unclosed client session" later, under '
        "another cell): open it with `async with aiohttp.ClientSession(...) as session:` so that "
        "it is closed whatever happens"
    )
