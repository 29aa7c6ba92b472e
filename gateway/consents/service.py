"""Record, version, withdraw, retract and expire consents; read them with history and usage.

Every function works inside the caller's session; the routers pair each change with its
access-log entry in the same transaction, so a change is never without its entry.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select, bindparam
from sqlmodel import Session, col, select

from consent.decision import local_day
from consent.rules import Violation, check_terms
from gateway.auth.actor import Actor
from gateway.consents.models import ConsentEventRow, ConsentRow, ConsentUsageRow
from gateway.cpr_protection import CprProtector
from gateway.problems import ProblemError, domain_code, field_errors
from schemas.catalog import Catalog
from schemas.consent import (
    ConsentChange,
    ConsentCreate,
    ConsentEvent,
    ConsentRead,
    ConsentRef,
    ConsentStatus,
    StaffRef,
    Withdrawal,
)
from schemas.cpr import STORED

# States that never open data and are left out of decisions altogether.
NOT_DECIDING = (ConsentStatus.SUPERSEDED.value, ConsentStatus.ENTERED_IN_ERROR.value)
SYSTEM = StaffRef(subject="system:scheduler", name="Helhed")


def staff_ref(actor: Actor) -> StaffRef:
    if actor.citizen is not None:
        return StaffRef(subject="citizen", name="The citizen")  # never the CPR in clear
    return StaffRef(subject=actor.subject, name=actor.name, department=actor.department)


def effective_status(row: ConsentRow, today: date) -> ConsentStatus:
    """An active consent past its end is expired, whether or not the job has marked it yet."""
    status = ConsentStatus(row.status)
    if status is ConsentStatus.ACTIVE and today > row.valid_until:
        return ConsentStatus.EXPIRED
    return status


def ref(row: ConsentRow) -> ConsentRef:
    return ConsentRef(id=row.id, version=row.version)


def to_read_model(
    row: ConsentRow, protector: CprProtector, today: date, usage: ConsentUsageRow | None = None
) -> ConsentRead:
    return ConsentRead.model_validate(
        {
            "id": row.id,
            "version": row.version,
            "status": effective_status(row, today),
            "citizen": protector.decrypt(row.citizen_ciphertext),
            "given_by": row.given_by,
            "from_departments": row.from_departments,
            "to_departments": row.to_departments,
            "categories": row.categories,
            "purpose": row.purpose,
            "valid_from": row.valid_from,
            "valid_until": row.valid_until,
            "case_ref": row.case_ref,
            "data_period": row.data_period,
            "legal_basis": row.legal_basis,
            "notice_version": row.notice_version,
            "evidence": row.evidence,
            "recorded_by": row.recorded_by,
            "recorded_at": row.recorded_at,
            "withdrawal": row.withdrawal,
            "version_reason": row.version_reason,
            "use_count": usage.use_count if usage else 0,
            "last_used_at": usage.last_used_at if usage else None,
        },
        context=STORED,
    )


def may_handle(actor: Actor, row: ConsentRow, protector: CprProtector) -> bool:
    """Caseworkers handle consents that involve their department; a citizen only their own."""
    if actor.citizen is not None:
        return row.citizen_hash == protector.lookup_hash(actor.citizen)
    return actor.department in row.from_departments or actor.department in row.to_departments


def _refuse(violation: Violation, data: ConsentCreate) -> ProblemError:
    extra: dict[str, Any] = {"field": violation.field}
    if violation.cap is not None:
        extra["cap"] = violation.cap
    return ProblemError(
        422,
        violation.code,
        violation.message,
        citizen=data.citizen,
        purpose=data.purpose,
        extra=extra,
    )


def check_draft(data: ConsentCreate, *, catalog: Catalog, actor: Actor, now: datetime) -> None:
    """Every rule a consent must meet before it is recorded (or previewed)."""
    violation = check_terms(data, catalog, local_day(now))
    if violation is not None:
        raise _refuse(violation, data)
    if actor.department not in {*data.from_departments, *data.to_departments}:
        raise ProblemError(
            403,
            "not_party_to_consent",
            "You may record consents only for sharing that involves your own department",
            citizen=data.citizen,
            purpose=data.purpose,
        )


def _new_row(
    *,
    consent_id: str,
    version: int,
    data: ConsentCreate,
    protector: CprProtector,
    catalog: Catalog,
    actor: Actor,
    now: datetime,
    reason: str | None,
) -> ConsentRow:
    purpose = catalog.purpose(data.purpose)
    return ConsentRow(
        id=consent_id,
        version=version,
        status=ConsentStatus.ACTIVE,
        citizen_hash=protector.lookup_hash(data.citizen),
        citizen_ciphertext=protector.encrypt(data.citizen),
        given_by=data.given_by.model_dump(mode="json"),
        from_departments=data.from_departments,
        to_departments=data.to_departments,
        categories=data.categories,
        purpose=data.purpose,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        case_ref=data.case_ref,
        data_period=data.data_period.model_dump(mode="json") if data.data_period else None,
        legal_basis=data.legal_basis or (purpose.legal_basis if purpose else None) or None,
        notice_version=data.notice_version,
        evidence=data.evidence.model_dump(mode="json"),
        recorded_by=staff_ref(actor).model_dump(mode="json"),
        recorded_at=now,
        version_reason=reason,
    )


def record_consent(
    *,
    session: Session,
    protector: CprProtector,
    catalog: Catalog,
    actor: Actor,
    data: ConsentCreate,
    now: datetime,
) -> ConsentRow:
    """Check the consent against the catalogue and its purpose's caps, then store version 1."""
    check_draft(data, catalog=catalog, actor=actor, now=now)
    row = _new_row(
        consent_id=str(uuid.uuid4()),
        version=1,
        data=data,
        protector=protector,
        catalog=catalog,
        actor=actor,
        now=now,
        reason=None,
    )
    session.add(row)
    session.add(ConsentUsageRow(consent_id=row.id, version=1))
    session.flush()
    return row


def _require_active(row: ConsentRow, now: datetime, doing: str) -> None:
    status = effective_status(row, local_day(now))
    if status is not ConsentStatus.ACTIVE:
        raise ProblemError(
            409,
            "consent_not_active",
            f"The consent is {status.value} and cannot be {doing}",
            extra={"consent_status": status.value},
        )


def new_version(
    *,
    session: Session,
    protector: CprProtector,
    catalog: Catalog,
    actor: Actor,
    current: ConsentRow,
    change: ConsentChange,
    now: datetime,
) -> ConsentRow:
    """Extend, narrow or correct: the change becomes version n+1 and supersedes version n."""
    _require_active(current, now, "changed; record a new consent instead")
    changed = change.model_dump(exclude={"reason"}, exclude_none=True)
    if not changed:
        raise ProblemError(422, "nothing_changed", "Name at least one field that changes")
    base = to_read_model(current, protector, local_day(now))
    try:
        merged = ConsentCreate.model_validate(
            {**base.model_dump(include=set(ConsentCreate.model_fields)), **changed},
            context=STORED,  # the changed fields were checked as the change's own
        )
    except ValidationError as error:  # e.g. a new end before the old start
        errors = field_errors(list(error.errors()))
        raise ProblemError(
            422,
            domain_code(errors),
            "; ".join(f"{e['location']}: {e['message']}" for e in errors),
            citizen=base.citizen,
            extra={"errors": errors},
        ) from None
    check_draft(merged, catalog=catalog, actor=actor, now=now)
    row = _new_row(
        consent_id=current.id,
        version=current.version + 1,
        data=merged,
        protector=protector,
        catalog=catalog,
        actor=actor,
        now=now,
        reason=change.reason,
    )
    current.status = ConsentStatus.SUPERSEDED
    session.add(current)
    session.add(row)
    session.add(ConsentUsageRow(consent_id=row.id, version=row.version))
    session.flush()
    return row


def withdraw_consent(
    *, session: Session, row: ConsentRow, actor: Actor, reason: str, now: datetime
) -> ConsentRow:
    """GDPR art. 7(3): as easy as giving it. The content stays; the state changes."""
    _require_active(row, now, "withdrawn")
    row.status = ConsentStatus.WITHDRAWN
    row.withdrawal = Withdrawal(at=now, by=staff_ref(actor), reason=reason).model_dump(mode="json")
    session.add(row)
    session.flush()
    return row


def mark_entered_in_error(*, session: Session, row: ConsentRow) -> ConsentRow:
    """Recorded by mistake (wrong citizen, never given): it never opened data lawfully."""
    if row.status == ConsentStatus.ENTERED_IN_ERROR:
        raise ProblemError(
            409,
            "consent_not_active",
            "The consent is already marked entered-in-error",
            extra={"consent_status": row.status},
        )
    if row.status == ConsentStatus.SUPERSEDED:
        raise ProblemError(
            409,
            "consent_not_active",
            "Only the newest version can be marked",
            extra={"consent_status": row.status},
        )
    row.status = ConsentStatus.ENTERED_IN_ERROR
    session.add(row)
    session.flush()
    return row


def due_for_expiry(*, session: Session, today: date) -> list[ConsentRow]:
    return list(
        session.exec(
            select(ConsentRow)
            .where(ConsentRow.status == ConsentStatus.ACTIVE)
            .where(col(ConsentRow.valid_until) < today)
        )
    )


def mark_expired(*, session: Session, row: ConsentRow) -> None:
    row.status = ConsentStatus.EXPIRED
    session.add(row)
    session.flush()


def add_event(
    *,
    session: Session,
    row: ConsentRow,
    event: str,
    by: StaffRef,
    now: datetime,
    access_entry: int,
    reason: str | None = None,
) -> None:
    session.add(
        ConsentEventRow(
            consent_id=row.id,
            version=row.version,
            event=event,
            at=now,
            by=by.model_dump(mode="json"),
            reason=reason,
            access_entry=access_entry,
        )
    )


def latest_version(*, session: Session, consent_id: str) -> ConsentRow | None:
    return session.exec(
        select(ConsentRow)
        .where(ConsentRow.id == consent_id)
        .order_by(col(ConsentRow.version).desc())
        .limit(1)
    ).first()


def all_versions(*, session: Session, consent_id: str) -> list[ConsentRow]:
    return list(
        session.exec(
            select(ConsentRow).where(ConsentRow.id == consent_id).order_by(col(ConsentRow.version))
        )
    )


def events_of(*, session: Session, consent_id: str) -> list[ConsentEvent]:
    rows = session.exec(
        select(ConsentEventRow)
        .where(ConsentEventRow.consent_id == consent_id)
        .order_by(col(ConsentEventRow.id))
    )
    return [
        ConsentEvent(
            event=r.event,
            version=r.version,
            at=r.at,
            by=StaffRef.model_validate(r.by),
            reason=r.reason,
            access_entry=r.access_entry,
        )
        for r in rows
    ]


def usage_of(
    *, session: Session, rows: Iterable[ConsentRow]
) -> dict[tuple[str, int], ConsentUsageRow]:
    ids = {row.id for row in rows}
    if not ids:
        return {}
    found = session.exec(select(ConsentUsageRow).where(col(ConsentUsageRow.consent_id).in_(ids)))
    return {(u.consent_id, u.version): u for u in found}


def consents_of_citizen(
    *, session: Session, protector: CprProtector, citizen: str, deciding: bool = False
) -> list[ConsentRow]:
    """All of a citizen's consent rows; for a decision, only those that can matter to it."""
    query = select(ConsentRow).where(ConsentRow.citizen_hash == protector.lookup_hash(citizen))
    if deciding:
        query = query.where(col(ConsentRow.status).not_in(NOT_DECIDING))
    return list(
        session.exec(
            query.order_by(col(ConsentRow.recorded_at), col(ConsentRow.id), col(ConsentRow.version))
        )
    )


_CONSENT = ConsentRow.__table__.c  # type: ignore[attr-defined]
_DECIDING = (
    select(ConsentRow.__table__)  # type: ignore[arg-type]
    .where(_CONSENT.citizen_hash == bindparam("citizen_hash"))
    .where(_CONSENT.status.not_in(NOT_DECIDING))
    .order_by(_CONSENT.recorded_at, _CONSENT.id, _CONSENT.version)
)


def deciding_consents_read(
    *, protector: CprProtector, citizen: str
) -> tuple[Select[Any], dict[str, Any]]:
    """The statement for the rows a decision about the citizen needs (what
    consents_of_citizen(deciding=True) gives), and its parameters: a view asks on every
    request, so it reads plain rows (gateway/view_reads.py), never ORM objects."""
    return _DECIDING, {"citizen_hash": protector.lookup_hash(citizen)}
