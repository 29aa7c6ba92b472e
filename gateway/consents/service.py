"""Record, read, search and withdraw consents. Every function works inside the caller's session."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlmodel import Session, col, select

from consent.decision import local_day
from consent.rules import check_terms
from gateway.auth.actor import Actor
from gateway.consents.models import ConsentEventRow, ConsentRow
from gateway.cpr_protection import CprProtector
from gateway.problems import ProblemError
from schemas.catalog import Catalog
from schemas.consent import (
    ConsentCreate,
    ConsentRead,
    ConsentStatus,
    StaffRef,
    Withdrawal,
)


def staff_ref(actor: Actor) -> StaffRef:
    return StaffRef(subject=actor.subject, name=actor.name, department=actor.department)


def effective_status(row: ConsentRow, today: date) -> ConsentStatus:
    """An active consent past its end is expired, whether or not a job has marked it yet."""
    status = ConsentStatus(row.status)
    if status is ConsentStatus.ACTIVE and today > row.valid_until:
        return ConsentStatus.EXPIRED
    return status


def to_read_model(row: ConsentRow, protector: CprProtector, today: date) -> ConsentRead:
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
            "evidence": row.evidence,
            "recorded_by": row.recorded_by,
            "recorded_at": row.recorded_at,
            "withdrawal": row.withdrawal,
        }
    )


def is_party(actor: Actor, row: ConsentRow) -> bool:
    """A caseworker handles the consents that involve their own department, and no others."""
    return actor.department in row.from_departments or actor.department in row.to_departments


def record_consent(
    *,
    session: Session,
    protector: CprProtector,
    catalog: Catalog,
    actor: Actor,
    data: ConsentCreate,
    now: datetime,
) -> ConsentRow:
    """Check the consent against the catalogue and the purpose's caps, then store version 1."""
    violation = check_terms(data, catalog, local_day(now))
    if violation is not None:
        raise ProblemError(
            422,
            violation.code,
            violation.message,
            citizen=data.citizen,
            purpose=data.purpose,
            extra={"field": violation.field},
        )
    if actor.department not in {*data.from_departments, *data.to_departments}:
        raise ProblemError(
            403,
            "not_party_to_consent",
            "You may record consents only for sharing that involves your own department",
            citizen=data.citizen,
            purpose=data.purpose,
        )
    row = ConsentRow(
        id=str(uuid.uuid4()),
        version=1,
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
        evidence=data.evidence.model_dump(mode="json"),
        recorded_by=staff_ref(actor).model_dump(mode="json"),
        recorded_at=now,
    )
    session.add(row)
    session.flush()
    return row


def add_event(
    *,
    session: Session,
    row: ConsentRow,
    event: str,
    actor: Actor,
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
            by=staff_ref(actor).model_dump(mode="json"),
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


def consents_of_citizen(
    *, session: Session, protector: CprProtector, citizen: str
) -> list[ConsentRow]:
    return list(
        session.exec(
            select(ConsentRow)
            .where(ConsentRow.citizen_hash == protector.lookup_hash(citizen))
            .order_by(col(ConsentRow.recorded_at), col(ConsentRow.id), col(ConsentRow.version))
        )
    )


def withdraw_consent(
    *, session: Session, row: ConsentRow, actor: Actor, reason: str, now: datetime
) -> ConsentRow:
    """GDPR art. 7(3): as easy as giving it. The row keeps its content; its state changes."""
    status = effective_status(row, local_day(now))
    if status is not ConsentStatus.ACTIVE:
        raise ProblemError(
            409,
            "consent_not_active",
            f"The consent is {status.value} and cannot be withdrawn",
            extra={"consent_status": status.value},
        )
    row.status = ConsentStatus.WITHDRAWN
    row.withdrawal = Withdrawal(at=now, by=staff_ref(actor), reason=reason).model_dump(mode="json")
    session.add(row)
    session.flush()
    return row
