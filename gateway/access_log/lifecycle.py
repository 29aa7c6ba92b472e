"""The access log's part in a gateway's start and stop, and its scheduled jobs."""

from __future__ import annotations

import logging
from datetime import timedelta

from gateway.access_log.checkpoints import CheckpointSigner, checkpoint_now
from gateway.access_log.group_commit import committer_for
from gateway.access_log.retention import prune_expired
from gateway.runtime import Runtime
from gateway.scheduler import ScheduledJob

logger = logging.getLogger("helhed.access_log")


def signer(runtime: Runtime) -> CheckpointSigner:
    audit = runtime.settings.audit
    return CheckpointSigner(
        origin=audit.origin,
        signing_keys=runtime.signing_keys,
        clock=runtime.clock,
        every=audit.checkpoint_every_entries,
    )


def start(runtime: Runtime) -> None:
    """Appends through this gateway sign a checkpoint every `checkpoint_every_entries`."""
    committer_for(runtime.engine).checkpointer = signer(runtime)


def stop(runtime: Runtime) -> None:
    """A last checkpoint, so the entries of this gateway's final moments are signed too."""
    try:
        checkpoint_now(engine=runtime.engine, signer=signer(runtime))
    except Exception:  # stopping goes on; the next start's checkpoint covers these entries
        logger.exception("could not sign a checkpoint on shutdown")
    committer_for(runtime.engine).close()


def _checkpoint(runtime: Runtime) -> None:
    checkpoint_now(engine=runtime.engine, signer=signer(runtime))


def _retention(runtime: Runtime) -> None:
    prune_expired(runtime=runtime)


AUDIT_JOBS = [
    # At most a second between growth and its signed checkpoint (the committer adds one per
    # `checkpoint_every_entries` in between).
    ScheduledJob("audit-checkpoint", timedelta(seconds=1), _checkpoint, run_at_start=True),
    ScheduledJob("audit-retention", timedelta(hours=6), _retention, run_at_start=False),
]
