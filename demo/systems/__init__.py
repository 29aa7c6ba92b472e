"""Four simulated legacy department systems: REST, SOAP, a database and a CSV drop folder.

with SystemsInThread() as running:       # make_systems(), started on a background loop
    running["jobcenter"].behaviour.delay = 2.0
    configs = source_configs(running.systems)   # demo.sources
"""

from __future__ import annotations

from demo.systems.catalog import make_systems
from demo.systems.in_thread import SystemsInThread
from demo.systems.server import Behaviour, DataRequest, DepartmentSystem, SimulatedSystem

__all__ = [
    "Behaviour",
    "DataRequest",
    "DepartmentSystem",
    "SimulatedSystem",
    "SystemsInThread",
    "make_systems",
]
