"""The consent lifecycle over HTTP: versions, events, expiry, retraction, data periods, usage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from tests.builders import consent_body
from tests.support import LiveGateway

TODAY = date.today()


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    return response.json()


def _get(gateway: LiveGateway, path: str, department: str = "children-family") -> Any:
    assert gateway.http is not None
    return gateway.http.get(path, headers=gateway.headers("caseworker", department))


def _jobcenter_categories(gateway: LiveGateway, citizen: str) -> set[str]:
    view = gateway.view(citizen).json()
    return {f["category"] for f in view["timeline"] if f["department"] == "jobcenter"}


def test_a_new_version_supersedes_the_old_which_stays_readable(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Sara Holm")
    first = gateway.post("/v1/consents", consent_body(citizen, categories=["benefits"])).json()
    assert _jobcenter_categories(gateway, citizen) == {"benefits"}

    change = {"categories": ["case-overview"], "reason": "Citizen narrowed it to the case only"}
    second = gateway.post(f"/v1/consents/{first['id']}/versions", change)
    assert second.status_code == 201, second.text
    assert (second.json()["version"], second.json()["status"]) == (2, "active")
    assert second.json()["version_reason"] == change["reason"]

    view = gateway.view(citizen).json()
    assert {f["category"] for f in view["timeline"] if f["department"] == "jobcenter"} == {
        "case-overview"
    }
    assert view["consents"] == [{"id": first["id"], "version": 2}], "only the newest version"

    detail = _get(gateway, f"/v1/consents/{first['id']}").json()
    assert [(v["version"], v["status"]) for v in detail["versions"]] == [
        (1, "superseded"),
        (2, "active"),
    ]
    assert detail["versions"][0]["categories"] == ["benefits"], "the old version is unchanged"
    assert [(e["event"], e["version"]) for e in detail["events"]] == [
        ("recorded", 1),
        ("recorded", 2),
        ("superseded", 1),
    ]
    assert all(e["access_entry"] for e in detail["events"])
    actions = [e["action"] for e in gateway.audit_entries() if e["target"] == first["id"]]
    assert "consent.version" in actions


def test_extending_a_consent_moves_its_end(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Sara Holm")
    body = consent_body(citizen, valid_until=(TODAY + timedelta(days=30)).isoformat())
    consent_id = gateway.post("/v1/consents", body).json()["id"]
    later = (TODAY + timedelta(days=300)).isoformat()
    extended = gateway.post(
        f"/v1/consents/{consent_id}/versions", {"valid_until": later, "reason": "Extended"}
    ).json()
    assert extended["valid_until"] == later
    gateway.clock.offset = timedelta(days=60)
    assert _jobcenter_categories(gateway, citizen), "still open after the first end"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"reason": "Nothing really"}, 422, "nothing_changed"),
        (
            {"valid_until": (TODAY + timedelta(days=500)).isoformat(), "reason": "x"},
            422,
            "validity_exceeds_purpose_cap",
        ),
        ({"categories": ["gossip"], "reason": "x"}, 422, "unknown_category"),
        (
            {"valid_until": (TODAY - timedelta(days=30)).isoformat(), "reason": "x"},
            422,
            "invalid_validity",
        ),
        ({"categories": ["benefits"]}, 422, "invalid_request"),  # no reason
    ],
)
def test_a_bad_version_is_refused_and_changes_nothing(
    gateway: LiveGateway,
    twin_of: Callable[[str], str],
    change: dict[str, Any],
    status: int,
    code: str,
) -> None:
    consent_id = gateway.post("/v1/consents", consent_body(twin_of("Sara Holm"))).json()["id"]
    problem = _problem(gateway.post(f"/v1/consents/{consent_id}/versions", change), status, code)
    if code == "validity_exceeds_purpose_cap":
        assert problem["cap"]["max_validity_days"] == 365
    detail = _get(gateway, f"/v1/consents/{consent_id}").json()
    assert [v["version"] for v in detail["versions"]] == [1]
    assert detail["status"] == "active"


def test_a_withdrawn_consent_cannot_be_versioned(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    consent_id = gateway.post("/v1/consents", consent_body(twin_of("Sara Holm"))).json()["id"]
    gateway.post(f"/v1/consents/{consent_id}/withdraw", {"reason": "Citizen asked"})
    change = {"categories": ["benefits"], "reason": "Try to revive it"}
    problem = _problem(
        gateway.post(f"/v1/consents/{consent_id}/versions", change), 409, "consent_not_active"
    )
    assert problem["consent_status"] == "withdrawn"
    assert [
        v["version"] for v in _get(gateway, f"/v1/consents/{consent_id}").json()["versions"]
    ] == [1]


def test_the_expiry_job_marks_logs_and_leaves_a_trail(
    own_gateway: Callable[..., Any], twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Sara Holm")
    with own_gateway(scheduler_enabled=False) as gateway:
        body = consent_body(citizen, valid_until=(TODAY + timedelta(days=5)).isoformat())
        consent_id = gateway.post("/v1/consents", body).json()["id"]
        gateway.clock.offset = timedelta(days=10)
        # Enforced at decision time whether or not the job has run.
        assert _jobcenter_categories(gateway, citizen) == set()
        import asyncio

        assert asyncio.run(gateway.app.state.jobs.run_once("expire-consents")) is True
        detail = _get(gateway, f"/v1/consents/{consent_id}").json()
        assert detail["status"] == "expired"
        expired = [e for e in detail["events"] if e["event"] == "expired"]
        assert len(expired) == 1
        assert expired[0]["by"]["subject"] == "system:scheduler"
        entry = next(e for e in gateway.audit_entries(action="consent.expire"))
        assert (entry["citizen"], entry["target"]) == (citizen, consent_id)
        asyncio.run(gateway.app.state.jobs.run_once("expire-consents"))
        assert len(gateway.audit_entries(action="consent.expire")) == 1, "expired only once"
        assert gateway.verify()["ok"] is True


def test_a_consent_entered_in_error_opens_nothing(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Sara Holm")
    consent_id = gateway.post("/v1/consents", consent_body(citizen)).json()["id"]
    assert _jobcenter_categories(gateway, citizen)
    marked = gateway.post(
        f"/v1/consents/{consent_id}/entered-in-error", {"reason": "Recorded on the wrong citizen"}
    )
    assert marked.json()["status"] == "entered-in-error"
    assert _jobcenter_categories(gateway, citizen) == set()
    _problem(
        gateway.post(f"/v1/consents/{consent_id}/entered-in-error", {"reason": "again"}),
        409,
        "consent_not_active",
    )


def test_only_fragments_within_the_data_period_are_released(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Sara Holm")
    gateway.post("/v1/consents", consent_body(citizen, categories=_ALL)).raise_for_status()
    everything = gateway.view(citizen).json()["timeline"]
    dated = [f for f in everything if f["department"] == "jobcenter" and f["period"]["start"]]
    assert len(dated) >= 2
    # A data period that ends the day before the latest fragment starts keeps that one out.
    latest_start = max(date.fromisoformat(f["period"]["start"]) for f in dated)
    period = {"end": (latest_start - timedelta(days=1)).isoformat()}
    other = twin_of("Sara Holm")
    body = consent_body(other, categories=_ALL, data_period=period)
    gateway.post("/v1/consents", body).raise_for_status()
    view = gateway.view(other).json()
    released = [f for f in view["timeline"] if f["department"] == "jobcenter"]
    assert released, "fragments inside the period are released"
    for fragment in released:
        assert fragment["period"]["start"] is not None
        assert date.fromisoformat(fragment["period"]["start"]) <= latest_start - timedelta(days=1)
    assert len(released) < len([f for f in everything if f["department"] == "jobcenter"])
    entry = next(
        e for e in gateway.audit_entries(action="view") if e["seq"] == view["access_entry"]
    )
    assert entry["detail"]["dropped"]["jobcenter-momentum"]["outside-data-period"] >= 1


_ALL = ["case-overview", "interventions", "benefits", "plans-goals"]


def test_use_count_and_last_used_at_follow_the_views(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Sara Holm")
    consent_id = gateway.post("/v1/consents", consent_body(citizen)).json()["id"]
    for _ in range(3):
        gateway.view(citizen)
    gateway.view(citizen, as_="adult-social")  # relies on no consent of this one
    found = gateway.post("/v1/consents/search", {"citizen": citizen}).json()["consents"]
    assert [(c["id"], c["use_count"]) for c in found] == [(consent_id, 3)]
    assert found[0]["last_used_at"] is not None
    # Issue 13 item 10: the withdrawal's answer said 0 right after the consent was used.
    withdrawn = gateway.post(f"/v1/consents/{consent_id}/withdraw", {"reason": "by phone"})
    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["status"], withdrawn.json()["use_count"]) == ("withdrawn", 3)
    assert withdrawn.json()["last_used_at"] == found[0]["last_used_at"]


def test_a_purpose_that_names_cases_requires_one(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    body = consent_body(
        twin_of("Sara Holm"),
        purpose="case-assessment",
        valid_until=(TODAY + timedelta(days=150)).isoformat(),  # within the 180-day cap
    )
    problem = _problem(gateway.post("/v1/consents", body), 422, "case_ref_required")
    assert problem["field"] == "case_ref"
    body["case_ref"] = "27.24.03-G01-7-26"
    recorded = gateway.post("/v1/consents", body)
    assert recorded.status_code == 201
    assert recorded.json()["case_ref"] == "27.24.03-G01-7-26"
    assert recorded.json()["legal_basis"] == "Retssikkerhedsloven § 11 a, stk. 1", "from purpose"


def test_a_category_outside_the_purpose_is_refused_naming_the_cap(
    own_gateway: Callable[..., Any], twin_of: Callable[[str], str]
) -> None:
    purposes = [
        {
            "slug": "coordinated-plan",
            "name": "Joint plan",
            "max_validity_days": 365,
            "categories": ["case-overview", "plans-goals"],
        },
    ]
    with own_gateway(purposes=purposes) as gateway:
        body = consent_body(twin_of("Sara Holm"), categories=["case-overview", "benefits"])
        problem = _problem(
            gateway.post("/v1/consents", body), 422, "category_not_allowed_for_purpose"
        )
        assert problem["cap"] == {"categories": ["case-overview", "plans-goals"]}
        assert "benefits" in problem["detail"]


def test_the_preview_shows_what_a_draft_opens_and_records_nothing(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Sara Holm")
    draft = consent_body(
        citizen,
        from_departments=["jobcenter", "health"],
        to_departments=["children-family"],
        categories=["benefits", "case-overview"],
    )
    response = gateway.post("/v1/consents/preview", draft)
    assert response.status_code == 200, response.text
    opens = {(line["source"], line["category"]): line for line in response.json()["opens"]}
    assert opens[("jobcenter-momentum", "benefits")]["permit"] is True
    assert opens[("jobcenter-momentum", "interventions")]["reason"] == "category-not-covered"
    assert opens[("health-nexus", "health")]["reason"] == "special-category-not-named"
    assert not any(line["source"] == "adult-social-sensum" for line in response.json()["opens"])
    assert gateway.post("/v1/consents/search", {"citizen": citizen}).json()["consents"] == []
    _problem(
        gateway.post("/v1/consents/preview", {**draft, "purpose": "curiosity"}),
        422,
        "unknown_purpose",
    )


def test_the_database_keeps_consent_content_and_events_unchangeable(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    from sqlalchemy import text

    consent_id = gateway.post("/v1/consents", consent_body(twin_of("Sara Holm"))).json()["id"]
    attempts = (
        f"UPDATE consent SET categories = '[\"health\"]' WHERE id = '{consent_id}'",
        f"UPDATE consent SET valid_until = '2099-01-01' WHERE id = '{consent_id}'",
        f"DELETE FROM consent WHERE id = '{consent_id}'",
        f"UPDATE consent_event SET reason = 'rewritten' WHERE consent_id = '{consent_id}'",
        f"DELETE FROM consent_event WHERE consent_id = '{consent_id}'",
    )
    for statement in attempts:
        with (
            pytest.raises(Exception, match=r"immutable|never deleted|append-only"),
            gateway.runtime.engine.begin() as connection,
        ):
            connection.execute(text(statement))
    # State changes are allowed: that is how withdrawal and expiry are recorded.
    withdrawn = gateway.post(f"/v1/consents/{consent_id}/withdraw", {"reason": "Asked to"})
    assert withdrawn.status_code == 200
    assert _get(gateway, f"/v1/consents/{consent_id}").json()["categories"] == [
        "case-overview",
        "benefits",
    ]
