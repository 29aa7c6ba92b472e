"""Health & care's Nexus-EOJ-like system: IT operations may only read its database.

A SQLite file of its own with a schema of its own: `borger` (the citizens, by CPR) and
`journal_element` (episodes, services, plans, goals and conditions, one row each, Danish column
names). The gateway reads it with one parameterised query per category.

SQLite keeps no audit trail of reads, so the simulation keeps one, as pgaudit would on a real
server: every statement against `journal_element` that binds a citizen, from any engine in this
process, is recorded in `requests`. (Only in-process: a gateway in another process is not seen.)
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from demo.records import Record, nexus
from demo.systems.server import Behaviour, DataRequest, _with_citizen_replaced

SCHEMA = """
CREATE TABLE borger (
    borger_id INTEGER PRIMARY KEY,
    cpr TEXT NOT NULL UNIQUE
);
CREATE TABLE journal_element (
    element_id TEXT PRIMARY KEY,
    borger_id INTEGER NOT NULL REFERENCES borger (borger_id),
    ressourcetype TEXT NOT NULL,
    kategori TEXT NOT NULL,
    tekst TEXT NOT NULL,
    status TEXT NOT NULL,
    start_dato TEXT,
    slut_dato TEXT,
    udfoerer TEXT,
    udfoerer_tlf TEXT,
    organisation TEXT,
    lovgrundlag TEXT,
    ydelseskode TEXT,
    ydelse TEXT,
    notat TEXT,
    sidst_opdateret TEXT NOT NULL
);
CREATE INDEX journal_element_borger ON journal_element (borger_id, kategori);
"""
COLUMNS = (
    "element_id",
    "ressourcetype",
    "kategori",
    "tekst",
    "status",
    "start_dato",
    "slut_dato",
    "udfoerer",
    "udfoerer_tlf",
    "organisation",
    "lovgrundlag",
    "ydelseskode",
    "ydelse",
    "notat",
    "sidst_opdateret",
)


def journal_row(resource: Record) -> dict[str, Any]:
    """One FHIR-flavoured resource (demo.records.nexus) as a row of `journal_element`."""
    phones = [
        t["value"] for t in resource["performer"].get("telecom", []) if t["system"] == "phone"
    ]
    legal = [e["valueString"] for e in resource.get("extension", [])]
    service = resource.get("serviceType") or {}
    return {
        "element_id": resource["id"],
        "ressourcetype": resource["resourceType"],
        "kategori": resource["category"]["coding"][0]["code"],
        "tekst": resource["code"]["text"],
        "status": resource["status"],
        "start_dato": resource["period"].get("start"),
        "slut_dato": resource["period"].get("end"),
        "udfoerer": resource["performer"]["display"],
        "udfoerer_tlf": phones[0] if phones else None,
        "organisation": resource["organization"]["display"],
        "lovgrundlag": legal[0] if legal else None,
        "ydelseskode": service.get("code"),
        "ydelse": service.get("display"),
        "notat": (resource.get("note") or [{}])[0].get("text"),
        "sidst_opdateret": resource["meta"]["lastUpdated"],
    }


class EojDatabase:
    """The database file and its audit trail; `base_url` is its SQLAlchemy URL."""

    def __init__(self, path: Path | None = None) -> None:
        self.name = "nexus-eoj"
        self.department = "health"
        self.behaviour = Behaviour()
        self.requests: list[DataRequest] = []
        self.base_url = ""
        self._path = path
        self._made_dir: Path | None = None
        self._records: dict[str, list[Record]] = dict(nexus.RECORDS)

    def __repr__(self) -> str:
        return f"<EojDatabase ({self.department}) {self.base_url or 'stopped'}>"

    @property
    def path(self) -> Path:
        if self._path is None:
            raise RuntimeError("start the database first")
        return self._path

    def reset(self) -> None:
        self.behaviour = Behaviour()
        self.requests.clear()

    def citizens(self) -> list[str]:
        return list(self._records)

    def _insert(self, connection: sqlite3.Connection, cpr: str, records: list[Record]) -> None:
        cursor = connection.execute("INSERT INTO borger (cpr) VALUES (?)", (cpr,))
        for record in records:
            row = journal_row(record)
            connection.execute(
                f"INSERT INTO journal_element (borger_id, {', '.join(COLUMNS)}) "  # noqa: S608
                f"VALUES (?, {', '.join('?' for _ in COLUMNS)})",
                (cursor.lastrowid, *(row[c] for c in COLUMNS)),
            )

    def add_twin(self, original: str, twin: str) -> None:
        if original not in self._records:
            return
        # Element ids are unique across the journal; a twin's are made from a hash of its CPR
        # (its last four digits alone repeat among a test run's many twins).
        tag = hashlib.sha256(twin.encode("ascii")).hexdigest()[:10]
        copies = [
            {**record, "id": f"{record['id']}-{tag}{index}"}
            for index, record in enumerate(self._records[original])
        ]
        self._records[twin] = _with_citizen_replaced(copies, original, twin)
        if self.base_url:
            with sqlite3.connect(self.path) as connection:
                self._insert(connection, twin, self._records[twin])

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        del host, port  # a file, not a server
        if self._path is None:
            self._made_dir = Path(tempfile.mkdtemp(prefix="nexus-eoj-"))
            self._path = self._made_dir / "eoj.sqlite"
        self._path.unlink(missing_ok=True)
        with sqlite3.connect(self._path) as connection:
            connection.executescript(SCHEMA)
            for cpr, records in self._records.items():
                self._insert(connection, cpr, records)
        connection.close()
        self.base_url = f"sqlite:///{self._path}"
        event.listen(Engine, "before_cursor_execute", self._audit)
        return self.base_url

    async def stop(self) -> None:
        if event.contains(Engine, "before_cursor_execute", self._audit):
            event.remove(Engine, "before_cursor_execute", self._audit)
        if self._made_dir is not None:
            shutil.rmtree(self._made_dir, ignore_errors=True)
            self._made_dir = self._path = None
        self.base_url = ""

    def _audit(
        self, connection: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if "journal_element" not in statement or context is None:
            return
        citizen = (context.compiled_parameters or [{}])[0].get("citizen")
        if citizen is None or connection.dialect.name != "sqlite":
            return
        files = connection.exec_driver_sql("PRAGMA database_list").fetchall()
        if any(row[2] and Path(row[2]) == self.path for row in files):
            self.requests.append(DataRequest(datetime.now(UTC), str(citizen)))


def nexus_system() -> EojDatabase:
    return EojDatabase()
