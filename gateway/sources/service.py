"""Sources at a glance, and a check that connects, maps real records and lists every problem."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from adapters.csv_drop import CsvDropAdapter
from adapters.protocol import Adapter, FetchRequest, Health, SourceConfig, SourceUnavailable
from adapters.resilience import Resilient, unwrap
from gateway.access_log.service import AccessEvent, AuditContext, record_access
from gateway.problems import ProblemError
from gateway.runtime import Runtime
from gateway.sources.health import check_within, last_checks
from gateway.sources.models import SourceHealthRow
from gateway.sources.schemas import (
    CheckProblem,
    CheckReport,
    ExportRead,
    HealthRead,
    LastErrorRead,
    RejectedLine,
    ScheduledCheckRead,
    SourceStatus,
)
from gateway.views.release import every_category_of, release_permitted_fragments
from schemas.access import Action, Outcome, ReleaseLine
from schemas.fragment import Fragment

logger = logging.getLogger("helhed.sources")

HEALTH_CHECK_SECONDS = 5.0
CHECK_FETCH_SECONDS = 10.0


async def _health(adapter: Adapter) -> Health:
    return await check_within(adapter, HEALTH_CHECK_SECONDS)


def _export(adapter: Adapter) -> ExportRead | None:
    inner = unwrap(adapter)
    if not isinstance(inner, CsvDropAdapter) or inner.store is None:
        return None
    current = inner.store.current(inner.config.name)
    if current is None:
        return None
    return ExportRead(
        file_name=current.file_name,
        exported_at=current.exported_at,
        export_date=inner.export_date(current.exported_at),
        imported_at=current.imported_at,
        rows=current.rows,
        imported=current.imported,
        rejected=[RejectedLine(line=r.record, problem=r.problem) for r in current.rejected],
    )


def _status(
    adapter: Adapter, health: Health, export: ExportRead | None, last: SourceHealthRow | None
) -> SourceStatus:
    config = adapter.config
    status = SourceStatus(
        name=config.name,
        kind=config.kind,
        department=config.department,
        categories=list(config.categories),
        health=HealthRead(
            healthy=health.healthy, detail=health.detail, latency_ms=health.latency_ms
        ),
        breaker="closed",
        export=export,
    )
    if last is not None:
        status.last_checked_at = last.checked_at
        status.last_check = ScheduledCheckRead(
            healthy=last.ok,
            detail=last.detail,
            latency_ms=last.latency_ms,
            checked_by=last.checked_by,
        )
    if isinstance(adapter, Resilient):
        stats = adapter.stats
        status.breaker = adapter.breaker.state.value
        status.last_success = stats.last_success
        status.calls, status.failures = stats.calls, stats.failures
        status.latency_ms = stats.latency_ms()
        if stats.last_error is not None:
            error = stats.last_error
            status.last_error = LastErrorRead(at=error.at, code=error.code, message=error.message)
    return status


async def source_statuses(*, runtime: Runtime) -> list[SourceStatus]:
    """Every source, health-checked now (all at once), with what this process has seen of it
    and the last scheduled check (the same on every instance)."""
    adapters = list(runtime.adapters.values())
    healths = await asyncio.gather(*(_health(adapter) for adapter in adapters))
    exports = await run_in_threadpool(lambda: [_export(adapter) for adapter in adapters])
    try:
        scheduled = await run_in_threadpool(last_checks, engine=runtime.engine)
    except SQLAlchemyError as error:
        # IT operations look at the sources most when things fail: without the database the
        # page still shows the health asked now, as it did before there was a scheduled check.
        logger.warning("last scheduled source checks unreadable: %s", type(error).__name__)
        scheduled = {}
    return [
        _status(adapter, health, export, scheduled.get(adapter.config.name))
        for adapter, health, export in zip(adapters, healths, exports, strict=True)
    ]


def find_source(runtime: Runtime, name: str) -> Adapter:
    adapter = runtime.adapters.get(name)
    if adapter is None:
        raise ProblemError(404, "unknown_source", f"No source is named {name!r}")
    return adapter


@dataclass
class _Findings:
    fragments: list[Fragment] = field(default_factory=list)
    problems: list[CheckProblem] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)


def _validate_export(inner: CsvDropAdapter, findings: _Findings) -> None:
    """A csv_drop's newest file through the mapping, every row, as the import would do it."""
    newest = inner.newest_export() if inner.options.folder.is_dir() else None
    if newest is None:
        findings.problems.append(
            CheckProblem(where="export", code="no_export", problem="no export in the folder")
        )
        return
    try:
        parsed = inner.parse(newest)
    except SourceUnavailable as failure:
        findings.problems.append(
            CheckProblem(where=newest.path.name, code=failure.code, problem=failure.message)
        )
        return
    findings.problems.extend(
        CheckProblem(
            where=f"{newest.path.name} line {r.record}", code="rejected", problem=r.problem
        )
        for r in parsed.rejected
    )


async def _fetch_citizen(adapter: Adapter, citizen: str, findings: _Findings) -> None:
    # The kind itself, past the breaker: IT operations test a source most when it is failing.
    inner = unwrap(adapter)
    config = adapter.config
    request = FetchRequest(citizen, frozenset(config.categories), CHECK_FETCH_SECONDS)
    try:
        result = await asyncio.wait_for(inner.fetch(request), CHECK_FETCH_SECONDS)
    except TimeoutError:
        findings.problems.append(
            CheckProblem(where="fetch", code="timeout", problem="no answer within 10 s")
        )
        return
    except SourceUnavailable as failure:
        findings.problems.append(
            CheckProblem(where="fetch", code=failure.code, problem=failure.message)
        )
        return
    findings.problems.extend(
        CheckProblem(where=f"record {r.record}", code="rejected", problem=r.problem)
        for r in result.rejected
    )
    released = release_permitted_fragments(
        result.fragments,
        citizen=citizen,
        source=config,
        rulings=every_category_of(config),
    )
    findings.fragments = released.fragments
    findings.dropped = dict(released.dropped)
    # Fragments about someone else are a fault of the source, and never shown.
    findings.problems.extend(
        CheckProblem(where="fetch", code=reason, problem=f"{count} fragment(s) dropped: {reason}")
        for reason, count in released.dropped.items()
    )


class NotATestCitizen(ProblemError):
    """IT operations named a CPR that is not one of the source's synthetic test citizens."""

    def __init__(self, source: SourceConfig, citizen: str) -> None:
        known = len(source.test_citizens)
        super().__init__(
            403,
            "not_a_test_citizen",
            f"A source check reads only the test citizens configured for {source.name} "
            f"({known} configured: `test_citizens` in its configuration). IT operations never "
            "see a real person's case; the attempt is in the access log.",
            citizen=citizen,
        )


def require_test_citizen(source: SourceConfig, citizen: str) -> None:
    """Rule 1 for IT operations: no consent lets itops read a real person's data, so a check
    may read only synthetic records; naming anyone else is refused (and logged, as a refusal
    that names the citizen, for their insight report and the DPO's anomalies)."""
    if citizen not in source.test_citizens:
        raise NotATestCitizen(source, citizen)


async def check_source(
    *, runtime: Runtime, name: str, citizen: str | None, context: AuditContext
) -> CheckReport:
    adapter = find_source(runtime, name)
    config = adapter.config
    if citizen is not None:
        require_test_citizen(config, citizen)
    findings = _Findings()
    health = await _health(adapter)
    if isinstance(adapter, Resilient):
        adapter.stats.last_health = health
    if not health.healthy:
        findings.problems.append(
            CheckProblem(where="connection", code="unhealthy", problem=health.detail)
        )
    inner = unwrap(adapter)
    if isinstance(inner, CsvDropAdapter):
        await run_in_threadpool(_validate_export, inner, findings)
    seq = None
    if citizen is not None:
        await _fetch_citizen(adapter, citizen, findings)
        # Rule 2: a check that read a (test) citizen's records is logged before they are shown.
        seq = await run_in_threadpool(
            record_access,
            engine=runtime.engine,
            protector=runtime.protector,
            context=context,
            event=AccessEvent(
                action=Action.SOURCE_CHECK,
                outcome=Outcome.SUCCESS,
                citizen=citizen,
                target=config.name,
                released=[
                    ReleaseLine(
                        source=config.name,
                        department=config.department,
                        category=category,
                        decision="permit",
                        reason="source-check",
                        status="released",
                        fragments=sum(1 for f in findings.fragments if f.category == category),
                    )
                    for category in config.categories
                ],
                detail={
                    "problems": len(findings.problems),
                    "dropped": findings.dropped,
                    "test_citizen": True,
                },
            ),
            now=runtime.clock.now(),
        )
    return CheckReport(
        source=config.name,
        kind=config.kind,
        department=config.department,
        health=HealthRead(
            healthy=health.healthy, detail=health.detail, latency_ms=health.latency_ms
        ),
        fragments=findings.fragments,
        problems=findings.problems,
        ok=not findings.problems,
        access_entry=seq,
    )
