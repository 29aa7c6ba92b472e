"""csv_drop sources: give them the gateway's store, and import their new exports on schedule."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool

from adapters.csv_drop import CsvDropAdapter, ImportReport
from adapters.resilience import unwrap
from gateway.sources.drop_store import FragmentSeal, SqlDropStore

if TYPE_CHECKING:
    from gateway.runtime import Runtime

logger = logging.getLogger("helhed.sources")


def drop_adapters(runtime: Runtime) -> list[CsvDropAdapter]:
    found = (unwrap(adapter) for adapter in runtime.adapters.values())
    return [adapter for adapter in found if isinstance(adapter, CsvDropAdapter)]


def attach_drop_store(runtime: Runtime) -> None:
    """Every csv_drop source keeps its imports in the gateway's database, sealed."""
    adapters = drop_adapters(runtime)
    if not adapters:
        return
    store = SqlDropStore(
        engine=runtime.engine,
        seal=FragmentSeal.from_keys_dir(runtime.settings.keys_dir),
        lookup_hash=runtime.protector.lookup_hash,
        now=runtime.clock.now,
    )
    for adapter in adapters:
        adapter.store = store


async def import_drop_exports(runtime: Runtime) -> list[ImportReport]:
    """Import each csv_drop source's newest export, if it is new; one bad source stops none."""
    reports = []
    for adapter in drop_adapters(runtime):
        try:
            report = await run_in_threadpool(adapter.import_newest)
        except Exception as error:
            logger.exception(
                "source %s: import failed (%s)", adapter.config.name, type(error).__name__
            )
            report = ImportReport(
                adapter.config.name, skipped=f"import failed: {type(error).__name__}"
            )
        if report.skipped is None:
            lines = ", ".join(str(r.record) for r in report.rejected[:20])
            logger.info(
                "source %s: imported %s (%d rows, %d fragments, %d rejected%s)",
                report.source,
                report.file_name,
                report.rows,
                report.imported,
                len(report.rejected),
                f": lines {lines}" if lines else "",
            )
        reports.append(report)
    return reports


async def run_drop_imports(runtime: Runtime) -> None:
    """The scheduled job's body."""
    await import_drop_exports(runtime)
