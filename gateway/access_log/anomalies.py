"""Anomaly reports for the DPO: patterns in the log that deserve a question, not a verdict.

- many citizens: an actor viewed unusually many distinct citizens in a day: more than the
  configured ceiling, or (from the floor up) far more than the department's people usually do
  on a working day, judged by the median and median absolute deviation of the days before
- outside hours: views outside the configured working hours or working days
- no own case: views of a citizen of whom the actor's own department holds nothing
- repeated denials: an actor refused at least the threshold number of times in a day
- real citizen checked: IT operations named a CPR in a source check that is not one of the
  source's synthetic test citizens (refused since issue 13; always worth a question)
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from gateway.access_log.config import AuditSettings
from gateway.access_log.models import PRUNED, AccessEntryRow

MAX_ENTRIES = 200_000
MAX_BASELINE_ENTRIES = 1_000_000
BASELINE_MIN_DAYS = 5  # person-days a department needs before its baseline means anything
ROBUST_Z = 4.0  # how many (robust) standard deviations above the median is unusual


@dataclass(frozen=True)
class Baseline:
    """What a department's people usually do: distinct citizens viewed per person per day."""

    median: float
    limit: float  # more than this is unusual
    person_days: int


def baseline_of(counts: list[int]) -> Baseline | None:
    """Median plus ROBUST_Z robust standard deviations (1.4826 x the median absolute deviation,
    at least one citizen): a few busy days cannot drag it up the way a mean would be."""
    if len(counts) < BASELINE_MIN_DAYS:
        return None
    median = statistics.median(counts)
    deviation = statistics.median(abs(count - median) for count in counts)
    spread = max(1.4826 * deviation, 1.0)
    limit = round(median + ROBUST_Z * spread, 1)
    return Baseline(median=median, limit=limit, person_days=len(counts))


def department_baselines(
    *, session: Session, settings: AuditSettings, before: datetime
) -> dict[str, Baseline]:
    """Each department's baseline from the `baseline_days` before `before` (working days only,
    the days people view at all)."""
    zone = ZoneInfo(settings.timezone)
    e = AccessEntryRow
    rows = session.execute(
        sa_select(col(e.actor_subject), col(e.actor_department), col(e.at), col(e.citizen_hash))
        .where(col(e.action) == "view", col(e.outcome) == "success")
        .where(col(e.citizen_hash).is_not(None))
        .where(col(e.at) >= before - timedelta(days=settings.baseline_days), col(e.at) < before)
        .limit(MAX_BASELINE_ENTRIES)
    )
    seen: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for subject, department, at, citizen_hash in rows:
        local = _local(at, zone)
        if department and local.isoweekday() in settings.working_days:
            seen[(department, subject or "", local.date().isoformat())].add(citizen_hash)
    counts: dict[str, list[int]] = defaultdict(list)
    for (department, _subject, _day), citizens in seen.items():
        counts[department].append(len(citizens))
    found = {department: baseline_of(days) for department, days in counts.items()}
    return {department: baseline for department, baseline in found.items() if baseline}


def _local(at: datetime, zone: ZoneInfo) -> datetime:
    return at.astimezone(zone) if at.tzinfo else at.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)


def _in_working_hours(local: datetime, settings: AuditSettings) -> bool:
    hours = settings.working_hours_start <= local.time() < settings.working_hours_end
    return hours and local.isoweekday() in settings.working_days


def judged_by(settings: AuditSettings) -> dict[str, Any]:
    """The configured rules a report was judged by, so the DPO reads the flags in their light."""
    return {
        "timezone": settings.timezone,
        "working_hours": {
            "start": settings.working_hours_start.isoformat("minutes"),
            "end": settings.working_hours_end.isoformat("minutes"),
            "days": settings.working_days,
            "flagged": settings.flag_outside_working_hours,
        },
        "citizens_per_day_threshold": settings.citizens_per_day_threshold,
        "citizens_per_day_floor": settings.citizens_per_day_floor,
        "denials_per_day_threshold": settings.denials_per_day_threshold,
    }


def _real_citizen_checks(
    session: Session, since: datetime, until: datetime, zone: ZoneInfo
) -> dict[tuple[str, str, str], list[int]]:
    """IT operations' source checks that named a real person. Only a check that read one of the
    source's test citizens says so in its detail; a refused one, or one made before test
    citizens existed, named somebody real."""
    e = AccessEntryRow
    rows = session.exec(
        select(e)
        .where(col(e.action) == "source.check", col(e.citizen_hash).is_not(None))
        .where(col(e.at) >= since, col(e.at) < until, col(e.body) != PRUNED)
        .order_by(col(e.seq))
        .limit(MAX_ENTRIES)
    )
    found: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for row in rows:
        detail = orjson.loads(row.body).get("detail") or {}
        if row.outcome == "success" and detail.get("test_citizen") is True:
            continue
        day = _local(row.at, zone).date().isoformat()
        found[(row.actor_subject or "", row.actor_department or "", day)].append(row.seq)
    return found


def find_anomalies(
    *, session: Session, settings: AuditSettings, since: datetime, until: datetime
) -> list[dict[str, Any]]:
    zone = ZoneInfo(settings.timezone)
    rows = session.exec(
        select(AccessEntryRow)
        .where(col(AccessEntryRow.at) >= since, col(AccessEntryRow.at) < until)
        .where(col(AccessEntryRow.body) != PRUNED)
        .order_by(col(AccessEntryRow.seq))
        .limit(MAX_ENTRIES)
    )
    citizens: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    views: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    outside: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    no_case: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    denials: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for row in rows:
        local = _local(row.at, zone)
        key = (row.actor_subject or "", row.actor_department or "", local.date().isoformat())
        if row.outcome == "denied":
            denials[key].append(row.seq)
        if row.action != "view" or row.outcome != "success":
            continue
        if row.citizen_hash:
            citizens[key].add(row.citizen_hash)
            views[key].append(row.seq)
        if settings.flag_outside_working_hours and not _in_working_hours(local, settings):
            outside[key].append(row.seq)
        own = [
            line
            for line in orjson.loads(row.body).get("released", [])
            if line["department"] == row.actor_department
        ]
        asked = own and all(line["status"] == "released" for line in own)
        if asked and sum(line["fragments"] for line in own) == 0:
            no_case[key].append(row.seq)

    found: list[dict[str, Any]] = []

    def add(kind: str, key: tuple[str, str, str], seqs: list[int], count: int, **more: Any) -> None:
        actor, department, day = key
        found.append(
            {
                "kind": kind,
                "actor": actor,
                "department": department or None,
                "day": day,
                "count": count,
                "entries": seqs[:100],
                **more,
            }
        )

    baselines = department_baselines(session=session, settings=settings, before=since)
    for key, seen in citizens.items():
        baseline = baselines.get(key[1])
        unusual = baseline is not None and len(seen) > baseline.limit
        if len(seen) > settings.citizens_per_day_threshold or (
            unusual and len(seen) >= settings.citizens_per_day_floor
        ):
            add(
                "many-citizens",
                key,
                views[key],
                len(seen),
                baseline=asdict(baseline) if baseline else None,
            )
    every_one = {
        "outside-working-hours": outside,
        "no-own-case": no_case,
        "real-citizen-checked": _real_citizen_checks(session, since, until, zone),
    }
    for kind, groups in every_one.items():
        for key, seqs in groups.items():
            add(kind, key, seqs, len(seqs))
    for key, seqs in denials.items():
        if len(seqs) >= settings.denials_per_day_threshold:
            add("repeated-denials", key, seqs, len(seqs))
    return sorted(found, key=lambda a: (a["day"], a["kind"], a["actor"]))
