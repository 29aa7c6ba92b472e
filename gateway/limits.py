"""Abuse limits on citizen views, counted from the access log itself.

The log already holds every view with its actor, time and citizen hash, on every instance's
shared database; counting there needs no extra state and no stickiness between instances.
Refused attempts count too, so a client that keeps hammering stays refused until it pauses.

The counts come from one statement, and each stops as soon as its answer is known (the
per-minute count at the limit, an earlier view of this citizen or an earlier flag at the first
one), so a busy user's long history costs no more than the limits themselves. The distinct
citizens are counted only when this view adds one (the user has not viewed this citizen in the
window), which is the only view that can cross the alert threshold: so a user above it is
flagged again, once the earlier flag has left the window, on their next new citizen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, bindparam, case, func, literal, select

from gateway.access_log.models import AccessEntryRow
from gateway.access_log.service import (
    AccessEvent,
    AuditContext,
    record_access,
)
from gateway.auth.actor import Actor
from gateway.problems import ProblemError
from gateway.runtime import Runtime
from schemas.access import Action, Outcome

_LOG = AccessEntryRow.__table__.c  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Burst:
    """A user has viewed more distinct citizens in the window than the alert allows."""

    distinct_citizens: int
    threshold: int
    window_minutes: int


def _capped_count(query: Any, cap: str) -> Any:
    """How many rows the query has, counting no further than the parameter `cap`."""
    return (
        select(func.count()).select_from(query.limit(bindparam(cap)).subquery()).scalar_subquery()
    )


# Built once: each view only binds its values, and SQLAlchemy reuses the compiled statement.
_MINE = _LOG.actor_subject == bindparam("subject")
_VIEWS = (_MINE, _LOG.action == Action.VIEW.value)
_RECENT = _capped_count(
    select(literal(1)).where(*_VIEWS, _LOG.at >= bindparam("minute_ago")), "views_cap"
)
# Other citizens than this one, viewed in the window: this view adds this one to them.
_OTHERS = _capped_count(
    select(_LOG.citizen_hash)
    .where(*_VIEWS, _LOG.outcome == Outcome.SUCCESS.value, _LOG.at >= bindparam("window_start"))
    .where(_LOG.citizen_hash.is_distinct_from(bindparam("this")))
    .distinct(),
    "alert_cap",
)
_SEEN = _capped_count(
    select(literal(1))
    .where(*_VIEWS, _LOG.outcome == Outcome.SUCCESS.value, _LOG.at >= bindparam("window_start"))
    .where(_LOG.citizen_hash == bindparam("this")),
    "one",
)
_FLAGGED = _capped_count(
    select(literal(1)).where(
        _MINE, _LOG.action == Action.VIEW_BURST.value, _LOG.at >= bindparam("window_start")
    ),
    "one",
)
# The three counts first, in a derived table that OFFSET 0 keeps from being merged into the
# query around it (by PostgreSQL's planner and SQLite's flattener alike): merged, the CASE would
# count them a second time. The CASE counts the distinct citizens only when this view can cross
# the alert threshold; both databases evaluate a subquery in a CASE branch only when it is taken.
_COUNTS = select(_RECENT.label("recent"), _SEEN.label("seen"), _FLAGGED.label("flagged"))
_COUNTED = _COUNTS.offset(0).subquery("counts")
_LIMITS = select(
    _COUNTED.c.recent,
    _COUNTED.c.flagged,
    case(
        (
            and_(
                _COUNTED.c.recent < bindparam("views_cap"),
                _COUNTED.c.seen == 0,
                _COUNTED.c.flagged == 0,
            ),
            _OTHERS,
        ),
        else_=0,
    ).label("others"),
)


def limits_read(
    *, runtime: Runtime, actor: Actor, citizen: str, now: datetime
) -> tuple[Select[Any], dict[str, Any]]:
    """The statement that counts a view against the user's limits, and its parameters."""
    settings = runtime.settings
    return _LIMITS, {
        "subject": actor.subject,
        "minute_ago": now - timedelta(minutes=1),
        "views_cap": settings.views_per_minute,
        "window_start": now - timedelta(minutes=settings.distinct_citizens_window_minutes),
        "this": runtime.protector.lookup_hash(citizen),
        "alert_cap": settings.distinct_citizens_alert,
        "one": 1,
    }


def judge_limits(counted: Any, *, runtime: Runtime, citizen: str) -> Burst | None:
    """Refuse (429) a view over the per-minute limit; a Burst when one is to be flagged. The
    `counted` row is limits_read's answer."""
    settings = runtime.settings
    count, flagged, others = counted
    if count >= settings.views_per_minute:
        raise ProblemError(
            429,
            "rate_limited",
            f"At most {settings.views_per_minute} citizen views a minute; try again shortly",
            headers={"Retry-After": "60"},
            citizen=citizen,
        )
    if others + 1 <= settings.distinct_citizens_alert or flagged:
        return None  # below the threshold, or flagged once in this window: enough to look
    return Burst(
        others + 1, settings.distinct_citizens_alert, settings.distinct_citizens_window_minutes
    )


def flag_burst(*, runtime: Runtime, context: AuditContext, burst: Burst, now: datetime) -> None:
    record_access(
        engine=runtime.engine,
        protector=runtime.protector,
        context=context,
        event=AccessEvent(
            action=Action.VIEW_BURST,
            outcome=Outcome.SUCCESS,
            reason="many_distinct_citizens",
            detail={
                "distinct_citizens": burst.distinct_citizens,
                "threshold": burst.threshold,
                "window_minutes": burst.window_minutes,
            },
        ),
        now=now,
    )
