"""Every scheduled job of the gateway, in one list (each feature adds its own here)."""

from __future__ import annotations

from gateway.consents.jobs import EXPIRE_CONSENTS
from gateway.scheduler import ScheduledJob

JOBS: list[ScheduledJob] = [EXPIRE_CONSENTS]
