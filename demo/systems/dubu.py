"""Children & family's DUBU-like system: all it can do is drop a CSV export every night.

A folder receives `dubu_eksport_YYYYMMDD.csv`: semicolon-separated, UTF-8 with a byte-order
mark (as Excel in Denmark writes it), one row per case line, DD-MM-YYYY dates, the caseworker
flattened into two columns. The gateway imports it on a schedule; it never asks DUBU anything.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from datetime import date
from pathlib import Path

from demo.records import Record, dubu
from demo.systems.server import Behaviour, DataRequest, _with_citizen_replaced

COLUMNS = (
    "sagsnummer",
    "linje",
    "cpr",
    "sagstype",
    "ydelse",
    "lovhjemmel",
    "kle",
    "leverandoer",
    "startdato",
    "slutdato",
    "takst",
    "takstenhed",
    "status",
    "afdeling",
    "sagsbehandler",
    "sagsbehandler_tlf",
    "bemaerkning",
    "hovedmaal",
    "sidst_aendret",
)
FILE_PATTERN = "dubu_eksport_*.csv"
FILE_DATE_FORMAT = "dubu_eksport_%Y%m%d.csv"


def export_row(record: Record) -> dict[str, str]:
    flat = {
        **record,
        "sagsbehandler": record["sagsbehandler"]["navn"],
        "sagsbehandler_tlf": record["sagsbehandler"]["telefon"],
    }
    return {column: "" if flat.get(column) is None else str(flat[column]) for column in COLUMNS}


def export_csv(records: list[Record]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(export_row(record) for record in records)
    return buffer.getvalue().encode("utf-8-sig")


class DubuExport:
    """The drop folder and what DUBU writes into it; `base_url` is the folder's path."""

    def __init__(self, folder: Path | None = None) -> None:
        self.name = "dubu"
        self.department = "children-family"
        self.behaviour = Behaviour()  # nothing to misbehave: a file is there or it is not
        self.requests: list[DataRequest] = []  # stays empty: the gateway never asks DUBU
        self.base_url = ""
        self._folder = folder
        self._made_folder = False
        self._records: dict[str, list[Record]] = dict(dubu.RECORDS)

    def __repr__(self) -> str:
        return f"<DubuExport ({self.department}) {self.base_url or 'stopped'}>"

    @property
    def folder(self) -> Path:
        if not self.base_url:
            raise RuntimeError("start the export first")
        return Path(self.base_url)

    def reset(self) -> None:
        self.behaviour = Behaviour()
        self.requests.clear()

    def citizens(self) -> list[str]:
        return list(self._records)

    def rows(self) -> list[Record]:
        return [record for records in self._records.values() for record in records]

    def write_export(self, day: date | None = None) -> Path:
        """Tonight's export (written aside, then renamed: the importer never sees half a file)."""
        path = self.folder / (day or date.today()).strftime(FILE_DATE_FORMAT)
        partial = path.with_suffix(".partial")
        partial.write_bytes(export_csv(self.rows()))
        partial.replace(path)
        return path

    def add_twin(self, original: str, twin: str) -> None:
        """A copy of `original`'s rows for `twin`, in a fresh export of today."""
        if original in self._records:
            self._records[twin] = _with_citizen_replaced(self._records[original], original, twin)
            if self.base_url:
                self.write_export()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        del host, port  # a folder, not a server
        if self._folder is None:
            self._folder, self._made_folder = Path(tempfile.mkdtemp(prefix="dubu-drop-")), True
        self._folder.mkdir(parents=True, exist_ok=True)
        self.base_url = str(self._folder)
        self.write_export()
        return self.base_url

    async def stop(self) -> None:
        if self._made_folder and self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder, self._made_folder = None, False
        self.base_url = ""


def dubu_system() -> DubuExport:
    return DubuExport()
