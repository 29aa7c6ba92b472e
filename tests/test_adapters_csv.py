"""csv_drop: the import validates every row, keeps the newest export, stores it sealed."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text

from adapters.csv_drop import CsvDropAdapter
from adapters.protocol import FetchRequest, SourceConfig
from demo.citizens import NOAH_HOLM
from demo.records import dubu
from demo.sources import source_configs
from demo.systems.dubu import COLUMNS, FILE_DATE_FORMAT, DubuExport, export_csv, export_row
from gateway.settings import normalize_database_url
from tests.drops import MemoryDropStore
from tests.support import live_gateway

NOAH = NOAH_HOLM.cpr
CATEGORIES = frozenset({"case-overview", "interventions", "benefits", "plans-goals", "assessments"})


def dubu_config(folder: Path) -> dict[str, Any]:
    export = DubuExport(folder)
    asyncio.run(export.start())
    (config,) = source_configs({"children-family": export})  # type: ignore[dict-item]
    return config


def adapter_on(folder: Path) -> CsvDropAdapter:
    adapter = CsvDropAdapter(SourceConfig.model_validate(dubu_config(folder)))
    adapter.store = MemoryDropStore()
    return adapter


def write(folder: Path, day: date, rows: list[str]) -> Path:
    path = folder / day.strftime(FILE_DATE_FORMAT)
    path.write_bytes(("\ufeff" + ";".join(COLUMNS) + "\r\n" + "".join(rows)).encode())
    return path


def line(**changes: str) -> str:
    row = export_row(dubu.RECORDS[NOAH][3]) | changes
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerow(row[c] for c in COLUMNS)
    return buffer.getvalue()


def noah(adapter: CsvDropAdapter) -> list[Any]:
    result = asyncio.run(adapter.fetch(FetchRequest(NOAH, CATEGORIES, timeout=5)))
    return result.fragments


def test_bad_rows_are_rejected_by_line_number_and_the_good_rows_imported(tmp_path: Path) -> None:
    adapter = adapter_on(tmp_path)
    write(
        tmp_path,
        date.today() + timedelta(days=1),
        [
            line(linje="1"),  # line 2: good
            line(linje="2", ydelse=""),  # line 3: no title
            line(linje="3", sagstype="Ukendt"),  # line 4: a type with no mapping
            line(linje="4", startdato="31-02-2026"),  # line 5: no such date
            "BF-1;5;too;few\r\n",  # line 6: wrong number of columns
            line(linje="6", cpr="12345"),  # line 7: not a CPR
            line(linje="7"),  # line 8: good
        ],
    )
    report = adapter.import_newest()
    assert report.skipped is None
    assert (report.rows, report.imported) == (7, 2)
    problems = {r.record: r.problem for r in report.rejected}
    assert sorted(problems) == [3, 4, 5, 6, 7]
    assert "title" in problems[3]
    assert "'Ukendt' has no mapping" in problems[4]
    assert "expected 19 columns, found 4" in problems[6]
    assert "citizen" in problems[7]
    assert NOAH not in " ".join(problems.values()), "a report never quotes a CPR"
    assert [f.id for f in noah(adapter)] == [
        "children-family-dubu:BF-2023-01187/1",
        "children-family-dubu:BF-2023-01187/7",
    ]


def test_only_the_newest_export_is_kept_and_an_older_one_is_ignored(tmp_path: Path) -> None:
    adapter = adapter_on(tmp_path)  # seeds today's full export
    assert adapter.import_newest().imported == len([r for rs in dubu.RECORDS.values() for r in rs])
    assert len(noah(adapter)) == 5
    tomorrow = date.today() + timedelta(days=1)
    write(tmp_path, tomorrow, [line(linje="9")])
    report = adapter.import_newest()
    assert (report.file_name, report.imported) == (tomorrow.strftime(FILE_DATE_FORMAT), 1)
    fragments = noah(adapter)
    assert [f.id for f in fragments] == ["children-family-dubu:BF-2023-01187/9"]
    assert fragments[0].attributes["export_date"] == tomorrow.isoformat()
    assert adapter.import_newest().skipped == "not newer than the stored export"
    write(tmp_path, date.today() - timedelta(days=3), [line(linje="1")])  # a late old file
    assert adapter.import_newest().skipped == "not newer than the stored export"
    write(tmp_path, tomorrow, [line(linje="9"), line(linje="10")])  # re-delivered, corrected
    assert adapter.import_newest().imported == 2


def test_a_file_that_cannot_be_read_keeps_the_previous_export_in_service(tmp_path: Path) -> None:
    adapter = adapter_on(tmp_path)
    adapter.import_newest()
    broken = tmp_path / (date.today() + timedelta(days=1)).strftime(FILE_DATE_FORMAT)
    broken.write_bytes(b"sagsnummer;cpr\r\n\xff\xfe\x00garbage")
    report = adapter.import_newest()
    assert report.skipped is not None
    assert "utf-8" in report.skipped
    assert len(noah(adapter)) == 5


def test_through_the_gateway_sealed_at_rest_dated_in_the_view_reported_to_itops(
    tmp_path: Path, new_database: Callable[[], str]
) -> None:
    config = dubu_config(tmp_path / "drop")
    database = new_database()
    with live_gateway(tmp_path / "home", database, [config]) as gateway:
        view = gateway.view(NOAH).json()  # own department: no consent needed
        titles = [f["title"] for f in view["timeline"]]
        assert "Familiebehandling" in titles
        (coverage,) = view["coverage"]
        assert coverage["status"] == "included"
        as_of = datetime.fromisoformat(coverage["as_of"])
        midnight = datetime.combine(date.today(), time(), ZoneInfo("Europe/Copenhagen"))
        assert as_of == midnight, "the export's date, as its file name gives it"
        assert all(
            f["attributes"]["export_date"] == date.today().isoformat() for f in view["timeline"]
        )

        engine = create_engine(normalize_database_url(database))
        with engine.connect() as connection:
            stored = connection.execute(
                text("SELECT citizen_hash, sealed FROM drop_fragment")
            ).all()
        engine.dispose()
        assert stored
        every_byte = " ".join(f"{h} {s}" for h, s in stored)
        assert NOAH not in every_byte
        assert "Familiebehandling" not in every_byte

        write(
            tmp_path / "drop",
            date.today() + timedelta(days=1),
            [line(linje="1"), line(linje="2", ydelse="")],
        )
        gateway.import_drops()
        assert gateway.http is not None
        sources = gateway.http.get("/v1/sources", headers=gateway.headers("itops", None)).json()
        export = sources["sources"][0]["export"]
        assert (export["rows"], export["imported"]) == (2, 1)
        assert export["rejected"] == [{"line": 3, "problem": "title: missing"}]
        assert [f["title"] for f in gateway.view(NOAH).json()["timeline"]] == ["Familiebehandling"]


def test_export_csv_round_trips_the_demo_rows() -> None:
    text_ = export_csv(dubu.RECORDS[NOAH]).decode("utf-8-sig")
    assert text_.splitlines()[0] == ";".join(COLUMNS)
    assert len(text_.splitlines()) == 1 + len(dubu.RECORDS[NOAH])
