"""A dict that keeps at most `maxsize` entries, so per-client state cannot grow forever."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LRUDict(OrderedDict[K, V]):
    """An ordered dict that forgets its least recently stored or used entries."""

    def __init__(self, maxsize: int) -> None:
        super().__init__()
        self.maxsize = maxsize

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.maxsize:
            self.popitem(last=False)

    def get_or_create(self, key: K, factory: Callable[[], V]) -> V:
        """Return the entry for `key` (creating it with `factory()`) and mark it as used."""
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = factory()
        self[key] = value
        return value
