"""Anomaly reports for the DPO: patterns in the log that deserve a question, not a verdict.

- many citizens: an actor viewed more distinct citizens in a day than the configured threshold
- outside hours: views outside the configured working hours or working days
- no own case: views of a citizen of whom the actor's own department holds nothing
- repeated denials: an actor refused at least the threshold number of times in a day
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlmodel import Session, col, select

from gateway.access_log.config import AuditSettings
from gateway.access_log.models import PRUNED, AccessEntryRow

MAX_ENTRIES = 200_000


def _local(at: datetime, zone: ZoneInfo) -> datetime:
    return at.astimezone(zone) if at.tzinfo else at.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)


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
        hours = settings.working_hours_start <= local.time() < settings.working_hours_end
        if not hours or local.isoweekday() not in settings.working_days:
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

    def add(kind: str, key: tuple[str, str, str], seqs: list[int], count: int) -> None:
        actor, department, day = key
        found.append(
            {
                "kind": kind,
                "actor": actor,
                "department": department or None,
                "day": day,
                "count": count,
                "entries": seqs[:100],
            }
        )

    for key, seen in citizens.items():
        if len(seen) > settings.citizens_per_day_threshold:
            add("many-citizens", key, views[key], len(seen))
    for key, seqs in outside.items():
        add("outside-working-hours", key, seqs, len(seqs))
    for key, seqs in no_case.items():
        add("no-own-case", key, seqs, len(seqs))
    for key, seqs in denials.items():
        if len(seqs) >= settings.denials_per_day_threshold:
            add("repeated-denials", key, seqs, len(seqs))
    return sorted(found, key=lambda a: (a["day"], a["kind"], a["actor"]))
