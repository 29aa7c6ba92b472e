"""The serving process's collector: start-up's objects frozen, cyclic garbage still freed."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from gateway.ops.heap import YOUNG_THRESHOLD


def test_start_up_objects_are_frozen_and_later_cycles_are_still_collected() -> None:
    # In a process of its own: freezing the test runner's heap would outlive the test.
    script = textwrap.dedent(
        """
        import gc, weakref
        from gateway.app import create_app  # a serving process's start-up imports
        from gateway.ops.heap import settle_after_start_up

        settle_after_start_up()
        print(gc.get_freeze_count(), gc.get_threshold()[0])

        class Node:
            pass

        freed = []
        probe = Node()
        probe.me = probe  # a cycle: reference counting alone never frees it
        weakref.finalize(probe, freed.append, True)
        del probe
        for _ in range(3 * YOUNG):  # a server's allocations, no explicit gc.collect()
            a, b = Node(), Node()
            a.other, b.other = b, a
        print(freed == [True])
        """
    ).replace("YOUNG", str(YOUNG_THRESHOLD))
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    frozen, threshold, collected = done.stdout.split()
    assert int(frozen) > 50_000  # modules, schemas, the app: out of the collector's sight
    assert int(threshold) == YOUNG_THRESHOLD
    assert collected == "True"
