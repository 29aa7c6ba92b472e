"""What the DPO and the citizen get out of the log: search, export, anomalies, the insight
report with its proofs, and retention that prunes without breaking the tree."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from tests.builders import consent_body
from tests.support import LiveGateway
from tests.test_access_log_proofs import inclusion_ok, note_ok


def _citizen_headers(gateway: LiveGateway, cpr: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {gateway.token('citizen', None, subject=cpr)}"}


def test_the_dpo_searches_by_citizen_in_the_body_and_exports(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    assert gateway.http is not None
    citizen = twin_of("Sara Holm")
    gateway.post("/v1/consents", consent_body(citizen)).raise_for_status()
    gateway.view(citizen).raise_for_status()
    dpo = gateway.headers("dpo", None)
    found = gateway.http.post(
        "/v1/audit/search", json={"citizen": citizen, "action": "view"}, headers=dpo
    ).json()
    assert [e["citizen"] for e in found["entries"]] == [citizen]
    logged = gateway.audit_entries(action="audit.query", actor="dpo-none")
    assert any(e["citizen"] == citizen for e in logged), "the search itself is logged"

    lines = gateway.http.get(
        "/v1/audit/export", params={"format": "jsonl", "action": "view"}, headers=dpo
    )
    assert lines.headers["content-type"].startswith("application/x-ndjson")
    assert citizen in {json.loads(line)["citizen"] for line in lines.text.splitlines()}
    table = gateway.http.get("/v1/audit/export", params={"format": "csv"}, headers=dpo).text
    rows = list(csv.DictReader(io.StringIO(table)))
    assert any(row["citizen"] == citizen and row["action"] == "view" for row in rows)
    bundle = gateway.http.get(
        "/v1/audit/export", params={"format": "fhir", "action": "view"}, headers=dpo
    ).json()
    assert bundle["resourceType"] == "Bundle"
    events = [entry["resource"] for entry in bundle["entry"]]
    assert all(event["resourceType"] == "AuditEvent" for event in events)
    assert any(
        entity.get("what", {}).get("identifier", {}).get("value") == citizen
        for event in events
        for entity in event.get("entity", [])
    )
    assert gateway.audit_entries(action="audit.export"), "exports are logged"
    caseworker = gateway.http.get("/v1/audit/export", headers=gateway.headers())
    assert caseworker.status_code == 403


def test_the_citizen_gets_their_own_report_with_proofs_and_nobody_elses(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    assert gateway.http is not None
    citizen, other = twin_of("Sara Holm"), twin_of("Henrik Madsen")
    gateway.post("/v1/consents", consent_body(citizen)).raise_for_status()
    gateway.view(citizen).raise_for_status()
    gateway.view(other).raise_for_status()
    mine = _citizen_headers(gateway, citizen)

    report = gateway.http.post("/v1/audit/citizen-report", json={}, headers=mine).json()
    assert report["citizen"] == citizen
    actions = [line["action"] for line in report["lines"]]
    assert actions == ["consent.record", "view"]
    view = report["lines"][1]
    assert view["department"] == "children-family"
    assert view["purpose"] == "coordinated-plan"
    assert view["employee"] is None, "the employee is withheld from the citizen"
    assert {"department": "jobcenter", "category": "benefits"} in view["released"]
    jwks = gateway.http.get("/v1/keys").json()
    ok, size, root = note_ok(report["checkpoint"], jwks)
    assert ok
    for line in report["lines"]:
        assert inclusion_ok(line["proof"], root, size)
    assert "Test caseworker" not in json.dumps(report)

    page = gateway.http.post("/v1/audit/citizen-report", json={"format": "html"}, headers=mine)
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="da">' in page.text
    assert "Hvem har brugt dine oplysninger" in page.text
    assert "Børn og Familie så oplysninger om dig på tværs af afdelinger" in page.text
    assert "children-family" not in page.text, "departments as names, not slugs"
    english = gateway.http.post(
        "/v1/audit/citizen-report", json={"format": "html", "language": "en"}, headers=mine
    )
    assert "Who has used your information" in english.text

    refused = gateway.http.post("/v1/audit/citizen-report", json={"citizen": other}, headers=mine)
    assert (refused.status_code, refused.json()["code"]) == (403, "not_your_report")
    for role, department in (("caseworker", "children-family"), ("itops", None)):
        response = gateway.http.post(
            "/v1/audit/citizen-report",
            json={"citizen": citizen},
            headers=gateway.headers(role, department),
        )
        assert response.status_code == 403
        listing = gateway.http.get("/v1/audit/entries", headers=_citizen_headers(gateway, citizen))
        assert listing.status_code == 403, "a citizen reads no other entries"

    dpo = gateway.http.post(
        "/v1/audit/citizen-report",
        json={"citizen": citizen, "show_employees": True},
        headers=gateway.headers("dpo", None),
    ).json()
    assert dpo["lines"][1]["employee"]["name"] == "Test caseworker"
    stored = gateway.audit_entries(action="audit.report")
    assert citizen not in {e["actor"]["subject"] for e in stored}, "no CPR as a log subject"


def test_refused_attempts_reach_the_citizens_report_as_refusals_in_sentences(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    """Issue 13 item 7: a wrong role and an unknown purpose were logged without the citizen,
    or read as a look-up; the report's lines showed raw Merkle hash paths."""
    assert gateway.http is not None
    citizen = twin_of("Sara Holm")
    wrong_role = gateway.http.post(
        "/v1/views",
        json={"citizen": citizen, "purpose": "coordinated-plan"},
        headers=gateway.headers("itops", None),
    )
    assert wrong_role.status_code == 403
    unknown_purpose = gateway.view(citizen, purpose="curiosity")
    assert (unknown_purpose.status_code, unknown_purpose.json()["code"]) == (
        422,
        "unknown_purpose",
    )
    no_token = gateway.http.post(
        "/v1/views", json={"citizen": citizen, "purpose": "coordinated-plan"}
    )
    assert no_token.status_code == 401
    refused = [e for e in gateway.audit_entries(action="view") if e["outcome"] == "denied"]
    mine = [e for e in refused if e["citizen"] == citizen]
    assert sorted(e["reason"] for e in mine) == ["forbidden", "missing_token", "unknown_purpose"]

    headers = _citizen_headers(gateway, citizen)
    report = gateway.http.post("/v1/audit/citizen-report", json={}, headers=headers).json()
    sentences = [line["description"] for line in report["lines"]]
    assert sentences == [
        "IT-driften forsøgte at se oplysninger om dig på tværs af afdelinger. "
        "Det blev afvist, og intet blev vist.",
        "Børn og Familie forsøgte at se oplysninger om dig på tværs af afdelinger. "
        "Det blev afvist, og intet blev vist.",
        "En ukendt bruger forsøgte at se oplysninger om dig på tværs af afdelinger. "
        "Det blev afvist, og intet blev vist.",
    ]
    page = gateway.http.post(
        "/v1/audit/citizen-report", json={"format": "html"}, headers=headers
    ).text
    assert "Det blev afvist" in page
    for line in report["lines"]:
        assert line["proof"]["leaf_hash"] not in page, "no hashes for the citizen to read"
        assert line["when"] in page, "times in Copenhagen time, as words"
    assert 'download="proofs-' in page, "the proofs stay downloadable"


def test_anomalies_name_night_views_views_without_an_own_case_and_repeated_denials(
    own_gateway: Callable[..., Any], twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Sara Holm")
    with own_gateway(
        audit={
            "citizens_per_day_threshold": 1,
            "working_hours_start": "00:00",
            "working_hours_end": "00:01",
        }
    ) as gateway:
        assert gateway.http is not None
        gateway.view(citizen, as_="health").raise_for_status()
        gateway.view(twin_of("Henrik Madsen"), as_="health").raise_for_status()
        for _ in range(3):
            gateway.http.post("/v1/views", json={"citizen": "x"}, headers=gateway.headers())
        found = gateway.http.get(
            "/v1/audit/anomalies", headers=gateway.headers("dpo", None)
        ).json()["anomalies"]
        kinds = {(a["kind"], a["actor"]) for a in found}
        assert ("many-citizens", "caseworker-health") in kinds
        assert ("outside-working-hours", "caseworker-health") in kinds
        assert ("repeated-denials", "caseworker-children-family") in kinds
        assert ("no-own-case", "caseworker-health") in kinds


def test_the_demos_tour_at_night_does_not_drown_the_anomalies(
    own_gateway: Callable[..., Any], twin_of: Callable[[str], str]
) -> None:
    """Issue 13 item 14: run at night, the demo flagged every view as outside working hours.
    The report says which configured rules it judged by."""
    from demo.run import DEMO_AUDIT

    night = {"working_hours_start": "00:00", "working_hours_end": "00:01"}
    with own_gateway(audit={**night, **DEMO_AUDIT}) as gateway:
        assert gateway.http is not None
        gateway.view(twin_of("Sara Holm"), as_="health").raise_for_status()
        report = gateway.http.get(
            "/v1/audit/anomalies", headers=gateway.headers("dpo", None)
        ).json()
        assert "outside-working-hours" not in {a["kind"] for a in report["anomalies"]}
        assert report["judged_by"]["working_hours"] == {
            "start": "00:00",
            "end": "00:01",
            "days": [1, 2, 3, 4, 5],
            "flagged": False,
        }


def test_many_citizens_is_judged_against_what_the_department_usually_does(
    own_gateway: Callable[..., Any],
) -> None:
    from tests.conftest import fresh_cpr

    every_day = {"working_days": [1, 2, 3, 4, 5, 6, 7]}
    with own_gateway(
        audit={"citizens_per_day_threshold": 100, "citizens_per_day_floor": 5, **every_day}
    ) as gateway:
        assert gateway.http is not None

        def views(person: str, department: str, citizens: int) -> None:
            token = gateway.token("caseworker", department, subject=person)
            for _ in range(citizens):
                gateway.http.post(
                    "/v1/views",
                    json={"citizen": fresh_cpr(), "purpose": "coordinated-plan"},
                    headers={"Authorization": f"Bearer {token}"},
                ).raise_for_status()

        # Before the report's period, jobcenter's people each see two citizens a day.
        for days_ago in range(2, 8):
            gateway.clock.offset = -timedelta(days=days_ago)
            for person in ("anne", "bo", "carl"):
                views(person, "jobcenter", 2)
        gateway.clock.offset = timedelta()
        views("anne", "jobcenter", 8)  # far more than her colleagues' usual day
        views("bo", "jobcenter", 3)  # a busy day, not an unusual one
        views("dorte", "children-family", 8)  # no baseline there: only the ceiling counts
        since = (gateway.clock.now() - timedelta(days=1)).isoformat()
        found = gateway.http.get(
            "/v1/audit/anomalies", params={"since": since}, headers=gateway.headers("dpo", None)
        ).json()["anomalies"]
        many = {a["actor"]: a for a in found if a["kind"] == "many-citizens"}
        assert set(many) == {"anne"}, many
        assert many["anne"]["count"] == 8
        assert many["anne"]["baseline"] == {"median": 2, "limit": 6.0, "person_days": 18}


def test_retention_prunes_old_bodies_in_checkpointed_ranges_and_the_tree_still_verifies(
    own_gateway: Callable[..., Any], twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Sara Holm")
    with own_gateway(scheduler_enabled=False) as gateway:
        assert gateway.http is not None
        gateway.post("/v1/consents", consent_body(citizen)).raise_for_status()
        gateway.view(citizen).raise_for_status()
        jobs = gateway.app.state.jobs
        asyncio.run(jobs.run_once("audit-checkpoint"))
        old = gateway.http.get("/v1/audit/checkpoints/latest").text
        gateway.clock.offset = timedelta(days=30 * 25)
        gateway.view(citizen).raise_for_status()  # young: stays
        asyncio.run(jobs.run_once("audit-retention"))
        dpo = gateway.headers("dpo", None)
        entries = {e["seq"]: e for e in gateway.audit_entries()}
        assert entries[1]["detail"] == {"pruned": True}
        assert entries[1]["citizen"] is None
        pruning = [e for e in entries.values() if e["action"] == "audit.retention"]
        assert pruning
        assert pruning[0]["detail"]["pruned_from"] == 1
        assert gateway.verify()["ok"] is True
        asyncio.run(jobs.run_once("audit-checkpoint"))
        note = gateway.http.get("/v1/audit/checkpoints/latest").text
        ok, size, root = note_ok(note, gateway.http.get("/v1/keys").json())
        assert ok
        proof = gateway.http.get(
            "/v1/audit/entries/1/proof", params={"tree_size": size}, headers=dpo
        ).json()
        assert proof["entry"] is None
        assert inclusion_ok(proof, root, size)
        old_size = note_ok(old, gateway.http.get("/v1/keys").json())[1]
        consistency = gateway.http.get(
            "/v1/audit/consistency", params={"first": old_size, "second": size}
        )
        assert consistency.status_code == 200
        report = gateway.http.post(
            "/v1/audit/citizen-report", json={}, headers=_citizen_headers(gateway, citizen)
        ).json()
        assert [line["action"] for line in report["lines"]] == ["view"], "only the young one"
        assert base64.b64decode(proof["leaf_hash"])


def test_rotated_keys_sign_and_encrypt_from_then_on_and_old_ones_still_verify_and_decrypt(
    own_gateway: Callable[..., Any], twin_of: Callable[[str], str]
) -> None:
    from typer.testing import CliRunner

    from gateway.cli import app as cli
    from gateway.cpr_protection import CprProtector
    from tests.support import LiveGateway as Live

    citizen = twin_of("Sara Holm")
    with own_gateway(scheduler_enabled=False) as gateway:
        gateway.post("/v1/consents", consent_body(citizen)).raise_for_status()
        asyncio.run(gateway.app.state.jobs.run_once("audit-checkpoint"))
        old_cpr_kid = _latest_ciphertext_kid(gateway)
        env = {"HELHED_HOME": str(gateway.settings.home)}
        for use in ("checkpoint", "cpr"):
            rotated = CliRunner().invoke(cli, ["keys", "rotate", "--use", use], env=env)
            assert rotated.exit_code == 0, rotated.output
        fresh = CprProtector.from_keys_dir(gateway.settings.keys_dir)
        assert gateway.runtime.protector.decrypt(fresh.encrypt(citizen)) == citizen
        # The running gateway takes the new keys up by itself (it looks once a second).
        time.sleep(1.1)
        gateway.view(citizen).raise_for_status()
        assert _latest_ciphertext_kid(gateway) not in (old_cpr_kid, None)
        asyncio.run(gateway.app.state.jobs.run_once("audit-checkpoint"))
        listed = gateway.http.get("/v1/audit/checkpoints").json()["checkpoints"]
        assert len({c["key_id"] for c in listed}) == 2, "signed with the new key, no restart"
        gateway.stop()
        second = Live(gateway.settings).start()
        try:
            assert second.http is not None
            second.view(citizen).raise_for_status()
            jwks = second.http.get("/v1/keys").json()
            assert len([k for k in jwks["keys"] if k["helhed_use"] == "checkpoint"]) == 2
            assert second.verify()["ok"] is True
            assert {e["citizen"] for e in second.audit_entries(action="view")} == {citizen}
            assert {e["citizen"] for e in second.audit_entries(action="consent.record")} == {
                citizen
            }
        finally:
            second.stop()


def _latest_ciphertext_kid(gateway: LiveGateway) -> str | None:
    """The id of the AES key that sealed the CPR in the newest entry naming a citizen."""
    with gateway.runtime.engine.connect() as connection:
        body = connection.execute(
            text(
                "SELECT body FROM access_entry WHERE citizen_hash IS NOT NULL"
                " ORDER BY seq DESC LIMIT 1"
            )
        ).scalar_one()
    ciphertext = json.loads(body)["citizen_ciphertext"]
    return str(ciphertext).partition(".")[0] if ciphertext else None


@pytest.mark.parametrize(
    "path",
    [
        "/v1/audit/entries?since=2000-01-01T00:00:00",
        "/v1/audit/export?format=jsonl&since=2000-01-01T00:00:00&until=2999-01-01T00:00:00",
        "/v1/audit/anomalies?since=2000-01-01T00:00:00&until=2999-01-01T00:00:00",
        "/v1/audit/checkpoints?since=2000-01-01T00:00:00",
    ],
)
def test_times_without_an_offset_are_danish_time_everywhere(
    gateway: LiveGateway, path: str
) -> None:
    """A DPO typing a time types Danish time; it must never reach the database naive (a 500)."""
    assert gateway.http is not None
    response = gateway.http.get(path, headers=gateway.headers("dpo", None))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "path",
    [
        "/v1/audit/entries/141512311335493464796088600887296/proof",
        "/v1/audit/entries/1/proof?tree_size=99999999999999999999",
        "/v1/audit/consistency?first=1&second=99999999999999999999",
        "/v1/audit/checkpoints?cursor=99999999999999999999",
        "/v1/audit/entries?cursor=99999999999999999999",
    ],
)
def test_positions_beyond_64_bits_are_bad_input_not_a_crash(
    gateway: LiveGateway, path: str
) -> None:
    """Found by schemathesis: such numbers overflowed the database driver (a 500)."""
    assert gateway.http is not None
    response = gateway.http.get(path, headers=gateway.headers("dpo", None))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_every_action_that_can_name_a_citizen_reads_as_a_sentence_in_their_report() -> None:
    from gateway.access_log.citizen_report import NEVER_ABOUT_A_CITIZEN
    from gateway.access_log.report_words import DONE
    from schemas.access import Action

    for language, described in DONE.items():
        assert set(Action) == set(described) | NEVER_ABOUT_A_CITIZEN, language
        assert not set(described) & NEVER_ABOUT_A_CITIZEN


def test_a_report_line_reads_as_one_sentence_grouped_by_department(gateway: LiveGateway) -> None:
    from gateway.access_log.report_words import sentence

    catalog = gateway.runtime.catalog
    view = {
        "action": "view",
        "outcome": "success",
        "department": "children-family",
        "purpose": None,
        "released": [
            {"department": "jobcenter", "category": "case-overview"},
            {"department": "jobcenter", "category": "benefits"},
            {"department": "health", "category": "interventions"},
        ],
    }
    said = sentence(view, roles=["caseworker"], catalog=catalog, language="da")
    assert said == (
        "Børn og Familie så oplysninger om dig på tværs af afdelinger. "
        "Delt fra Jobcenter: sagsoverblik og ydelser; fra Sundhed og Omsorg: indsatser."
    )
    nothing = sentence(
        {**view, "released": []}, roles=["caseworker"], catalog=catalog, language="en"
    )
    assert nothing.endswith("There was nothing to share.")
    withdrawn = {**view, "action": "consent.withdraw", "department": None, "released": []}
    assert sentence(withdrawn, roles=["citizen"], catalog=catalog, language="da") == (
        "Du trak et af dine samtykker tilbage."
    )
