"""The citizen view through the real stack: gateway over HTTP, simulated systems on loopback."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta

from demo.systems import SystemsInThread
from tests.builders import consent_body
from tests.support import LiveGateway


def _titles(view: dict, department: str) -> list[str]:
    return [f["title"] for f in view["timeline"] if f["department"] == department]


def _coverage(view: dict, department: str) -> dict:
    return next(line for line in view["coverage"] if line["department"] == department)


def _asked(systems: SystemsInThread, department: str, citizen: str) -> int:
    return sum(1 for r in systems[department].requests if r.citizen == citizen)


def test_without_consent_only_the_own_department_is_seen_and_the_rest_never_asked(
    gateway: LiveGateway, systems: SystemsInThread, twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Henrik Madsen")  # cash benefit and a day centre, never consented
    view = gateway.view(citizen, as_="jobcenter").json()
    assert {f["department"] for f in view["timeline"]} == {"jobcenter"}
    assert _titles(view, "jobcenter"), "the caseworker's own department is always shown"
    for department in ("children-family", "adult-social", "health"):
        line = _coverage(view, department)
        assert line["status"] == "not-covered"
        assert line["fragments"] == 0
        assert line["needs_consent_for"], "the view says what a consent would have to name"
        # Issue 13 item 8: and which consent that is, as the caseworker must tell the citizen.
        needed = line["consent_needed"]
        assert needed["from_departments"] == [department]
        assert needed["to_departments"] == ["jobcenter"]
        assert needed["purpose"] == "coordinated-plan"
        assert needed["categories"] == line["needs_consent_for"]
        assert set(needed["reasons"].values()) == {"no-consent"}
        assert _asked(systems, department, citizen) == 0, f"{department} was asked"
    assert _coverage(view, "health")["consent_needed"]["special"] == ["health"]
    assert _coverage(view, "jobcenter")["consent_needed"] is None, "own department is open"
    assert view["consents"] == []


def test_a_consent_opens_exactly_its_categories(
    gateway: LiveGateway, systems: SystemsInThread, twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Sara Holm")
    assert gateway.view(citizen).json()["timeline"] == []
    recorded = gateway.post("/v1/consents", consent_body(citizen, categories=["benefits"]))
    assert recorded.status_code == 201, recorded.text
    view = gateway.view(citizen).json()
    jobcenter = [f for f in view["timeline"] if f["department"] == "jobcenter"]
    assert jobcenter, "the consented benefits appear"
    assert {f["category"] for f in jobcenter} == {"benefits"}
    line = _coverage(view, "jobcenter")
    assert line["status"] == "included"
    assert line["categories"] == ["benefits"]
    assert "case-overview" in line["needs_consent_for"]
    assert view["consents"] == [{"id": recorded.json()["id"], "version": 1}]
    assert _asked(systems, "adult-social", citizen) == 0


def test_withdrawal_takes_effect_on_the_next_request(
    gateway: LiveGateway, systems: SystemsInThread, twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Sara Holm")
    consent_id = gateway.post("/v1/consents", consent_body(citizen)).json()["id"]
    assert _titles(gateway.view(citizen).json(), "jobcenter")
    withdrawn = gateway.post(f"/v1/consents/{consent_id}/withdraw", {"reason": "Citizen called"})
    assert withdrawn.status_code == 200
    assert withdrawn.json()["status"] == "withdrawn"
    asked_before = _asked(systems, "jobcenter", citizen)
    view = gateway.view(citizen).json()
    assert _titles(view, "jobcenter") == []
    assert _coverage(view, "jobcenter")["status"] == "not-covered"
    assert _asked(systems, "jobcenter", citizen) == asked_before


def test_an_expired_consent_opens_nothing(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Sara Holm")
    gateway.post("/v1/consents", consent_body(citizen)).raise_for_status()
    assert _titles(gateway.view(citizen).json(), "jobcenter")
    gateway.clock.offset = timedelta(days=200)  # valid_until was 180 days ahead
    view = gateway.view(citizen).json()
    assert _titles(view, "jobcenter") == []
    assert _coverage(view, "jobcenter")["status"] == "not-covered"
    search = gateway.post("/v1/consents/search", {"citizen": citizen}).json()
    assert [c["status"] for c in search["consents"]] == ["expired"]


def test_a_consent_not_yet_valid_opens_nothing_until_it_is(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Sara Holm")
    start = date.today() + timedelta(days=10)
    body = consent_body(
        citizen, valid_from=start.isoformat(), valid_until=(start + timedelta(days=30)).isoformat()
    )
    gateway.post("/v1/consents", body).raise_for_status()
    assert _titles(gateway.view(citizen).json(), "jobcenter") == []
    gateway.clock.offset = timedelta(days=11)
    assert _titles(gateway.view(citizen).json(), "jobcenter")


def test_a_consent_for_another_recipient_department_opens_nothing(
    gateway: LiveGateway, systems: SystemsInThread, twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Lars Vestergaard")
    body = consent_body(citizen, to_departments=["adult-social"])
    gateway.post("/v1/consents", body, as_="adult-social").raise_for_status()
    assert _titles(gateway.view(citizen, as_="adult-social").json(), "jobcenter")
    view = gateway.view(citizen, as_="children-family").json()
    assert view["timeline"] == []
    assert _asked(systems, "jobcenter", citizen) == 1  # only for adult-social's view


def test_a_consent_for_another_purpose_opens_nothing(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Sara Holm")
    gateway.post("/v1/consents", consent_body(citizen)).raise_for_status()
    assert _titles(gateway.view(citizen, "case-assessment").json(), "jobcenter") == []


def test_health_opens_only_for_a_consent_that_names_it(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Freja Andersen")  # placed child with health records
    everything_but_health = ["case-overview", "interventions", "plans-goals"]
    body = consent_body(citizen, from_departments=["health"], categories=everything_but_health)
    gateway.post("/v1/consents", body).raise_for_status()
    view = gateway.view(citizen).json()
    health = [f for f in view["timeline"] if f["department"] == "health"]
    assert health, "the health department's case overview is shared"
    assert "health" not in {f["category"] for f in health}
    assert "health" in _coverage(view, "health")["needs_consent_for"]

    naming = consent_body(citizen, from_departments=["health"], categories=["health"])
    gateway.post("/v1/consents", naming).raise_for_status()
    view = gateway.view(citizen).json()
    assert "health" in {f["category"] for f in view["timeline"] if f["department"] == "health"}


def test_fragments_about_another_citizen_are_dropped_and_the_drop_logged(
    gateway: LiveGateway, systems: SystemsInThread, twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Sara Holm")
    gateway.post("/v1/consents", consent_body(citizen)).raise_for_status()
    systems["jobcenter"].behaviour.foreign_citizen = True
    view = gateway.view(citizen).json()
    assert view["timeline"]
    assert {f["citizen"] for f in view["timeline"]} == {citizen}
    entry = next(
        e for e in gateway.audit_entries(action="view") if e["seq"] == view["access_entry"]
    )
    # The system also sent categories nobody asked for; those are dropped too.
    assert entry["detail"]["dropped"]["jobcenter-momentum"]["other-citizen"] == 1


def test_a_slow_source_is_cut_at_the_deadline_while_the_rest_is_served(
    gateway: LiveGateway, systems: SystemsInThread, twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Lars Vestergaard")
    body = consent_body(citizen, to_departments=["adult-social"], categories=["interventions"])
    gateway.post("/v1/consents", body, as_="adult-social").raise_for_status()
    systems["jobcenter"].behaviour.delay = 30
    started = time.monotonic()
    view = gateway.view(citizen, as_="adult-social").json()
    elapsed = time.monotonic() - started
    assert elapsed < 10, "the view must not wait for the slow source"
    line = _coverage(view, "jobcenter")
    assert line["status"] == "unavailable"
    assert line["problem"] == "timeout"
    assert _titles(view, "adult-social"), "the own department's data is served"


def test_a_source_that_is_down_or_broken_shows_unavailable(
    gateway: LiveGateway, systems: SystemsInThread, twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Sara Holm")
    gateway.post("/v1/consents", consent_body(citizen)).raise_for_status()
    for breakage, problem in (
        ({"fail_status": 500}, "http_status"),
        ({"invalid_json": True}, "invalid_json"),
        ({"oversize_bytes": 6_000_000}, "too_large"),
    ):
        for key, value in breakage.items():
            setattr(systems["jobcenter"].behaviour, key, value)
        response = gateway.view(citizen)
        assert response.status_code == 200
        line = _coverage(response.json(), "jobcenter")
        assert (line["status"], line["problem"]) == ("unavailable", problem)
        systems["jobcenter"].reset()


def test_a_stopped_source_shows_unavailable(
    own_gateway: Callable[..., object], systems: SystemsInThread, twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Sara Holm")
    jobcenter = systems["jobcenter"]
    port = int(jobcenter.base_url.rsplit(":", 1)[1])
    with own_gateway() as gateway:  # type: ignore[attr-defined]
        gateway.post("/v1/consents", consent_body(citizen)).raise_for_status()
        systems.run(jobcenter.stop())
        try:
            line = _coverage(gateway.view(citizen).json(), "jobcenter")
            assert (line["status"], line["problem"]) == ("unavailable", "unreachable")
        finally:
            systems.run(jobcenter.start("127.0.0.1", port))


def test_the_same_help_from_two_departments_is_pointed_out(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Lars Vestergaard")  # § 85 support and a jobcenter mentor at once
    body = consent_body(citizen, to_departments=["adult-social"], categories=["interventions"])
    gateway.post("/v1/consents", body, as_="adult-social").raise_for_status()
    overlaps = gateway.view(citizen, as_="adult-social").json()["overlaps"]
    assert [(o["help_type"], sorted(o["departments"])) for o in overlaps] == [
        ("personal-support", ["adult-social", "jobcenter"])
    ]


def test_every_request_left_an_entry_and_the_chain_verifies(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Sara Holm")
    before = gateway.verify()["entries"]
    consent_id = gateway.post("/v1/consents", consent_body(citizen)).json()["id"]
    view = gateway.view(citizen).json()
    gateway.post(f"/v1/consents/{consent_id}/withdraw", {"reason": "Moved away"})
    gateway.view(citizen)
    gateway.view("0101901234x")  # refused: malformed CPR
    entries = gateway.audit_entries()
    mine = [e for e in entries if e["citizen"] == citizen]
    assert [e["action"] for e in reversed(mine)] == [
        "consent.record",
        "view",
        "consent.withdraw",
        "view",
    ]
    assert any(e["reason"] == "invalid_cpr" and e["outcome"] == "denied" for e in entries)
    view_entry = next(e for e in mine if e["seq"] == view["access_entry"])
    released = {
        (line["source"], line["category"]): line["status"] for line in view_entry["released"]
    }
    assert released[("jobcenter-momentum", "benefits")] == "released"
    assert released[("adult-social-sensum", "interventions")] == "not-asked"
    report = gateway.verify()
    assert report["ok"] is True
    assert report["entries"] >= before + 6
