"""Build one citizen view: decide, ask only the permitted sources, release, merge, log."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from adapters.protocol import Adapter, FetchRequest
from consent.decision import AccessRequest, Decision, decide, local_day
from consent.needed import consent_needed
from gateway.access_log.service import (
    AccessEvent,
    AccessLogUnavailable,
    AuditContext,
    record_access_async,
)
from gateway.auth.actor import Actor
from gateway.consents.service import deciding_consents_read, to_read_model
from gateway.limits import Burst, flag_burst, judge_limits, limits_read
from gateway.problems import ProblemError
from gateway.runtime import Runtime
from gateway.views.compose import compose_view
from gateway.views.fanout import SourceAnswer, ask_sources
from gateway.views.release import release_permitted_fragments
from schemas.access import Action, Outcome, ReleaseLineFields
from schemas.consent import ConsentRead, ConsentRef
from schemas.fragment import Fragment
from schemas.view import CitizenView, Coverage, CoverageStatus, ViewRequest

logger = logging.getLogger("helhed.views")


async def _read_limits_and_consents(
    runtime: Runtime, actor: Actor, citizen: str, now: datetime
) -> tuple[list[ConsentRead], Burst | None]:
    """The user's limits (429 when over) and the citizen's consents as they are now, in one
    read transaction (gateway/view_reads.py). Never cached: a withdrawal counts from the very
    next request (rule 3)."""
    try:
        (counted,), rows = await runtime.view_reader.read(
            [
                limits_read(runtime=runtime, actor=actor, citizen=citizen, now=now),
                deciding_consents_read(protector=runtime.protector, citizen=citizen),
            ]
        )
    except SQLAlchemyError as error:
        # The limits are read from the log: no log, no view (rule 2).
        raise AccessLogUnavailable(type(error).__name__) from error
    burst = judge_limits(counted, runtime=runtime, citizen=citizen)
    today = local_day(now)
    return [to_read_model(row, runtime.protector, today) for row in rows], burst


def _fetch_plan(
    runtime: Runtime, decision: Decision, citizen: str
) -> list[tuple[Adapter, FetchRequest]]:
    """Only sources with at least one permitted category are asked at all (rule 1)."""
    deadline = runtime.settings.view_deadline_seconds
    plan = []
    for adapter in runtime.adapters.values():
        source = adapter.config
        permitted = decision.permitted_categories(source.department) & set(source.categories)
        if permitted:
            timeout = min(source.timeout or runtime.settings.source_timeout_seconds, deadline)
            plan.append((adapter, FetchRequest(citizen, frozenset(permitted), timeout)))
    return plan


class _Assembly:
    """Collects, source by source, what the view shows and what the access log records."""

    def __init__(self) -> None:
        self.fragments: list[Fragment] = []
        self.coverage: list[Coverage] = []
        self.lines: list[ReleaseLineFields] = []
        self.consents: set[ConsentRef] = set()
        self.dropped: dict[str, dict[str, int]] = {}
        self.rejected: dict[str, int] = {}
        self.unavailable: dict[str, str] = {}


def _assemble(
    runtime: Runtime,
    decision: Decision,
    answers: dict[str, SourceAnswer],
    citizen: str,
    request: AccessRequest,
) -> _Assembly:
    result = _Assembly()
    metrics = runtime.metrics
    purpose = runtime.catalog.purpose(request.purpose)
    assert purpose is not None  # checked before deciding
    for adapter in runtime.adapters.values():
        source = adapter.config
        rulings = [decision.ruling(source.department, c) for c in source.categories]
        permitted = sorted(r.category for r in rulings if r.permit)
        denied = sorted(r.category for r in rulings if not r.permit)
        answer = answers.get(source.name)
        per_category: Counter[str] = Counter()
        if answer is None:
            status, problem = CoverageStatus.NOT_COVERED, None
        elif answer.failure is not None:
            status, problem = CoverageStatus.UNAVAILABLE, answer.failure.code
            result.unavailable[source.name] = answer.failure.code
            metrics.source_failed(source.name, answer.failure.code)
        else:
            status, problem = CoverageStatus.INCLUDED, None
            released = release_permitted_fragments(
                answer.fragments,
                citizen=citizen,
                source=source,
                rulings={r.category: r for r in rulings},
            )
            result.fragments.extend(released.fragments)
            per_category.update(f.category for f in released.fragments)
            for reason, count in released.dropped.items():
                metrics.child(metrics.fragments_dropped, source.name, reason).inc(count)
            if released.dropped:
                result.dropped[source.name] = dict(released.dropped)
            if answer.rejected:
                result.rejected[source.name] = len(answer.rejected)
            result.consents.update(ref for r in rulings if r.permit for ref in r.consents)
            metrics.child(metrics.source_calls, source.name, "ok").inc()
        if answer is not None:
            metrics.child(metrics.source_latency, source.name).observe(answer.seconds)
        result.coverage.append(
            Coverage(
                source=source.name,
                department=source.department,
                status=status,
                categories=permitted if answer is not None else [],
                needs_consent_for=denied,
                consent_needed=consent_needed(
                    rulings,
                    requester_department=request.requester_department,
                    purpose=purpose,
                    special_categories=request.special_categories,
                ),
                fragments=sum(per_category.values()),
                problem=problem,
                as_of=answer.as_of if answer is not None else None,
                export_date=local_day(answer.as_of) if answer and answer.as_of else None,
            )
        )
        line_status = {
            CoverageStatus.INCLUDED: "released",
            CoverageStatus.UNAVAILABLE: "unavailable",
            CoverageStatus.NOT_COVERED: "not-asked",
        }[status]
        # As the entry's body gives them: validated there, in one go with the rest of it.
        result.lines.extend(
            {
                "source": source.name,
                "department": source.department,
                "category": r.category,
                "decision": "permit" if r.permit else "deny",
                "reason": r.reason.value,
                "status": line_status if r.permit else "not-asked",
                "fragments": per_category[r.category],
            }
            for r in rulings
        )
    return result


async def build_citizen_view(
    *, runtime: Runtime, actor: Actor, request: ViewRequest, context: AuditContext
) -> CitizenView:
    catalog = runtime.catalog
    if catalog.purpose(request.purpose) is None:
        raise ProblemError(
            422,
            "unknown_purpose",
            f"Unknown purpose {request.purpose!r}",
            citizen=request.citizen,
            purpose=request.purpose,
        )
    assert actor.department is not None  # the dependency admits caseworkers with a department
    # One moment for the whole decision: consent states and validity are judged at `decided_at`.
    decided_at = runtime.clock.now()
    consents, burst = await _read_limits_and_consents(runtime, actor, request.citizen, decided_at)
    if burst is not None:
        await run_in_threadpool(
            flag_burst, runtime=runtime, context=context, burst=burst, now=decided_at
        )
    asked = AccessRequest(
        citizen=request.citizen,
        requester_department=actor.department,
        purpose=request.purpose,
        scopes=frozenset(
            (adapter.config.department, category)
            for adapter in runtime.adapters.values()
            for category in adapter.config.categories
        ),
        special_categories=catalog.special_categories,
    )
    decision = decide(asked, consents, decided_at)
    answers = await ask_sources(
        _fetch_plan(runtime, decision, request.citizen), runtime.settings.view_deadline_seconds
    )
    assembly = _assemble(runtime, decision, answers, request.citizen, asked)
    consent_refs = sorted(assembly.consents, key=lambda ref: (ref.id, ref.version))
    now = runtime.clock.now()
    # Rule 2: the entry is durable before a single fragment leaves; if not, this raises. The
    # consents' use counts go up in the same transaction (one write per view, not two).
    seq = await record_access_async(
        engine=runtime.engine,
        protector=runtime.protector,
        context=context,
        event=AccessEvent(
            action=Action.VIEW,
            outcome=Outcome.SUCCESS,
            citizen=request.citizen,
            purpose=request.purpose,
            released=assembly.lines,
            consents=consent_refs,
            detail={
                key: value
                for key, value in {
                    "dropped": assembly.dropped,
                    "rejected": assembly.rejected,
                    "unavailable": assembly.unavailable,
                }.items()
                if value
            },
        ),
        now=now,
        count_consent_use=True,
    )
    runtime.metrics.child(runtime.metrics.views, "success").inc()
    return compose_view(
        citizen=request.citizen,
        purpose=request.purpose,
        fragments=assembly.fragments,
        coverage=assembly.coverage,
        catalog=catalog,
        insight_settings=runtime.settings.insights,
        own_department=actor.department,
        fetched_at=decided_at,
        now=now,
        consents=consent_refs,
        access_entry=seq,
    )
