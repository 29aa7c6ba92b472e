"""`helhed sources check`: the same check as the API, printed as tables for a terminal."""

from __future__ import annotations

import asyncio
import getpass
import uuid

from rich.console import Console
from rich.table import Table
from starlette.concurrency import run_in_threadpool

from gateway.access_log.service import AccessEvent, AuditContext, record_access
from gateway.runtime import Runtime
from gateway.sources.schemas import CheckReport
from gateway.sources.service import NotATestCitizen, check_source
from schemas.access import Action, ActorRecord, Outcome


def _print(report: CheckReport, console: Console) -> None:
    mark = "[green]OK[/green]" if report.ok else f"[red]{len(report.problems)} problem(s)[/red]"
    health = "healthy" if report.health.healthy else "UNHEALTHY"
    console.print(
        f"\n[bold]{report.source}[/bold] ({report.kind}, {report.department}): {health}, "
        f"{report.health.detail}. {mark}"
    )
    if report.fragments:
        table = Table("id", "category", "kind", "title", "status", "period", title="Fragments")
        for f in report.fragments:
            period = f"{f.period.start or ''} - {f.period.end or ''}"
            table.add_row(f.id, f.category, f.kind.value, f.title, f.status or "", period)
        console.print(table)
    if report.problems:
        table = Table("where", "code", "problem", title="Problems")
        for problem in report.problems:
            table.add_row(problem.where, problem.code, problem.problem)
        console.print(table)
    if report.access_entry is not None:
        console.print(f"Recorded in the access log as entry {report.access_entry}.")


async def run_checks(
    runtime: Runtime, name: str | None, citizen: str | None, console: Console
) -> int:
    """Check one source or all; the number of problems found."""
    context = AuditContext(
        actor=ActorRecord(subject=f"cli:{getpass.getuser()}", roles=["itops"]),
        request_id=f"cli-{uuid.uuid4().hex[:16]}",
        instance=runtime.settings.instance,
    )
    names = [name] if name is not None else list(runtime.adapters)
    if citizen is not None:
        refused = [n for n in names if citizen not in runtime.adapters[n].config.test_citizens]
        if refused:
            # The same refusal as the API's, in the access log under the operator's name.
            await run_in_threadpool(
                record_access,
                engine=runtime.engine,
                protector=runtime.protector,
                context=context,
                event=AccessEvent(
                    action=Action.SOURCE_CHECK,
                    outcome=Outcome.DENIED,
                    reason="not_a_test_citizen",
                    citizen=citizen,
                    target=refused[0],
                ),
                now=runtime.clock.now(),
            )
            await asyncio.gather(*(a.aclose() for a in runtime.adapters.values()))
            raise NotATestCitizen(runtime.adapters[refused[0]].config, citizen)
    problems = 0
    try:
        for source in names:
            report = await check_source(
                runtime=runtime, name=source, citizen=citizen, context=context
            )
            _print(report, console)
            problems += len(report.problems)
    finally:
        await asyncio.gather(*(a.aclose() for a in runtime.adapters.values()))
    return problems
