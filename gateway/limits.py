"""Abuse limits on citizen views, counted from the access log itself.

The log already holds every view with its actor, time and citizen hash, on every instance's
shared database; counting there needs no extra state and no stickiness between instances.
Refused attempts count too, so a client that keeps hammering stays refused until it pauses.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from gateway.access_log.models import AccessEntryRow
from gateway.access_log.service import (
    AccessEvent,
    AccessLogUnavailable,
    AuditContext,
    record_access,
)
from gateway.auth.actor import Actor
from gateway.db import read_session
from gateway.problems import ProblemError
from gateway.runtime import Runtime
from schemas.access import Action, Outcome


def enforce_view_limits(
    *, runtime: Runtime, actor: Actor, citizen: str | None, context: AuditContext
) -> None:
    """Refuse a view over the per-minute limit; flag a burst of many distinct citizens."""
    try:
        _enforce(runtime=runtime, actor=actor, citizen=citizen, context=context)
    except SQLAlchemyError as error:
        # The limits are read from the log: no log, no view (rule 2).
        raise AccessLogUnavailable(type(error).__name__) from error


def _enforce(*, runtime: Runtime, actor: Actor, citizen: str | None, context: AuditContext) -> None:
    settings = runtime.settings
    now = runtime.clock.now()
    window_start = now - timedelta(minutes=settings.distinct_citizens_window_minutes)
    mine = (col(AccessEntryRow.actor_subject) == actor.subject,)
    with read_session(runtime.engine) as session:
        recent = session.exec(
            select(func.count())
            .select_from(AccessEntryRow)
            .where(*mine, col(AccessEntryRow.action) == Action.VIEW.value)
            .where(col(AccessEntryRow.at) >= now - timedelta(minutes=1))
        ).one()
        if recent >= settings.views_per_minute:
            raise ProblemError(
                429,
                "rate_limited",
                f"At most {settings.views_per_minute} citizen views a minute; try again shortly",
                headers={"Retry-After": "60"},
                citizen=citizen,
            )
        if citizen is None:
            return
        seen = set(
            session.exec(
                select(AccessEntryRow.citizen_hash)
                .where(*mine, col(AccessEntryRow.action) == Action.VIEW.value)
                .where(col(AccessEntryRow.outcome) == Outcome.SUCCESS.value)
                .where(col(AccessEntryRow.at) >= window_start)
                .distinct()
            ).all()
        )
        seen.add(runtime.protector.lookup_hash(citizen))
        if len(seen) <= settings.distinct_citizens_alert:
            return
        flagged = session.exec(
            select(func.count())
            .select_from(AccessEntryRow)
            .where(*mine, col(AccessEntryRow.action) == Action.VIEW_BURST.value)
            .where(col(AccessEntryRow.at) >= window_start)
        ).one()
    if flagged:
        return  # once per window is enough for the DPO to look
    record_access(
        engine=runtime.engine,
        protector=runtime.protector,
        context=context,
        event=AccessEvent(
            action=Action.VIEW_BURST,
            outcome=Outcome.SUCCESS,
            reason="many_distinct_citizens",
            detail={
                "distinct_citizens": len(seen),
                "threshold": settings.distinct_citizens_alert,
                "window_minutes": settings.distinct_citizens_window_minutes,
            },
        ),
        now=now,
    )
