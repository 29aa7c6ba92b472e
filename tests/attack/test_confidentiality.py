"""What an insider reading the gateway's traces finds, and what a curious caseworker can learn.

1. After a working session (consents recorded and withdrawn, views, refusals that name
   citizens, bad input, the citizen report, a source check with a real CPR), no sample CPR, with
   or without its hyphen, is in plain text anywhere the gateway writes: its application log
   (the process's stdout and stderr), /metrics, error responses, every text column of every
   table (the access log's indexed columns among them), its temporary files, and the SQLite
   file's raw bytes (with its WAL).
2. A source that no consent covers is never called, so nothing about whether it holds the
   citizen can leak by timing, error or count: the view of a citizen the source knows and of
   one it does not are the same but for the citizen.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import String, Text, inspect, select
from sqlalchemy.sql import column, table

from demo.citizens import CITIZENS
from demo.sources import source_configs
from demo.systems import SystemsInThread
from gateway.db import make_engine
from tests.attack.served import ServedGateway
from tests.builders import consent_body
from tests.conftest import fresh_cpr
from tests.support import LiveGateway

SAMPLES = [citizen.cpr for citizen in CITIZENS]


def _forms(cpr: str) -> list[bytes]:
    """Every plain spelling of a CPR: ten digits, and with the hyphen after the birth date."""
    return [cpr.encode(), f"{cpr[:6]}-{cpr[6:]}".encode()]


FORMS = [form for cpr in SAMPLES for form in _forms(cpr)]
FORMS_RE = re.compile(b"|".join(re.escape(form) for form in FORMS))


def _leaks(where: str, data: bytes | str) -> list[str]:
    raw = data.encode() if isinstance(data, str) else data
    return [f"{where}: {match.group().decode()}" for match in FORMS_RE.finditer(raw)]


def _session(gateway: ServedGateway) -> list[httpx.Response]:
    """A day's work that names every sample citizen in every way the API offers; returns the
    answers that are errors, which must not echo a CPR either."""
    answers: list[httpx.Response] = []
    caseworker, dpo = gateway.headers(), gateway.headers("dpo", None)
    itops, wrong_role = gateway.headers("itops", None), gateway.headers("citizen", None)
    with httpx.Client(base_url=gateway.base_url, timeout=30) as http:
        for cpr in SAMPLES:
            hyphenated = f"{cpr[:6]}-{cpr[6:]}"
            created = http.post("/v1/consents", json=consent_body(hyphenated), headers=caseworker)
            assert created.status_code == 201, created.text
            consent = created.json()["id"]
            view = http.post(
                "/v1/views",
                json={"citizen": cpr, "purpose": "coordinated-plan"},
                headers=caseworker,
            )
            assert view.status_code == 200, view.text
            answers += [
                http.post(
                    "/v1/views", json={"citizen": cpr, "purpose": "no-such"}, headers=caseworker
                ),
                http.post(
                    "/v1/views",
                    json={"citizen": cpr, "purpose": "coordinated-plan"},
                    headers=wrong_role,
                ),
                http.post("/v1/views", json={"citizen": cpr, "purpose": "coordinated-plan"}),
                http.post(
                    "/v1/views",
                    json={"citizen": cpr + "9", "purpose": "coordinated-plan"},
                    headers=caseworker,
                ),
                http.post(
                    "/v1/views", json={"citizen": hyphenated, "purpose": 7}, headers=caseworker
                ),
                http.post(
                    "/v1/consents",
                    json=consent_body(cpr, valid_until="2001-01-01"),
                    headers=caseworker,
                ),
                http.post("/v1/consents/search", json={"citizen": cpr}, headers=caseworker),
                http.post("/v1/audit/search", json={"citizen": cpr}, headers=dpo),
                http.post("/v1/audit/citizen-report", json={"citizen": cpr}, headers=dpo),
                http.post("/v1/sources/health-nexus/check", json={"citizen": cpr}, headers=itops),
                http.post(
                    f"/v1/consents/{consent}/withdraw", json={"reason": cpr}, headers=caseworker
                ),
                http.post(
                    f"/v1/consents/{consent}/withdraw", json={"reason": "again"}, headers=caseworker
                ),
            ]
        answers.append(http.get("/v1/audit/entries", params={"limit": "1000"}, headers=dpo))
        answers.append(http.get("/v1/audit/export", headers=dpo))
        answers.append(http.get("/v1/audit/verify", headers=dpo))
    return [answer for answer in answers if answer.status_code >= 400]


def _text_columns(url: str) -> Iterator[tuple[str, Any]]:
    engine = make_engine(url)
    try:
        tables = inspect(engine).get_table_names()
        with engine.connect() as connection:
            for name in tables:
                texts = [
                    c["name"]
                    for c in inspect(engine).get_columns(name)
                    if isinstance(c["type"], String | Text) or "JSON" in str(c["type"]).upper()
                ]
                if not texts:
                    continue
                query = select(*(column(c) for c in texts)).select_from(table(name))
                for row in connection.execute(query):
                    for name_, value in zip(texts, row, strict=True):
                        if value is not None:
                            yield f"{name}.{name_}", value
    finally:
        engine.dispose()


@pytest.fixture
def served(
    new_database: Callable[[], str],
    systems: SystemsInThread,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[ServedGateway]:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setenv("TMPDIR", str(temporary))  # the gateway's temporary files land here
    gateway = ServedGateway(tmp_path / "home", new_database(), source_configs(systems.systems))
    try:
        yield gateway
    finally:
        gateway.stop()


def test_no_sample_cpr_in_plain_text_anywhere_the_gateway_writes(
    served: ServedGateway, tmp_path: Path
) -> None:
    served.start()
    errors = _session(served)
    assert len(errors) >= 7 * len(SAMPLES), "the refusals were exercised"
    metrics = httpx.get(f"{served.base_url}/metrics", timeout=10)
    assert metrics.status_code == 200
    served.stop()  # graceful: logs flushed, last checkpoint written

    leaks = _leaks("/metrics", metrics.text)
    for answer in errors:
        leaks += _leaks(
            f"{answer.request.method} {answer.request.url.path} {answer.status_code}",
            answer.content,
        )
    log = served.log_file.read_bytes()
    assert b"/v1/views" in log, "the application log was captured"
    leaks += _leaks("application log", log)
    scanned = 0
    for where, value in _text_columns(served.settings.sqlalchemy_url):
        scanned += 1
        leaks += _leaks(where, str(value))
    assert scanned > 100, "the tables were read"
    for path in sorted((tmp_path / "tmp").rglob("*")) + sorted(served.home.rglob("*")):
        if path.is_file() and path != served.log_file:
            leaks += _leaks(str(path.relative_to(tmp_path)), path.read_bytes())
    assert not leaks, "\n".join(sorted(set(leaks)))


def _same_but_citizen(view: dict[str, Any]) -> dict[str, Any]:
    return {
        "coverage": view["coverage"],
        "departments": [d["department"] for d in view["departments"]],
        "timeline": len(view["timeline"]),
        "consents": len(view["consents"]),
    }


def test_a_source_no_consent_covers_is_never_asked_and_reveals_nothing(
    gateway: LiveGateway, systems: SystemsInThread, twin_of: Callable[[str], str]
) -> None:
    """Lars's twin is known to every system; a fresh CPR to none. As adult-social without any
    consent, both views must read the same: the other departments' sources are not asked."""
    known, unknown = twin_of("Lars Vestergaard"), fresh_cpr()
    systems.reset()  # count only the views' requests
    views = [gateway.view(cpr, as_="children-family").json() for cpr in (known, unknown)]
    for department in ("jobcenter", "adult-social", "health"):
        assert systems[department].requests == [], f"{department} was asked without a consent"
    first, second = (_same_but_citizen(view) for view in views)
    assert first == second
    for line in views[0]["coverage"]:
        if line["department"] != "children-family":
            assert (line["status"], line["fragments"], line["problem"]) == ("not-covered", 0, None)
    refusals = [
        gateway.view(cpr, "no-such-purpose", as_="children-family") for cpr in (known, unknown)
    ]
    bodies = [{k: v for k, v in r.json().items() if k != "instance"} for r in refusals]
    assert bodies[0] == bodies[1], "a refusal reads the same whoever the source knows"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("withdraw", {"reason": "Ringede fra 120391-1234"}),
        ("entered-in-error", {"reason": "wrong citizen, meant 1203911234"}),
        ("versions", {"reason": "extended for 1203911234", "valid_until": "2030-01-01"}),
        (
            "",
            consent_body("0101901234", evidence={"kind": "signed-form", "reference": "1203911234"}),
        ),
        ("", consent_body("0101901234", given_by={"kind": "guardian", "name": "Far 120391-1234"})),
        ("", consent_body("0101901234", case_ref="Sag 1203911234")),
    ],
)
def test_a_cpr_typed_into_free_text_is_refused_and_nothing_is_stored(
    path: str, body: dict[str, Any], gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    """Free text lands in plain text in the consent tables and the access log; a CPR there is a
    422 cpr_in_free_text (found by the scan above: a withdrawal's reason held one)."""
    citizen = twin_of("Sara Holm")
    created = gateway.post("/v1/consents", consent_body(citizen))
    assert created.status_code == 201
    consent = created.json()["id"]
    response = gateway.post(f"/v1/consents/{consent}/{path}" if path else "/v1/consents", body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "cpr_in_free_text"
    assert "1234" not in response.text, "the refusal does not echo the text"
    assert gateway.http is not None
    detail = gateway.http.get(f"/v1/consents/{consent}", headers=gateway.headers()).json()
    assert (detail["status"], len(detail["versions"])) == ("active", 1), "nothing was changed"
    # A number that is not a date is not a CPR: a journal number with ten digits is fine.
    fine = gateway.post(f"/v1/consents/{consent}/withdraw", {"reason": "J.nr. 9913001234"})
    assert fine.status_code == 200, fine.text
