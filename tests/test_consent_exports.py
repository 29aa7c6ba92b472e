"""FHIR R4 export, signed receipts, and who may change or read consents (citizen included)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from fhir.resources.R4B.consent import Consent as FhirConsent
from joserfc import jws
from joserfc.errors import BadSignatureError, DecodeError
from joserfc.jwk import KeySet

from tests.builders import consent_body
from tests.support import LiveGateway


def _citizen_headers(gateway: LiveGateway, cpr: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {gateway.token('citizen', None, subject=cpr)}"}


def test_the_fhir_export_is_a_valid_r4_consent(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Noah Holm")
    body = consent_body(
        citizen,
        given_by={"kind": "guardian", "name": "Sara Holm"},
        data_period={"start": "2025-01-01"},
        case_ref="27.27.09-G01-12-26",
    )
    consent = gateway.post("/v1/consents", body).json()
    assert gateway.http is not None
    response = gateway.http.get(f"/v1/consents/{consent['id']}/fhir", headers=gateway.headers())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    resource = FhirConsent.model_validate(response.json())  # raises on anything invalid
    assert resource.status == "active"
    assert resource.patient.identifier.value == citizen
    assert resource.provision.period.start.isoformat() == body["valid_from"]
    assert resource.provision.dataPeriod.start.isoformat() == "2025-01-01"
    assert {c.code for c in resource.provision.class_fhir} == {"case-overview", "benefits"}
    assert [c.code for c in resource.provision.purpose] == ["coordinated-plan"]
    roles = {
        (a.role.coding[0].code, a.reference.identifier.value) for a in resource.provision.actor
    }
    assert roles == {("IRCP", "children-family"), ("CST", "jobcenter")}
    assert "Sara Holm" in resource.performer[0].display
    assert resource.sourceReference.identifier.value == body["evidence"]["reference"]

    gateway.post(f"/v1/consents/{consent['id']}/withdraw", {"reason": "Moved"})
    withdrawn = gateway.http.get(f"/v1/consents/{consent['id']}/fhir", headers=gateway.headers())
    assert FhirConsent.model_validate(withdrawn.json()).status == "inactive"


def test_the_receipt_verifies_with_the_published_key_and_not_after_a_change(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Sara Holm")
    consent = gateway.post("/v1/consents", consent_body(citizen)).json()
    assert gateway.http is not None
    response = gateway.http.get(
        f"/v1/consents/{consent['id']}/receipt", headers=_citizen_headers(gateway, citizen)
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/jose")
    token = response.text
    jwks = gateway.http.get("/v1/keys").json()
    keys = KeySet.import_key_set(
        {"keys": [k for k in jwks["keys"] if k["helhed_use"] == "receipt"]}
    )
    verified = jws.deserialize_compact(token, keys, algorithms=["EdDSA"])
    assert verified.headers()["alg"] == "EdDSA"
    import json

    payload = json.loads(verified.payload)
    assert (payload["id"], payload["version"], payload["citizen"]) == (consent["id"], 1, citizen)

    header, body, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[len(raw) // 2] ^= 0x01  # one byte of the consent changed
    forged = ".".join(
        [header, base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode(), signature]
    )
    with pytest.raises((BadSignatureError, DecodeError)):
        jws.deserialize_compact(forged, keys, algorithms=["EdDSA"])


def test_a_citizen_lists_reads_receipts_and_withdraws_only_their_own(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    citizen, other = twin_of("Sara Holm"), twin_of("Sara Holm")
    mine = gateway.post("/v1/consents", consent_body(citizen)).json()["id"]
    theirs = gateway.post("/v1/consents", consent_body(other)).json()["id"]
    assert gateway.http is not None
    own = _citizen_headers(gateway, citizen)

    listed = gateway.http.post("/v1/consents/search", json={"citizen": citizen}, headers=own)
    assert [c["id"] for c in listed.json()["consents"]] == [mine]
    refused = gateway.http.post("/v1/consents/search", json={"citizen": other}, headers=own)
    assert (refused.status_code, refused.json()["code"]) == (403, "not_your_consents")
    foreign_receipt = gateway.http.get(f"/v1/consents/{theirs}/receipt", headers=own)
    assert (foreign_receipt.status_code, foreign_receipt.json()["code"]) == (
        404,
        "consent_not_found",
    )
    foreign_withdraw = gateway.http.post(
        f"/v1/consents/{theirs}/withdraw", json={"reason": "Not mine"}, headers=own
    )
    assert foreign_withdraw.status_code == 404
    for method, path, body in (
        ("GET", f"/v1/consents/{mine}", None),
        ("GET", f"/v1/consents/{mine}/fhir", None),
        ("POST", "/v1/consents", consent_body(citizen)),
        ("POST", f"/v1/consents/{mine}/versions", {"categories": ["benefits"], "reason": "x"}),
        ("POST", "/v1/views", {"citizen": citizen, "purpose": "coordinated-plan"}),
        ("GET", "/v1/audit/entries", None),
    ):
        response = gateway.http.request(method, path, json=body, headers=own)
        assert response.status_code == 403, (method, path)

    # Withdrawal by the citizen takes effect on the very next view by any caseworker.
    assert gateway.view(citizen).json()["consents"]
    withdrawn = gateway.http.post(
        f"/v1/consents/{mine}/withdraw", json={"reason": "I changed my mind"}, headers=own
    )
    assert withdrawn.status_code == 200
    assert withdrawn.json()["withdrawal"]["by"]["subject"] == "citizen"
    assert gateway.view(citizen).json()["consents"] == []
    assert gateway.view(citizen, as_="jobcenter").json()["coverage"][0]["status"] == "not-covered"
    entry = gateway.audit_entries(action="consent.withdraw")[0]
    assert entry["actor"]["subject"].startswith("citizen:")
    assert citizen not in str(entry["actor"]), "the citizen actor is never named by CPR"


@pytest.mark.parametrize(("role", "department"), [("dpo", None), ("itops", None)])
def test_dpo_and_itops_may_change_no_consent(
    gateway: LiveGateway, twin_of: Callable[[str], str], role: str, department: str | None
) -> None:
    citizen = twin_of("Sara Holm")
    consent_id = gateway.post("/v1/consents", consent_body(citizen)).json()["id"]
    assert gateway.http is not None
    headers = gateway.headers(role, department)
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("/v1/consents", consent_body(citizen)),
        (f"/v1/consents/{consent_id}/versions", {"categories": ["benefits"], "reason": "x"}),
        (f"/v1/consents/{consent_id}/withdraw", {"reason": "x"}),
        (f"/v1/consents/{consent_id}/entered-in-error", {"reason": "x"}),
        ("/v1/consents/preview", consent_body(citizen)),
    ]
    for path, body in attempts:
        response = gateway.http.post(path, json=body, headers=headers)
        assert (response.status_code, response.json()["code"]) == (403, "forbidden"), path
    detail = gateway.http.get(f"/v1/consents/{consent_id}", headers=gateway.headers())
    assert detail.json()["status"] == "active"
    assert [v["version"] for v in detail.json()["versions"]] == [1]


def test_a_citizen_token_whose_subject_is_no_cpr_is_refused(gateway: LiveGateway) -> None:
    assert gateway.http is not None
    headers = {"Authorization": f"Bearer {gateway.token('citizen', None, subject='not-a-cpr')}"}
    response = gateway.http.post(
        "/v1/consents/search", json={"citizen": "0101901234"}, headers=headers
    )
    assert (response.status_code, response.json()["code"]) == (403, "invalid_citizen_subject")
