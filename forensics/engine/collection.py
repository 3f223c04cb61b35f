"""How often Python's cycle collector runs while a bulk job allocates."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Objects allocated (net) between two youngest-generation collections, instead of 700.
BULK_THRESHOLD = 50_000

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def spaced_collections() -> Iterator[None]:
    """Collect cycles less often inside: every BULK_THRESHOLD allocations rather than 700.

    Reading a file allocates a dict per record and a string per field, none of them in a
    cycle; with the default threshold the collector ran hundreds of times per 100,000
    events and kept rescanning the rows waiting to be stored. Cycles are still collected,
    so memory stays bounded on any input. Nested or concurrent uses share one setting,
    restored when the last one ends.
    """
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(max(_saved[0], BULK_THRESHOLD), *_saved[1:])
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None
