"""A consent version as an HL7 FHIR R4 Consent resource (privacy consent, patient-privacy scope)."""

from __future__ import annotations

from typing import Any

from schemas.catalog import Catalog
from schemas.consent import ConsentRead, ConsentStatus, GivenByKind

CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"  # the Danish CPR register's OID
DEPARTMENT_SYSTEM = "urn:helhed:department"
CATEGORY_SYSTEM = "urn:helhed:category"
PURPOSE_SYSTEM = "urn:helhed:purpose"
EVIDENCE_SYSTEM = "urn:helhed:evidence"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"

# FHIR's Consent.status has no withdrawn/expired/superseded: they are all "inactive".
_STATUS = {
    ConsentStatus.ACTIVE: "active",
    ConsentStatus.WITHDRAWN: "inactive",
    ConsentStatus.EXPIRED: "inactive",
    ConsentStatus.SUPERSEDED: "inactive",
    ConsentStatus.ENTERED_IN_ERROR: "entered-in-error",
}


def _department(slug: str, catalog: Catalog) -> dict[str, Any]:
    department = catalog.department(slug)
    return {
        "identifier": {"system": DEPARTMENT_SYSTEM, "value": slug},
        "display": department.name if department else slug,
    }


def _performer(consent: ConsentRead) -> dict[str, Any]:
    if consent.given_by.kind is GivenByKind.SELF:
        return {"identifier": {"system": CPR_SYSTEM, "value": consent.citizen}}
    return {"display": f"{consent.given_by.name} ({consent.given_by.kind.value})"}


def to_fhir_consent(consent: ConsentRead, catalog: Catalog) -> dict[str, Any]:
    purpose = catalog.purpose(consent.purpose)
    actors = [
        {
            "role": {"coding": [{"system": PARTICIPATION, "code": "IRCP"}]},  # recipient
            "reference": _department(slug, catalog),
        }
        for slug in consent.to_departments
    ] + [
        {
            "role": {"coding": [{"system": PARTICIPATION, "code": "CST"}]},  # custodian
            "reference": _department(slug, catalog),
        }
        for slug in consent.from_departments
    ]
    provision: dict[str, Any] = {
        "type": "permit",
        "period": {"start": consent.valid_from.isoformat(), "end": consent.valid_until.isoformat()},
        "actor": actors,
        "purpose": [
            {
                "system": PURPOSE_SYSTEM,
                "code": consent.purpose,
                "display": purpose.name if purpose else consent.purpose,
            }
        ],
        "class": [{"system": CATEGORY_SYSTEM, "code": category} for category in consent.categories],
    }
    if consent.data_period is not None:
        provision["dataPeriod"] = {
            key: value.isoformat()
            for key, value in (
                ("start", consent.data_period.start),
                ("end", consent.data_period.end),
            )
            if value is not None
        }
    resource: dict[str, Any] = {
        "resourceType": "Consent",
        "id": consent.id,
        "meta": {"versionId": str(consent.version), "lastUpdated": consent.recorded_at.isoformat()},
        "status": _STATUS[consent.status],
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [
            {"coding": [{"system": "http://loinc.org", "code": "59284-0", "display": "Consent"}]}
        ],
        "patient": {"identifier": {"system": CPR_SYSTEM, "value": consent.citizen}},
        "dateTime": consent.recorded_at.isoformat(),
        "performer": [_performer(consent)],
        "organization": [_department(slug, catalog) for slug in consent.to_departments],
        "sourceReference": {
            "identifier": {"system": EVIDENCE_SYSTEM, "value": consent.evidence.reference},
            "display": consent.evidence.kind.value,
        },
        "policy": [{"uri": f"{PURPOSE_SYSTEM}:{consent.purpose}"}],
        "provision": provision,
    }
    if consent.legal_basis:
        resource["policyRule"] = {"text": consent.legal_basis}
    if consent.case_ref:
        resource["identifier"] = [{"system": "urn:helhed:case", "value": consent.case_ref}]
    return resource
