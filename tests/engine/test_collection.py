"""The cycle collector's pace during bulk work."""

from __future__ import annotations

import gc
import threading

import pytest

from forensics.engine.collection import BULK_THRESHOLD, spaced_collections


def test_collections_are_spaced_inside_and_the_setting_comes_back_after():
    before = gc.get_threshold()
    with spaced_collections():
        assert gc.get_threshold()[0] == max(before[0], BULK_THRESHOLD)
        assert gc.get_threshold()[1:] == before[1:]
    assert gc.get_threshold() == before


def test_nested_and_concurrent_uses_restore_the_setting_only_when_the_last_ends():
    before = gc.get_threshold()
    inside = threading.Event()
    release = threading.Event()

    def other() -> None:
        with spaced_collections():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    inside.wait(10)
    with spaced_collections(), spaced_collections():
        pass
    # The other thread's use is still open: the setting stays spaced.
    assert gc.get_threshold()[0] == max(before[0], BULK_THRESHOLD)
    release.set()
    thread.join(10)
    assert gc.get_threshold() == before


def test_an_error_inside_still_restores_the_setting():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), spaced_collections():
        raise RuntimeError("boom")
    assert gc.get_threshold() == before


def test_cycles_are_still_collected_inside():
    class Node:
        pass

    with spaced_collections():
        gc.collect()
        for _ in range(3 * BULK_THRESHOLD):
            a, b = Node(), Node()
            a.other, b.other = b, a  # a cycle, unreachable once the loop moves on
        alive = sum(1 for o in gc.get_objects() if isinstance(o, Node))
    # Without any collection inside, all 300,000 nodes of the cycles would still be alive.
    assert alive < 2 * BULK_THRESHOLD
