"""The four kinds behind the real gateway: failures stay inside their coverage line, the breaker
works at view level, IT operations see and check the sources (API and CLI)."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from demo.sources import source_configs
from demo.systems import SystemsInThread
from demo.test_citizens import TEST_CITIZEN
from gateway.cli import app as cli
from tests.builders import consent_body
from tests.support import LiveGateway, live_gateway

INJECTION = "'; DROP TABLE borger; --"


def _coverage(view: dict[str, Any], department: str) -> dict[str, Any]:
    return next(line for line in view["coverage"] if line["department"] == department)


def _lars_shared_with_jobcenter(gateway: LiveGateway, twin_of: Callable[[str], str]) -> str:
    citizen = twin_of("Lars Vestergaard")
    body = consent_body(
        citizen,
        from_departments=["adult-social", "health"],
        to_departments=["jobcenter"],
        categories=["case-overview", "interventions"],
    )
    gateway.post("/v1/consents", body, as_="jobcenter").raise_for_status()
    return citizen


@pytest.mark.parametrize(
    ("breakage", "problem"),
    [
        ({"xml_bomb": True}, "unsafe_xml"),
        ({"external_entity": True}, "unsafe_xml"),
        ({"invalid_json": True}, "invalid_xml"),
        ({"fail_status": 500}, "http_status"),
        ({"oversize_bytes": 6_000_000}, "too_large"),
        ({"delay": 30}, "timeout"),
    ],
)
def test_a_broken_soap_source_never_breaks_the_view(
    breakage: dict[str, Any],
    problem: str,
    gateway: LiveGateway,
    systems: SystemsInThread,
    twin_of: Callable[[str], str],
) -> None:
    citizen = _lars_shared_with_jobcenter(gateway, twin_of)
    sensum = systems["adult-social"]
    for key, value in breakage.items():
        setattr(sensum.behaviour, key, value)
    started = time.monotonic()
    response = gateway.view(citizen, as_="jobcenter")
    assert time.monotonic() - started < 5
    assert response.status_code == 200
    view = response.json()
    line = _coverage(view, "adult-social")
    assert (line["status"], line["problem"]) == ("unavailable", problem)
    assert _coverage(view, "health")["status"] == "included", "the others arrive"
    assert {f["department"] for f in view["timeline"]} == {"jobcenter", "health"}
    assert sensum.external_fetches == 0
    sensum.reset()
    assert (
        _coverage(gateway.view(citizen, as_="jobcenter").json(), "adult-social")["status"]
        == "included"
    ), "one success after each failure keeps the breaker closed"


def test_fragments_about_another_citizen_from_soap_are_dropped(
    gateway: LiveGateway, systems: SystemsInThread, twin_of: Callable[[str], str]
) -> None:
    citizen = _lars_shared_with_jobcenter(gateway, twin_of)
    systems["adult-social"].behaviour.foreign_citizen = True
    view = gateway.view(citizen, as_="jobcenter").json()
    assert {f["citizen"] for f in view["timeline"]} == {citizen}
    entry = next(
        e for e in gateway.audit_entries(action="view") if e["seq"] == view["access_entry"]
    )
    assert entry["detail"]["dropped"]["adult-social-sensum"]["other-citizen"] == 1


def test_the_sql_and_csv_sources_serve_their_departments(
    gateway: LiveGateway, systems: SystemsInThread, twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Freja Andersen")  # a placed child with health records
    body = consent_body(citizen, from_departments=["health"], categories=["case-overview"])
    gateway.post("/v1/consents", body).raise_for_status()
    view = gateway.view(citizen).json()  # children-family: own CSV data, health's by SQL
    departments = {f["department"] for f in view["timeline"]}
    assert departments == {"children-family", "health"}
    assert _coverage(view, "children-family")["as_of"] is not None
    assert _coverage(view, "health")["as_of"] is None, "a live source is as of now"
    assert {r.citizen for r in systems["health"].requests} == {citizen}


def test_a_cpr_that_is_an_injection_attempt_gets_a_4xx_and_nothing_else(
    gateway: LiveGateway, systems: SystemsInThread
) -> None:
    response = gateway.view(INJECTION, as_="health")
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_cpr"
    assert systems["health"].requests == []
    assert gateway.http is not None
    check = gateway.http.post(
        "/v1/sources/health-nexus/check",
        json={"citizen": INJECTION},
        headers=gateway.headers("itops", None),
    )
    assert check.status_code == 422
    assert check.json()["code"] == "invalid_cpr"
    assert systems["health"].requests == []


def test_the_breaker_opens_on_a_failing_source_and_closes_when_it_recovers(
    tmp_path: Path,
    new_database: Callable[[], str],
    systems: SystemsInThread,
    twin_of: Callable[[str], str],
) -> None:
    configs = copy.deepcopy(source_configs(systems.systems))
    jobcenter = next(c for c in configs if c["department"] == "jobcenter")
    # The reset is long enough that a loaded machine cannot let it lapse between the views that
    # expect the circuit open (0.5 s did, under CI load).
    reset = 3.0
    jobcenter["resilience"] = {"breaker_failures": 2, "breaker_reset_seconds": reset, "retries": 0}
    citizen = twin_of("Sara Holm")
    momentum = systems["jobcenter"]
    with live_gateway(tmp_path, new_database(), configs) as gateway:
        gateway.post("/v1/consents", consent_body(citizen)).raise_for_status()
        momentum.behaviour.fail_status = 500
        problems = [
            _coverage(gateway.view(citizen).json(), "jobcenter")["problem"] for _ in range(3)
        ]
        assert problems == ["http_status", "http_status", "circuit_open"]
        asked = len(momentum.requests)
        assert gateway.http is not None
        itops = gateway.headers("itops", None)
        status = {
            s["name"]: s for s in gateway.http.get("/v1/sources", headers=itops).json()["sources"]
        }
        assert status["jobcenter-momentum"]["breaker"] == "open"
        assert status["jobcenter-momentum"]["last_error"]["code"] == "http_status"
        momentum.reset()
        assert _coverage(gateway.view(citizen).json(), "jobcenter")["problem"] == "circuit_open"
        assert len(momentum.requests) == 0, "an open circuit does not ask the source"
        del asked
        time.sleep(reset + 0.1)
        line = _coverage(gateway.view(citizen).json(), "jobcenter")
        assert line["status"] == "included"
        status = {
            s["name"]: s for s in gateway.http.get("/v1/sources", headers=itops).json()["sources"]
        }
        assert status["jobcenter-momentum"]["breaker"] == "closed"


def test_itops_sees_every_source_at_a_glance(gateway: LiveGateway) -> None:
    assert gateway.http is not None
    gateway.view("0101901234")  # at least one call for latency figures
    response = gateway.http.get("/v1/sources", headers=gateway.headers("itops", None))
    assert response.status_code == 200
    sources = {s["name"]: s for s in response.json()["sources"]}
    assert {name: s["kind"] for name, s in sources.items()} == {
        "children-family-dubu": "csv_drop",
        "jobcenter-momentum": "rest_json",
        "adult-social-sensum": "soap_xml",
        "health-nexus": "sql",
    }
    for source in sources.values():
        assert source["health"]["healthy"] is True, source
        assert source["breaker"] in ("closed", "half-open")
    assert sources["children-family-dubu"]["export"]["rows"] > 0
    assert sources["children-family-dubu"]["latency_ms"]["p50"] >= 0
    refused = gateway.http.get("/v1/sources", headers=gateway.headers())
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"


def test_a_check_maps_a_test_citizens_records_lists_problems_and_logs_it(
    gateway: LiveGateway, systems: SystemsInThread
) -> None:
    assert gateway.http is not None
    itops = gateway.headers("itops", None)
    for name in ("health-nexus", "adult-social-sensum", "children-family-dubu"):
        plain = gateway.http.post(f"/v1/sources/{name}/check", headers=itops).json()
        assert plain["ok"] is True, plain
        assert plain["fragments"] == []
        assert plain["access_entry"] is None
    report = gateway.http.post(
        "/v1/sources/health-nexus/check", json={"citizen": TEST_CITIZEN}, headers=itops
    ).json()
    assert report["ok"] is True
    assert report["fragments"], "the test citizen's synthetic records are mapped and shown"
    assert {f["citizen"] for f in report["fragments"]} == {TEST_CITIZEN}
    entry = next(
        e
        for e in gateway.audit_entries(action="source.check")
        if e["seq"] == report["access_entry"]
    )
    assert entry["citizen"] == TEST_CITIZEN
    assert entry["target"] == "health-nexus"

    systems["jobcenter"].behaviour.foreign_citizen = True
    failing = gateway.http.post(
        "/v1/sources/jobcenter-momentum/check", json={"citizen": TEST_CITIZEN}, headers=itops
    ).json()
    assert failing["ok"] is False
    assert [p["code"] for p in failing["problems"]] == ["other-citizen"]
    assert {f["citizen"] for f in failing["fragments"]} == {TEST_CITIZEN}, "never another's"
    missing = gateway.http.post("/v1/sources/payroll/check", headers=itops)
    assert (missing.status_code, missing.json()["code"]) == (404, "unknown_source")


def test_it_operations_never_read_a_real_citizens_case_and_the_dpo_sees_the_attempt(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    """Issue 13 item 1: a check naming a placed child's CPR returned her health journal text
    to an itops token, with no consent and no purpose."""
    assert gateway.http is not None
    freja = twin_of("Freja Andersen")
    refused = gateway.http.post(
        "/v1/sources/health-nexus/check",
        json={"citizen": freja},
        headers=gateway.headers("itops", None),
    )
    assert refused.status_code == 403
    problem = refused.json()
    assert problem["code"] == "not_a_test_citizen"
    assert "fragments" not in problem
    request_id = refused.headers["x-request-id"]
    logged = [
        e for e in gateway.audit_entries(action="source.check") if e["request_id"] == request_id
    ]
    assert [(e["outcome"], e["citizen"]) for e in logged] == [("denied", freja)]

    dpo = gateway.headers("dpo", None)
    found = gateway.http.get("/v1/audit/anomalies", headers=dpo).json()["anomalies"]
    flagged = [a for a in found if a["kind"] == "real-citizen-checked"]
    assert any(logged[0]["seq"] in a["entries"] for a in flagged)
    checked_test_citizen = gateway.http.post(
        "/v1/sources/health-nexus/check",
        json={"citizen": TEST_CITIZEN},
        headers=gateway.headers("itops", None),
    ).json()
    found = gateway.http.get("/v1/audit/anomalies", headers=dpo).json()["anomalies"]
    assert not any(
        checked_test_citizen["access_entry"] in a["entries"]
        for a in found
        if a["kind"] == "real-citizen-checked"
    ), "a test citizen is not a real person"


def test_the_cli_check_prints_tables_and_exits_1_on_a_problem(
    gateway: LiveGateway, systems: SystemsInThread, twin_of: Callable[[str], str]
) -> None:
    settings = gateway.settings
    env = {
        "HELHED_HOME": str(settings.home),
        "HELHED_DATABASE_URL": settings.database_url or "",
        "HELHED_SOURCES": json.dumps([s.model_dump(mode="json") for s in settings.sources]),
        "COLUMNS": "200",
    }
    citizen = TEST_CITIZEN
    result = CliRunner().invoke(
        cli, ["sources", "check", "health-nexus", "--citizen", citizen], env=env
    )
    assert result.exit_code == 0, result.output
    assert "health-nexus" in result.output
    assert "Fragments" in result.output
    assert "access log" in result.output
    systems["adult-social"].behaviour.xml_bomb = True
    result = CliRunner().invoke(
        cli, ["sources", "check", "adult-social-sensum", "--citizen", citizen], env=env
    )
    assert result.exit_code == 1
    assert "unsafe_xml" in result.output
    bad = CliRunner().invoke(cli, ["sources", "check", "--citizen", INJECTION], env=env)
    assert bad.exit_code == 2
    real = twin_of("Inger Poulsen")
    refused = CliRunner().invoke(
        cli, ["sources", "check", "health-nexus", "--citizen", real], env=env
    )
    assert refused.exit_code == 2
    assert "test citizens" in refused.output
    assert "Fragments" not in refused.output
    assert [
        e["reason"]
        for e in gateway.audit_entries(action="source.check", outcome="denied")
        if e["citizen"] == real
    ] == ["not_a_test_citizen"]


def test_sources_check_finds_the_demos_configuration_and_calls_none_an_error(
    tmp_path: Path, gateway: LiveGateway
) -> None:
    """Issue 13 item 3: without --config it knew no sources, printed nothing and exited 0."""
    from demo.run import write_config_file

    nowhere = CliRunner().invoke(
        cli, ["sources", "check"], env={"HELHED_HOME": str(tmp_path / "empty")}
    )
    assert nowhere.exit_code == 2
    assert "No sources are configured" in nowhere.output
    named = CliRunner().invoke(
        cli, ["sources", "check", "health-nexus"], env={"HELHED_HOME": str(tmp_path / "empty")}
    )
    assert named.exit_code == 2
    demo_home = tmp_path / "demo"
    write_config_file(
        demo_home, {"sources": [s.model_dump(mode="json") for s in gateway.settings.sources]}
    )
    found = CliRunner().invoke(
        cli,
        ["sources", "check", "health-nexus"],
        env={"HELHED_HOME": str(demo_home), "COLUMNS": "200"},
    )
    assert found.exit_code == 0, found.output
    assert "health-nexus (sql, health): healthy" in found.output
