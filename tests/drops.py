"""A DropStore in memory, for csv_drop tests that need no gateway."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.csv_drop import ParsedExport, StoredExport


class MemoryDropStore:
    def __init__(self) -> None:
        self.exports: dict[str, ParsedExport] = {}
        self.imported_at: dict[str, datetime] = {}

    def current(self, source: str) -> StoredExport | None:
        export = self.exports.get(source)
        if export is None:
            return None
        return StoredExport(
            file_name=export.file.path.name,
            exported_at=export.file.exported_at,
            sha256=export.file.sha256,
            imported_at=self.imported_at[source],
            rows=export.rows,
            imported=len(export.fragments),
            rejected=list(export.rejected),
        )

    def replace(self, source: str, export: ParsedExport) -> None:
        self.exports[source] = export
        self.imported_at[source] = datetime.now(UTC)

    def fragments(self, source: str, citizen: str, categories: frozenset[str]) -> list:  # type: ignore[type-arg]
        export = self.exports.get(source)
        if export is None:
            return []
        return [f for f in export.fragments if f.citizen == citizen and f.category in categories]
