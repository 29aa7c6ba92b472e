"""The four systems of the demo municipality, one per department, each reached its own way:
jobcenter over REST with OAuth2, adult social services over SOAP, health through its
database, children & family by a nightly CSV export."""

from __future__ import annotations

from demo.systems.dubu import dubu_system
from demo.systems.momentum import momentum_system
from demo.systems.nexus import nexus_system
from demo.systems.sensum import sensum_system
from demo.systems.server import DepartmentSystem
from demo.test_citizens import add_test_citizen


def make_systems() -> dict[str, DepartmentSystem]:
    """A fresh, stopped set of the four systems, keyed by the department each belongs to."""
    systems: tuple[DepartmentSystem, ...] = (
        dubu_system(),
        momentum_system(),
        sensum_system(),
        nexus_system(),
    )
    by_department = {system.department: system for system in systems}
    add_test_citizen(by_department)
    return by_department
