"""Every scheduled job of the gateway, in one list (each feature adds its own here)."""

from __future__ import annotations

from datetime import timedelta

from gateway.access_log.lifecycle import AUDIT_JOBS
from gateway.consents.jobs import EXPIRE_CONSENTS
from gateway.scheduler import ScheduledJob
from gateway.sources.health import SOURCE_HEALTH
from gateway.sources.imports import run_drop_imports

JOBS: list[ScheduledJob] = [
    EXPIRE_CONSENTS,
    # csv_drop: a new export is in service within minutes of arriving.
    ScheduledJob(
        "csv-drop-import", every=timedelta(minutes=2), run=run_drop_imports, run_at_start=True
    ),
    *AUDIT_JOBS,
    SOURCE_HEALTH,
]
