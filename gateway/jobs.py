"""Every scheduled job of the gateway, in one list (each feature adds its own here)."""

from __future__ import annotations

from gateway.access_log.lifecycle import AUDIT_JOBS
from gateway.scheduler import ScheduledJob

JOBS: list[ScheduledJob] = []
JOBS.extend(AUDIT_JOBS)
