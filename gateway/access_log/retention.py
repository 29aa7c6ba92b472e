"""Retention: entry bodies older than the retention period are pruned, whole checkpointed
ranges only; leaf hashes stay (with the entry's random nonce they reveal nothing), so the tree
and every checkpoint still verify; and the pruning is an entry of its own."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from gateway.access_log import tree_store
from gateway.access_log.entries import draft_entry, write_entries
from gateway.access_log.models import PRUNED, AccessEntryRow, CheckpointRow, LogHeadRow
from gateway.cpr_protection import CprProtector
from gateway.db import write_session
from gateway.runtime import Runtime
from schemas.access import Action, ActorRecord, Outcome

_ENTRIES = AccessEntryRow.__table__  # type: ignore[attr-defined]
_HEAD = LogHeadRow.__table__  # type: ignore[attr-defined]
RETENTION_ACTOR = ActorRecord(subject="helhed", name="Retention job")


def months_before(moment: datetime, months: int) -> datetime:
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    return moment.replace(year=year, month=month + 1, day=min(moment.day, 28))


def prune(
    *, session: Session, protector: CprProtector, cutoff: datetime, now: datetime, instance: str
) -> tuple[int, int] | None:
    """Prune bodies up to the last checkpoint whose every entry is older than `cutoff`."""
    head = tree_store.lock_head(session)
    young = session.exec(
        select(func.min(AccessEntryRow.seq)).where(col(AccessEntryRow.at) >= cutoff)
    ).one()
    limit = (young - 1) if young is not None else head.size
    through = session.exec(
        select(func.max(CheckpointRow.size)).where(
            col(CheckpointRow.size) <= limit, col(CheckpointRow.size) > head.pruned_through
        )
    ).one()
    if through is None:
        return None
    start = head.pruned_through + 1
    session.execute(
        update(_ENTRIES)
        .where(_ENTRIES.c.seq >= start, _ENTRIES.c.seq <= through)
        .values(body=PRUNED, actor_subject=None, actor_department=None, citizen_hash=None)
    )
    session.execute(update(_HEAD).where(_HEAD.c.id == 1).values(pruned_through=through))
    draft = draft_entry(
        protector=protector,
        actor=RETENTION_ACTOR,
        citizen=None,
        now=now,
        fields={
            "action": Action.AUDIT_RETENTION,
            "outcome": Outcome.SUCCESS,
            "request_id": "retention",
            "instance": instance,
            "detail": {
                "pruned_from": start,
                "pruned_through": through,
                "cutoff": cutoff.isoformat(),
            },
        },
    )
    write_entries(session=session, drafts=[draft])
    return start, through


def prune_expired(*, runtime: Runtime) -> tuple[int, int] | None:
    """The scheduled job's work: prune what the configured period has let go of."""
    now = runtime.clock.now()
    cutoff = months_before(now, runtime.settings.audit.retention_months)
    with write_session(runtime.engine) as session:
        return prune(
            session=session,
            protector=runtime.protector,
            cutoff=cutoff,
            now=now,
            instance=runtime.settings.instance,
        )
