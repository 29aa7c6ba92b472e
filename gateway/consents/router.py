"""/v1/consents: record, search, read and withdraw; each request leaves an access-log entry."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from consent.decision import local_day
from gateway.access_log.service import AccessEvent, append_entry, audited_write, record_access
from gateway.auth.actor import Actor
from gateway.consents import service
from gateway.consents.models import ConsentRow
from gateway.deps import (
    ConsentReader,
    ConsentRecorder,
    ConsentWithdrawer,
    RuntimeDep,
    SessionDep,
    audit_context,
)
from gateway.problems import ProblemError
from schemas.access import Action, Outcome
from schemas.consent import (
    ConsentCreate,
    ConsentList,
    ConsentRead,
    ConsentRef,
    ConsentSearch,
    ConsentWithdraw,
)
from schemas.problem import Problem

router = APIRouter(prefix="/v1/consents", tags=["consents"])

_PROBLEMS: dict[int | str, dict[str, object]] = {
    code: {"model": Problem, "content": {"application/problem+json": {}}}
    for code in (400, 401, 403, 404, 409, 422, 503)
}


def _ref(row: ConsentRow) -> ConsentRef:
    return ConsentRef(id=row.id, version=row.version)


def _visible_row(session: SessionDep, actor: Actor, consent_id: str) -> ConsentRow:
    row = service.latest_version(session=session, consent_id=consent_id)
    # A consent that does not involve the caller's department is not theirs to know about.
    if row is None or not service.is_party(actor, row):
        raise ProblemError(404, "consent_not_found", "No consent with that id is visible to you")
    return row


@router.post("", status_code=status.HTTP_201_CREATED, responses=_PROBLEMS)
def record_consent(
    data: ConsentCreate, request: Request, actor: ConsentRecorder, runtime: RuntimeDep
) -> ConsentRead:
    """Record a consent the citizen has given; it opens data from the next request on."""
    now = runtime.clock.now()
    with audited_write(runtime.engine) as session:
        row = service.record_consent(
            session=session,
            protector=runtime.protector,
            catalog=runtime.catalog,
            actor=actor,
            data=data,
            now=now,
        )
        seq = append_entry(
            session=session,
            protector=runtime.protector,
            context=audit_context(request, actor),
            event=AccessEvent(
                action=Action.CONSENT_RECORD,
                outcome=Outcome.SUCCESS,
                citizen=data.citizen,
                purpose=data.purpose,
                target=row.id,
                consents=[_ref(row)],
            ),
            now=now,
        )
        service.add_event(
            session=session, row=row, event="recorded", actor=actor, now=now, access_entry=seq
        )
        return service.to_read_model(row, runtime.protector, local_day(now))


@router.post("/search", responses=_PROBLEMS)
def search_consents(
    query: ConsentSearch,
    request: Request,
    actor: ConsentReader,
    runtime: RuntimeDep,
    session: SessionDep,
) -> ConsentList:
    """The citizen's consents that involve your department (the citizen travels in the body)."""
    today = local_day(runtime.clock.now())
    rows = service.consents_of_citizen(
        session=session, protector=runtime.protector, citizen=query.citizen
    )
    consents = [
        service.to_read_model(row, runtime.protector, today)
        for row in rows
        if service.is_party(actor, row)
    ]
    if query.status is not None:
        consents = [c for c in consents if c.status is query.status]
    record_access(
        engine=runtime.engine,
        protector=runtime.protector,
        context=audit_context(request, actor),
        event=AccessEvent(
            action=Action.CONSENT_SEARCH,
            outcome=Outcome.SUCCESS,
            citizen=query.citizen,
            consents=[ConsentRef(id=c.id, version=c.version) for c in consents],
        ),
        now=runtime.clock.now(),
    )
    return ConsentList(consents=consents)


@router.get("/{consent_id}", responses=_PROBLEMS)
def read_consent(
    consent_id: str,
    request: Request,
    actor: ConsentReader,
    runtime: RuntimeDep,
    session: SessionDep,
) -> ConsentRead:
    row = _visible_row(session, actor, consent_id)
    consent = service.to_read_model(row, runtime.protector, local_day(runtime.clock.now()))
    record_access(
        engine=runtime.engine,
        protector=runtime.protector,
        context=audit_context(request, actor),
        event=AccessEvent(
            action=Action.CONSENT_READ,
            outcome=Outcome.SUCCESS,
            citizen=consent.citizen,
            target=consent.id,
            consents=[_ref(row)],
        ),
        now=runtime.clock.now(),
    )
    return consent


@router.post("/{consent_id}/withdraw", responses=_PROBLEMS)
def withdraw_consent(
    consent_id: str,
    body: ConsentWithdraw,
    request: Request,
    actor: ConsentWithdrawer,
    runtime: RuntimeDep,
) -> ConsentRead:
    """Withdraw a consent; it stops opening data on the very next request, on every instance."""
    now = runtime.clock.now()
    with audited_write(runtime.engine) as session:
        row = _visible_row(session, actor, consent_id)
        row = service.withdraw_consent(
            session=session, row=row, actor=actor, reason=body.reason, now=now
        )
        consent = service.to_read_model(row, runtime.protector, local_day(now))
        seq = append_entry(
            session=session,
            protector=runtime.protector,
            context=audit_context(request, actor),
            event=AccessEvent(
                action=Action.CONSENT_WITHDRAW,
                outcome=Outcome.SUCCESS,
                citizen=consent.citizen,
                purpose=consent.purpose,
                target=row.id,
                consents=[_ref(row)],
                detail={"reason": body.reason},
            ),
            now=now,
        )
        service.add_event(
            session=session,
            row=row,
            event="withdrawn",
            actor=actor,
            now=now,
            access_entry=seq,
            reason=body.reason,
        )
        return consent
