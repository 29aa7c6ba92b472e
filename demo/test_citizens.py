"""The synthetic test citizen every simulated system holds, for IT operations' source checks.

IT operations prove that a source connects and maps correctly without seeing a real person's
case: a check may name only a source's configured `test_citizens`. Real municipalities get such
persons from the vendor's test data; the demo makes one out of a sample citizen's records in each
system. The CPR says "born 1 January 1901, serial 0000": nobody alive has it.
"""

from __future__ import annotations

from collections.abc import Mapping

from demo.citizens import CITIZENS
from demo.systems.server import DepartmentSystem

TEST_CITIZEN = "0101010000"

# Whose records the test citizen carries in each department's system.
_MODELLED_ON = {
    "children-family": "Noah Holm",
    "jobcenter": "Sara Holm",
    "adult-social": "Lars Vestergaard",
    "health": "Inger Poulsen",
}


def add_test_citizen(systems: Mapping[str, DepartmentSystem]) -> None:
    """Give every system the test citizen (before the systems start, or while they run)."""
    cprs = {citizen.name: citizen.cpr for citizen in CITIZENS}
    for department, system in systems.items():
        modelled_on = _MODELLED_ON.get(department)
        if modelled_on is not None:
            system.add_twin(cprs[modelled_on], TEST_CITIZEN)
