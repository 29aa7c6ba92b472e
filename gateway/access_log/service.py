"""Append to, read and verify the access log."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from gateway.access_log.chain import canonical_body, chain_hash
from gateway.access_log.models import GENESIS_HASH, AccessEntryRow, LogHeadRow
from gateway.cpr_protection import CprProtector
from gateway.db import write_session
from schemas.access import (
    AccessEntryBody,
    AccessEntryRead,
    Action,
    ActorRecord,
    Outcome,
    ReleaseLine,
    VerifyReport,
)
from schemas.consent import ConsentRef


class AccessLogUnavailable(Exception):
    """The entry could not be made durable; the request must release nothing."""


@dataclass(frozen=True)
class AuditContext:
    """Who is asking, from where, in which request: the same for every entry a request writes."""

    actor: ActorRecord
    request_id: str
    instance: str


@dataclass
class AccessEvent:
    action: Action
    outcome: Outcome
    reason: str | None = None
    purpose: str | None = None
    citizen: str | None = None
    target: str | None = None
    released: list[ReleaseLine] = field(default_factory=list)
    consents: list[ConsentRef] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)


def append_entry(
    *,
    session: Session,
    protector: CprProtector,
    context: AuditContext,
    event: AccessEvent,
    now: datetime,
) -> int:
    """Append one entry inside the caller's write transaction; returns its position."""
    head = session.exec(select(LogHeadRow).where(LogHeadRow.id == 1).with_for_update()).one()
    body = AccessEntryBody(
        seq=head.size + 1,
        at=now,
        action=event.action,
        outcome=event.outcome,
        reason=event.reason,
        actor=context.actor,
        purpose=event.purpose,
        citizen_hash=protector.lookup_hash(event.citizen) if event.citizen else None,
        citizen_ciphertext=protector.encrypt(event.citizen) if event.citizen else None,
        target=event.target,
        released=event.released,
        consents=event.consents,
        request_id=context.request_id,
        instance=context.instance,
        detail=event.detail,
    )
    canonical = canonical_body(body)
    digest = chain_hash(head.head_hash, canonical)
    session.add(
        AccessEntryRow(
            seq=body.seq,
            at=now,
            action=body.action,
            outcome=body.outcome,
            actor_subject=context.actor.subject,
            actor_department=context.actor.department,
            citizen_hash=body.citizen_hash,
            body=canonical,
            hash=digest,
        )
    )
    head.size, head.head_hash = body.seq, digest
    session.add(head)
    session.flush()
    return body.seq


@contextmanager
def audited_write(engine: Engine) -> Iterator[Session]:
    """A write transaction whose failure, wherever it happens, means: nothing was written."""
    try:
        with write_session(engine) as session:
            yield session
    except SQLAlchemyError as error:
        raise AccessLogUnavailable(type(error).__name__) from error


def record_access(
    *,
    engine: Engine,
    protector: CprProtector,
    context: AuditContext,
    event: AccessEvent,
    now: datetime,
) -> int:
    """Append one entry in a transaction of its own and make it durable."""
    with audited_write(engine) as session:
        return append_entry(
            session=session, protector=protector, context=context, event=event, now=now
        )


def to_read_model(row: AccessEntryRow, protector: CprProtector) -> AccessEntryRead:
    body = AccessEntryBody.model_validate_json(row.body)
    return AccessEntryRead(
        seq=body.seq,
        at=body.at,
        action=body.action,
        outcome=body.outcome,
        reason=body.reason,
        actor=body.actor,
        purpose=body.purpose,
        citizen=protector.decrypt(body.citizen_ciphertext) if body.citizen_ciphertext else None,
        target=body.target,
        released=body.released,
        consents=body.consents,
        request_id=body.request_id,
        instance=body.instance,
        detail=body.detail,
        hash=row.hash,
    )


@dataclass(frozen=True)
class EntryFilter:
    actor: str | None = None
    department: str | None = None
    action: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    citizen_hash: str | None = None


def list_entries(
    *, session: Session, where: EntryFilter, before: int | None, limit: int
) -> list[AccessEntryRow]:
    """Newest first; `before` is the keyset cursor (a position)."""
    query = select(AccessEntryRow)
    conditions = [
        (where.actor, col(AccessEntryRow.actor_subject)),
        (where.department, col(AccessEntryRow.actor_department)),
        (where.action, col(AccessEntryRow.action)),
        (where.outcome, col(AccessEntryRow.outcome)),
        (where.citizen_hash, col(AccessEntryRow.citizen_hash)),
    ]
    for value, column in conditions:
        if value is not None:
            query = query.where(column == value)
    if where.since is not None:
        query = query.where(col(AccessEntryRow.at) >= where.since)
    if where.until is not None:
        query = query.where(col(AccessEntryRow.at) < where.until)
    if before is not None:
        query = query.where(col(AccessEntryRow.seq) < before)
    query = query.order_by(col(AccessEntryRow.seq).desc()).limit(limit)
    return list(session.exec(query))


def _index_mismatch(row: AccessEntryRow, body: dict[str, Any]) -> str | None:
    """The indexed columns must say what the body says, or filters could hide an entry."""
    actor = body.get("actor") or {}
    expected = {
        "action": body.get("action"),
        "outcome": body.get("outcome"),
        "actor_subject": actor.get("subject"),
        "actor_department": actor.get("department"),
        "citizen_hash": body.get("citizen_hash"),
    }
    for name, value in expected.items():
        if getattr(row, name) != value:
            return f"column {name} does not match the entry"
    return None


def verify_chain(
    *, session: Session, batch: int = 5000, progress: Callable[[int, int], None] | None = None
) -> VerifyReport:
    """Recompute every hash from the stored bodies and name the first entry that fails."""
    head = session.exec(select(LogHeadRow).where(LogHeadRow.id == 1)).one()
    total = session.exec(select(func.count()).select_from(AccessEntryRow)).one()
    previous, expected_seq, checked = GENESIS_HASH, 1, 0

    def failed(seq: int, reason: str) -> VerifyReport:
        return VerifyReport(ok=False, entries=total, first_bad=seq, reason=reason, head=previous)

    while True:
        rows = session.exec(
            select(AccessEntryRow)
            .where(col(AccessEntryRow.seq) >= expected_seq)
            .order_by(col(AccessEntryRow.seq))
            .limit(batch)
        ).all()
        if not rows:
            break
        for row in rows:
            if row.seq != expected_seq:
                return failed(expected_seq, f"entry {expected_seq} is missing")
            try:
                body = json.loads(row.body)
            except ValueError:
                return failed(row.seq, "the entry is not valid JSON")
            if body.get("seq") != row.seq:
                return failed(row.seq, "the entry's position does not match its place")
            digest = chain_hash(previous, row.body)
            if digest != row.hash:
                return failed(row.seq, "the entry's hash does not match its content")
            mismatch = _index_mismatch(row, body)
            if mismatch:
                return failed(row.seq, mismatch)
            previous, expected_seq, checked = digest, expected_seq + 1, checked + 1
        if progress:
            progress(checked, total)
        session.expunge_all()
    if head.size != checked:
        return failed(checked + 1, f"the log head records {head.size} entries, {checked} found")
    if head.head_hash != previous:
        return failed(checked, "the log head's hash does not match the last entry")
    return VerifyReport(ok=True, entries=checked, first_bad=None, head=previous)
