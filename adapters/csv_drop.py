"""`csv_drop`: a system that can only drop a CSV export into a folder, every night.

    [[sources]]
    name = "children-family-dubu"
    kind = "csv_drop"
    department = "children-family"
    categories = ["case-overview", "interventions"]
    folder = "/srv/drop/dubu"
    pattern = "dubu_eksport_*.csv"
    filename_date_format = "dubu_eksport_%Y%m%d.csv"   # else: the file's modification time
    delimiter = ";"
    encoding = "utf-8-sig"
    max_age_hours = 36                                  # older than this: the source is unhealthy
    [sources.mapping]  ...                              # JMESPath over one row; columns by name

A scheduled job (gateway/sources/imports.py) imports the newest export when it is new: every
row is validated through the mapping, bad rows are rejected into a report by line number while
the good ones are kept, and the export replaces the previous one. Views then read the stored
copy: the `DropStore` the gateway attaches, which keeps the fragments encrypted at rest. Every
fragment carries `attributes.export_date`, and the answer's `as_of`, so a view says how old it is.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import ClassVar, Protocol
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from adapters.mapping import FragmentMapping, describe_validation_error
from adapters.protocol import (
    PROTOCOL_VERSION,
    FetchRequest,
    FetchResult,
    Health,
    Rejection,
    SourceConfig,
    SourceUnavailable,
)
from schemas.fragment import Fragment

_EXTRA = "\x00extra"  # where csv puts the values of a row longer than the header


class CsvDropOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    folder: Path = Field(description="Where the exports arrive")
    pattern: str = Field(default="*.csv", description="Which files in the folder are exports")
    filename_date_format: str | None = Field(
        default=None, description="strptime format of the file name; default: its mtime"
    )
    timezone: str = Field(default="Europe/Copenhagen", description="The zone of the file's date")
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    encoding: str = "utf-8-sig"
    max_file_bytes: int = Field(default=200_000_000, gt=0)
    max_age_hours: float | None = Field(
        default=None, gt=0, description="An older newest export makes the source unhealthy"
    )
    mapping: FragmentMapping

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, encoding: str) -> str:
        try:
            "".encode(encoding)
        except LookupError:
            raise ValueError(f"unknown encoding {encoding!r}") from None
        return encoding


@dataclass(frozen=True)
class ExportFile:
    path: Path
    exported_at: datetime
    sha256: str


@dataclass
class ParsedExport:
    file: ExportFile
    rows: int = 0
    fragments: list[Fragment] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)  # record = the line in the file


@dataclass(frozen=True)
class StoredExport:
    file_name: str
    exported_at: datetime
    sha256: str
    imported_at: datetime
    rows: int
    imported: int
    rejected: list[Rejection]


@dataclass
class ImportReport:
    source: str
    file_name: str | None = None
    exported_at: datetime | None = None
    rows: int = 0
    imported: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    skipped: str | None = None  # why nothing was imported: "no export", "not new", a problem


class DropStore(Protocol):
    """Where imported exports are kept (the gateway's database, encrypted at rest)."""

    def current(self, source: str) -> StoredExport | None: ...

    def replace(self, source: str, export: ParsedExport) -> None:
        """Make `export` the source's only one, in one transaction."""
        ...

    def fragments(
        self, source: str, citizen: str, categories: frozenset[str]
    ) -> list[Fragment]: ...


class CsvDropAdapter:
    protocol_version: ClassVar[int] = PROTOCOL_VERSION
    idempotent = True

    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        self.options = CsvDropOptions.model_validate(config.options)
        self.store: DropStore | None = None  # attached by the gateway

    # --- the folder -----------------------------------------------------------------------

    def export_date(self, exported_at: datetime) -> date:
        """An export's date as people name it: in the municipality's zone, whatever the clock
        the moment was stored in (the store keeps UTC)."""
        return exported_at.astimezone(ZoneInfo(self.options.timezone)).date()

    def _exported_at(self, path: Path) -> datetime | None:
        zone = ZoneInfo(self.options.timezone)
        if self.options.filename_date_format is None:
            return datetime.fromtimestamp(path.stat().st_mtime, UTC)
        try:
            parsed = datetime.strptime(path.name, self.options.filename_date_format)
        except ValueError:
            return None  # a file that matches the pattern but is not named like an export
        return parsed.replace(tzinfo=zone)

    def newest_export(self) -> ExportFile | None:
        """The newest complete export in the folder, by its date (then its mtime)."""
        candidates = []
        for path in self.options.folder.glob(self.options.pattern):
            exported_at = self._exported_at(path) if path.is_file() else None
            if exported_at is not None:
                candidates.append((exported_at, path.stat().st_mtime, path))
        if not candidates:
            return None
        exported_at, _mtime, path = max(candidates)
        return ExportFile(path, exported_at, hashlib.sha256(path.read_bytes()).hexdigest())

    def parse(self, file: ExportFile) -> ParsedExport:
        """Every row through the mapping; a bad row is rejected by line number, alone."""
        parsed = ParsedExport(file)
        if file.path.stat().st_size > self.options.max_file_bytes:
            raise SourceUnavailable(
                "too_large", f"export larger than {self.options.max_file_bytes} bytes"
            )
        try:
            text = file.path.read_bytes().decode(self.options.encoding)
        except UnicodeDecodeError as error:
            raise SourceUnavailable(
                "invalid_csv", f"not {self.options.encoding} at byte {error.start}"
            ) from None
        reader = csv.DictReader(
            io.StringIO(text, newline=""), delimiter=self.options.delimiter, restkey=_EXTRA
        )
        columns = len(reader.fieldnames or [])
        export_date = self.export_date(file.exported_at).isoformat()
        try:
            for row in reader:
                parsed.rows += 1
                line = reader.line_num
                if _EXTRA in row or any(value is None for value in row.values()):
                    found = (
                        len(row) - 1 + len(row[_EXTRA])
                        if _EXTRA in row
                        else sum(value is not None for value in row.values())
                    )
                    parsed.rejected.append(
                        Rejection(line, f"expected {columns} columns, found {found}")
                    )
                    continue
                try:
                    fragment = self.options.mapping.to_fragment(
                        row, source=self.config.name, department=self.config.department
                    )
                except ValidationError as error:
                    parsed.rejected.append(Rejection(line, describe_validation_error(error)))
                    continue
                except (ValueError, TypeError) as error:
                    parsed.rejected.append(Rejection(line, str(error)))
                    continue
                attributes = {**fragment.attributes, "export_date": export_date}
                parsed.fragments.append(fragment.model_copy(update={"attributes": attributes}))
        except csv.Error as error:
            raise SourceUnavailable("invalid_csv", f"line {reader.line_num}: {error}") from None
        return parsed

    def import_newest(self) -> ImportReport:
        """Import the newest export if it is new; runs in a worker thread (file and DB I/O)."""
        report = ImportReport(self.config.name)
        if self.store is None:
            raise RuntimeError(f"source {self.config.name}: no store attached")
        if not self.options.folder.is_dir():
            report.skipped = f"no folder {self.options.folder}"
            return report
        newest = self.newest_export()
        if newest is None:
            report.skipped = "no export in the folder"
            return report
        report.file_name, report.exported_at = newest.path.name, newest.exported_at
        current = self.store.current(self.config.name)
        if current is not None and (
            current.exported_at > newest.exported_at
            or (current.exported_at == newest.exported_at and current.sha256 == newest.sha256)
        ):
            report.skipped = "not newer than the stored export"
            return report
        try:
            parsed = self.parse(newest)
        except SourceUnavailable as problem:
            report.skipped = problem.message  # the previous export stays in service
            return report
        self.store.replace(self.config.name, parsed)
        report.rows, report.imported = parsed.rows, len(parsed.fragments)
        report.rejected = parsed.rejected
        return report

    # --- the protocol ---------------------------------------------------------------------

    async def fetch(self, request: FetchRequest) -> FetchResult:
        store = self.store
        if store is None:
            raise SourceUnavailable("not_imported", "no store for this source's exports")
        current = await asyncio.to_thread(store.current, self.config.name)
        if current is None:
            raise SourceUnavailable("not_imported", "no export has been imported yet")
        fragments = await asyncio.to_thread(
            store.fragments, self.config.name, request.citizen, request.categories
        )
        return FetchResult(fragments=fragments, as_of=current.exported_at)

    async def check_health(self) -> Health:
        started = time.perf_counter()
        if not self.options.folder.is_dir():
            return Health(False, f"no folder {self.options.folder}")
        current = (
            await asyncio.to_thread(self.store.current, self.config.name) if self.store else None
        )
        latency = (time.perf_counter() - started) * 1000
        if current is None:
            return Health(False, "no export imported yet", latency)
        age = datetime.now(UTC) - current.exported_at
        limit = self.options.max_age_hours
        if limit is not None and age > timedelta(hours=limit):
            return Health(
                False, f"the newest export is {age.total_seconds() / 3600:.0f} hours old", latency
            )
        return Health(True, f"export of {self.export_date(current.exported_at)}", latency)

    async def aclose(self) -> None:
        pass
