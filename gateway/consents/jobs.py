"""The expiry job: marks consents past their end as expired, each with its event and log entry.

Decisions never rely on it (they check validity themselves, so a missed run opens nothing);
it makes the state visible to caseworkers, citizens and the DPO, and logs the transition.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from starlette.concurrency import run_in_threadpool

from consent.decision import local_day
from gateway.access_log.service import AccessEvent, AuditContext, append_entry, audited_write
from gateway.consents import service
from gateway.runtime import Runtime
from gateway.scheduler import ScheduledJob
from schemas.access import Action, ActorRecord, Outcome


def expire_due_consents(*, runtime: Runtime) -> int:
    """Mark every active consent whose last day has passed; returns how many."""
    now = runtime.clock.now()
    context = AuditContext(
        actor=ActorRecord(
            subject=service.SYSTEM.subject, name=service.SYSTEM.name, roles=["system"]
        ),
        request_id=f"job-{uuid.uuid4().hex}",
        instance=runtime.settings.instance,
    )
    with audited_write(runtime.engine) as session:
        rows = service.due_for_expiry(session=session, today=local_day(now))
        for row in rows:
            service.mark_expired(session=session, row=row)
            seq = append_entry(
                session=session,
                protector=runtime.protector,
                context=context,
                event=AccessEvent(
                    action=Action.CONSENT_EXPIRE,
                    outcome=Outcome.SUCCESS,
                    citizen=runtime.protector.decrypt(row.citizen_ciphertext),
                    purpose=row.purpose,
                    target=row.id,
                    consents=[service.ref(row)],
                    detail={"valid_until": row.valid_until.isoformat()},
                ),
                now=now,
            )
            service.add_event(
                session=session,
                row=row,
                event="expired",
                by=service.SYSTEM,
                now=now,
                access_entry=seq,
                reason=f"valid until {row.valid_until.isoformat()}",
            )
        return len(rows)


async def _run(runtime: Runtime) -> None:
    await run_in_threadpool(expire_due_consents, runtime=runtime)


EXPIRE_CONSENTS = ScheduledJob("expire-consents", timedelta(minutes=15), _run, run_at_start=True)
