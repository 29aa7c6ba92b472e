"""/v1/consents: record, preview, search, read, version, withdraw and retract consents.

Every change is written together with its access-log entry and its lifecycle event in one
transaction; every read is logged before it is answered.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Request, status
from sqlmodel import Session

from consent.decision import local_day
from consent.preview import SourceScope, preview
from gateway.access_log.reads import log_read
from gateway.access_log.service import AccessEvent, append_entry, audited_write
from gateway.auth.actor import Actor
from gateway.consents import service
from gateway.consents.models import ConsentRow
from gateway.deps import (
    ConsentLister,
    ConsentReader,
    ConsentRecorder,
    ConsentRetractor,
    ConsentVersioner,
    ConsentWithdrawer,
    RuntimeDep,
    SessionDep,
    audit_context,
)
from gateway.problems import BEARER, JSON_BODY, ProblemError, problem_responses
from gateway.runtime import Runtime
from schemas.access import Action, Outcome
from schemas.consent import (
    ConsentChange,
    ConsentCreate,
    ConsentDetail,
    ConsentList,
    ConsentPreview,
    ConsentRead,
    ConsentRef,
    ConsentSearch,
    ConsentStatus,
    ConsentWithdraw,
)
from schemas.cpr import STORED

router = APIRouter(prefix="/v1/consents", tags=["consents"])

PROBLEMS = problem_responses(*BEARER, *JSON_BODY, 404, 409)


def handled_row(session: Session, runtime: Runtime, actor: Actor, consent_id: str) -> ConsentRow:
    """The newest version, if the caller may handle it; otherwise it does not exist for them."""
    row = service.latest_version(session=session, consent_id=consent_id)
    if row is None or not service.may_handle(actor, row, runtime.protector):
        raise ProblemError(404, "consent_not_found", "No consent with that id is visible to you")
    return row


def _log_change(
    *,
    session: Session,
    runtime: Runtime,
    request: Request,
    actor: Actor,
    action: Action,
    event: str,
    row: ConsentRow,
    citizen: str,
    now: datetime,
    reason: str | None = None,
    consents: list[ConsentRef] | None = None,
) -> int:
    """The access-log entry and the lifecycle event of one change, in the caller's transaction."""
    seq = append_entry(
        session=session,
        protector=runtime.protector,
        context=audit_context(request, actor),
        event=AccessEvent(
            action=action,
            outcome=Outcome.SUCCESS,
            citizen=citizen,
            purpose=row.purpose,
            target=row.id,
            consents=consents or [service.ref(row)],
            detail={"reason": reason} if reason else {},
        ),
        now=now,
    )
    service.add_event(
        session=session,
        row=row,
        event=event,
        by=service.staff_ref(actor),
        now=now,
        access_entry=seq,
        reason=reason,
    )
    return seq


def _change_state(
    *,
    runtime: Runtime,
    request: Request,
    actor: Actor,
    consent_id: str,
    action: Action,
    event: str,
    reason: str,
    change: Callable[[Session, ConsentRow, datetime], ConsentRow],
) -> ConsentRead:
    """A state transition of the newest version, with its entry and event, in one transaction."""
    now = runtime.clock.now()
    with audited_write(runtime.engine) as session:
        row = change(session, handled_row(session, runtime, actor, consent_id), now)
        _log_change(
            session=session,
            runtime=runtime,
            request=request,
            actor=actor,
            action=action,
            event=event,
            row=row,
            citizen=runtime.protector.decrypt(row.citizen_ciphertext),
            now=now,
            reason=reason,
        )
        # The answer shows how often the consent was used, as GET does (it showed 0).
        usage = service.usage_of(session=session, rows=[row]).get((row.id, row.version))
        return service.to_read_model(row, runtime.protector, local_day(now), usage)


@router.post("", status_code=status.HTTP_201_CREATED, responses=PROBLEMS)
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
        _log_change(
            session=session,
            runtime=runtime,
            request=request,
            actor=actor,
            action=Action.CONSENT_RECORD,
            event="recorded",
            row=row,
            citizen=data.citizen,
            now=now,
        )
        return service.to_read_model(row, runtime.protector, local_day(now))


@router.post("/preview", responses=PROBLEMS)
def preview_consent(
    data: ConsentCreate, request: Request, actor: ConsentRecorder, runtime: RuntimeDep
) -> ConsentPreview:
    """What this draft would open, per recipient, source and category; nothing is recorded."""
    now = runtime.clock.now()
    # The same rules as recording, so a preview never promises what recording would refuse.
    service.check_draft(data, catalog=runtime.catalog, actor=actor, now=now)
    draft = ConsentRead(
        **data.model_dump(),
        id="draft",
        status=ConsentStatus.ACTIVE,
        recorded_by=service.staff_ref(actor),
        recorded_at=now,
    )
    on = max(local_day(now), data.valid_from)
    sources = [
        SourceScope(a.config.name, a.config.department, tuple(a.config.categories))
        for a in runtime.adapters.values()
    ]
    lines = preview(draft, sources, runtime.catalog.special_categories, on)
    log_read(
        runtime=runtime,
        request=request,
        actor=actor,
        action=Action.CONSENT_PREVIEW,
        citizen=data.citizen,
        consents=[],
        detail={"purpose": data.purpose},
    )
    return ConsentPreview(evaluated_on=on, opens=lines)


@router.post("/search", responses=PROBLEMS)
def search_consents(
    query: ConsentSearch,
    request: Request,
    actor: ConsentLister,
    runtime: RuntimeDep,
    session: SessionDep,
) -> ConsentList:
    """A citizen's consents (the citizen travels in the body): those that involve your
    department, or, with a citizen's own token, their own and no one else's."""
    if actor.citizen is not None and actor.citizen != query.citizen:
        raise ProblemError(403, "not_your_consents", "A citizen may list only their own consents")
    today = local_day(runtime.clock.now())
    rows = [
        row
        for row in service.consents_of_citizen(
            session=session, protector=runtime.protector, citizen=query.citizen
        )
        if service.may_handle(actor, row, runtime.protector)
        and row.status != ConsentStatus.SUPERSEDED
    ]
    usage = service.usage_of(session=session, rows=rows)
    consents = [
        service.to_read_model(row, runtime.protector, today, usage.get((row.id, row.version)))
        for row in rows
    ]
    if query.status is not None:
        consents = [c for c in consents if c.status is query.status]
    log_read(
        runtime=runtime,
        request=request,
        actor=actor,
        action=Action.CONSENT_SEARCH,
        citizen=query.citizen,
        consents=[ConsentRef(id=c.id, version=c.version) for c in consents],
    )
    return ConsentList(consents=consents)


@router.get("/{consent_id}", responses=PROBLEMS)
def read_consent(
    consent_id: str,
    request: Request,
    actor: ConsentReader,
    runtime: RuntimeDep,
    session: SessionDep,
) -> ConsentDetail:
    """The newest version, every earlier version, and every lifecycle event."""
    handled_row(session, runtime, actor, consent_id)
    today = local_day(runtime.clock.now())
    rows = service.all_versions(session=session, consent_id=consent_id)
    usage = service.usage_of(session=session, rows=rows)
    versions = [
        service.to_read_model(row, runtime.protector, today, usage.get((row.id, row.version)))
        for row in rows
    ]
    newest = versions[-1]
    log_read(
        runtime=runtime,
        request=request,
        actor=actor,
        action=Action.CONSENT_READ,
        citizen=newest.citizen,
        target=consent_id,
        consents=[ConsentRef(id=v.id, version=v.version) for v in versions],
    )
    return ConsentDetail.model_validate(
        {
            **newest.model_dump(),
            "versions": versions,
            "events": service.events_of(session=session, consent_id=consent_id),
        },
        context=STORED,
    )


@router.post("/{consent_id}/versions", status_code=status.HTTP_201_CREATED, responses=PROBLEMS)
def version_consent(
    consent_id: str,
    change: ConsentChange,
    request: Request,
    actor: ConsentVersioner,
    runtime: RuntimeDep,
) -> ConsentRead:
    """Extend, narrow or correct: a new version that supersedes the current one."""
    now = runtime.clock.now()
    with audited_write(runtime.engine) as session:
        current = handled_row(session, runtime, actor, consent_id)
        citizen = runtime.protector.decrypt(current.citizen_ciphertext)
        row = service.new_version(
            session=session,
            protector=runtime.protector,
            catalog=runtime.catalog,
            actor=actor,
            current=current,
            change=change,
            now=now,
        )
        seq = _log_change(
            session=session,
            runtime=runtime,
            request=request,
            actor=actor,
            action=Action.CONSENT_VERSION,
            event="recorded",
            row=row,
            citizen=citizen,
            now=now,
            reason=change.reason,
            consents=[service.ref(current), service.ref(row)],
        )
        service.add_event(
            session=session,
            row=current,
            event="superseded",
            by=service.staff_ref(actor),
            now=now,
            access_entry=seq,
            reason=f"superseded by version {row.version}",
        )
        return service.to_read_model(row, runtime.protector, local_day(now))


@router.post("/{consent_id}/withdraw", responses=PROBLEMS)
def withdraw_consent(
    consent_id: str,
    body: ConsentWithdraw,
    request: Request,
    actor: ConsentWithdrawer,
    runtime: RuntimeDep,
) -> ConsentRead:
    """Withdraw a consent; it stops opening data on the very next request, on every instance.
    A citizen can withdraw their own consents with their own token."""
    return _change_state(
        runtime=runtime,
        request=request,
        actor=actor,
        consent_id=consent_id,
        action=Action.CONSENT_WITHDRAW,
        event="withdrawn",
        reason=body.reason,
        change=lambda session, row, now: service.withdraw_consent(
            session=session, row=row, actor=actor, reason=body.reason, now=now
        ),
    )


@router.post("/{consent_id}/entered-in-error", responses=PROBLEMS)
def retract_consent(
    consent_id: str,
    body: ConsentWithdraw,
    request: Request,
    actor: ConsentRetractor,
    runtime: RuntimeDep,
) -> ConsentRead:
    """Mark a consent recorded by mistake; unlike a withdrawal, it says it never held."""
    return _change_state(
        runtime=runtime,
        request=request,
        actor=actor,
        consent_id=consent_id,
        action=Action.CONSENT_ENTERED_IN_ERROR,
        event="entered-in-error",
        reason=body.reason,
        change=lambda session, row, _now: service.mark_entered_in_error(session=session, row=row),
    )
