"""Health & care (Sundhed og Omsorg): resources as a Nexus-EOJ-like care record API returns them.

Loosely FHIR-flavoured: resourceType, a subject identified by the CPR system's OID, coded
categories, periods, performers with telecom, the legal basis in an extension, notes. Category
`helbred` is health data in GDPR art. 9's sense; the others are care administration.
"""

from __future__ import annotations

from typing import Any

from demo.citizens import (
    FREJA_ANDERSEN,
    INGER_POULSEN,
    LARS_VESTERGAARD,
    THOMAS_NIELSEN,
    SampleCitizen,
)
from demo.records import Record, by_citizen

CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
CATEGORY_SYSTEM = "https://nexus.kommune.example/fhir/CodeSystem/kategori"
LEGAL_BASIS_URL = "https://nexus.kommune.example/fhir/StructureDefinition/lovgrundlag"

HANNE_KROGH = ("Hanne Krogh, sundhedsplejerske", "7234 3105")
OLE_BRANDT = ("Ole Brandt, fysioterapeut", "7234 3150")
SUSANNE_YDE = ("Susanne Yde, visitator", "7234 3120")
MIRA_AHMADI = ("Mira Ahmadi, sygeplejerske", "7234 3177")


def _resource(
    citizen: SampleCitizen,
    resource_id: str,
    resource_type: str,
    category: str,
    text: str,
    *,
    start: str,
    end: str | None = None,
    status: str = "active",
    performer: tuple[str, str],
    organization: str,
    legal_basis: str | None = None,
    service: tuple[str, str] | None = None,
    note: str | None = None,
    last_updated: str,
) -> Record:
    resource: dict[str, Any] = {
        "resourceType": resource_type,
        "id": resource_id,
        "meta": {"lastUpdated": last_updated},
        "subject": {"identifier": {"system": CPR_SYSTEM, "value": citizen.cpr}},
        "category": {"coding": [{"system": CATEGORY_SYSTEM, "code": category}]},
        "code": {"text": text},
        "status": status,
        "period": {"start": start, **({"end": end} if end else {})},
        "performer": {
            "display": performer[0],
            "telecom": [{"system": "phone", "value": performer[1]}],
        },
        "organization": {"display": organization},
    }
    if service:
        resource["serviceType"] = {"code": service[0], "display": service[1]}
    if legal_basis:
        resource["extension"] = [{"url": LEGAL_BASIS_URL, "valueString": legal_basis}]
    if note:
        resource["note"] = [{"text": note}]
    return resource


_SCHOOL_HEALTH = "Sundhedsplejen, skolesundhedstjenesten"
_REHAB = "Træningscenter Åparken"
_HOME_CARE = "Hjemmeplejen Syd"
_NURSING = "Sygeplejen Syd"

# fmt: off
_RESOURCES: list[Record] = [
    # Scenario 5: Freja; the episode is case-overview, the condition and talks are health data.
    _resource(FREJA_ANDERSEN, "nx-eoc-55120", "EpisodeOfCare", "forloeb",
              "Skolesundhedspleje, forløb for anbragt barn", start="2025-03-10",
              performer=HANNE_KROGH, organization=_SCHOOL_HEALTH, legal_basis="SUL § 120",
              last_updated="2026-09-02T10:20:00+02:00"),
    _resource(FREJA_ANDERSEN, "nx-con-55187", "Condition", "helbred",
              "Angst og søvnbesvær, henvist til børne- og ungdomspsykiatrien",
              start="2025-09-02", performer=HANNE_KROGH, organization=_SCHOOL_HEALTH,
              note="Henvist via egen læge; venter på første samtale i regionen.",
              last_updated="2026-09-02T10:20:00+02:00"),
    _resource(FREJA_ANDERSEN, "nx-pro-55190", "Procedure", "helbred",
              "Støttende samtaler hos sundhedsplejerske", start="2025-09-15", end="2026-06-30",
              status="completed", performer=HANNE_KROGH, organization=_SCHOOL_HEALTH,
              legal_basis="SUL § 120", service=("SAMTALEFORLOEB", "Samtaleforløb"),
              last_updated="2026-06-30T14:00:00+02:00"),
    # Scenario 4: Thomas in municipal rehabilitation after a slipped disc.
    _resource(THOMAS_NIELSEN, "nx-eoc-61001", "EpisodeOfCare", "forloeb",
              "Kommunal genoptræning", start="2026-06-01", end="2026-12-31",
              performer=OLE_BRANDT, organization=_REHAB, legal_basis="SUL § 140",
              last_updated="2026-11-04T09:00:00+01:00"),
    _resource(THOMAS_NIELSEN, "nx-con-61002", "Condition", "helbred",
              "Lænderygsmerter efter diskusprolaps (L4-L5)", start="2026-05-12",
              performer=OLE_BRANDT, organization=_REHAB,
              last_updated="2026-06-01T11:00:00+02:00"),
    _resource(THOMAS_NIELSEN, "nx-pro-61010", "Procedure", "helbred",
              "Genoptræning efter genoptræningsplan", start="2026-06-08", end="2026-12-31",
              performer=OLE_BRANDT, organization=_REHAB, legal_basis="SUL § 140",
              service=("GENOPTRAENING", "Genoptræning"),
              note="To gange om ugen; gradvis øget belastning.",
              last_updated="2026-11-04T09:00:00+01:00"),
    # Scenario 3: Lars's medicine is given by the nursing team at his temporary home.
    _resource(LARS_VESTERGAARD, "nx-eoc-63300", "EpisodeOfCare", "forloeb",
              "Sygepleje i botilbud", start="2026-03-01", performer=MIRA_AHMADI,
              organization=_NURSING, legal_basis="SUL § 138",
              last_updated="2026-03-01T12:00:00+01:00"),
    _resource(LARS_VESTERGAARD, "nx-pro-63301", "Procedure", "helbred",
              "Medicindispensering og administration af depotmedicin", start="2026-03-01",
              performer=MIRA_AHMADI, organization=_NURSING, legal_basis="SUL § 138",
              service=("SYGEPLEJE", "Sygepleje"), last_updated="2026-10-12T08:05:00+02:00"),
    # Inger: home care, nursing and everyday rehabilitation.
    _resource(INGER_POULSEN, "nx-eoc-40210", "EpisodeOfCare", "forloeb", "Hjemmepleje",
              start="2024-11-01", performer=SUSANNE_YDE, organization=_HOME_CARE,
              legal_basis="SEL § 83", last_updated="2026-10-01T09:00:00+02:00"),
    _resource(INGER_POULSEN, "nx-srq-40211", "ServiceRequest", "omsorg",
              "Personlig pleje morgen og aften", start="2024-11-01", performer=SUSANNE_YDE,
              organization=_HOME_CARE, legal_basis="SEL § 83",
              service=("PERSONLIG_PLEJE", "Personlig pleje"),
              last_updated="2026-10-01T09:00:00+02:00"),
    _resource(INGER_POULSEN, "nx-srq-40212", "ServiceRequest", "omsorg",
              "Praktisk hjælp, rengøring hver 14. dag", start="2024-11-01",
              performer=SUSANNE_YDE, organization=_HOME_CARE, legal_basis="SEL § 83",
              service=("PRAKTISK_HJAELP", "Praktisk hjælp"),
              last_updated="2024-11-01T13:00:00+01:00"),
    _resource(INGER_POULSEN, "nx-pro-40230", "Procedure", "helbred",
              "Sygepleje, medicindispensering", start="2025-02-10", performer=MIRA_AHMADI,
              organization=_NURSING, legal_basis="SUL § 138", service=("SYGEPLEJE", "Sygepleje"),
              last_updated="2026-08-19T10:30:00+02:00"),
    _resource(INGER_POULSEN, "nx-con-40231", "Condition", "helbred", "Type 2-diabetes",
              start="2019-05-01", performer=MIRA_AHMADI, organization=_NURSING,
              last_updated="2025-02-10T10:00:00+01:00"),
    _resource(INGER_POULSEN, "nx-cpl-40250", "CarePlan", "plan", "Hverdagsrehabilitering",
              start="2026-10-01", end="2026-12-23", performer=SUSANNE_YDE,
              organization=_HOME_CARE, legal_basis="SEL § 83 a",
              note="Tolv ugers forløb med terapeut; hjælpen revurderes bagefter.",
              last_updated="2026-10-01T09:00:00+02:00"),
    _resource(INGER_POULSEN, "nx-gol-40251", "Goal", "plan",
              "Kan selv gå i bad med badetaburet", start="2026-10-01", end="2026-12-23",
              performer=SUSANNE_YDE, organization=_HOME_CARE,
              last_updated="2026-10-01T09:00:00+02:00"),
]
# fmt: on

RECORDS: dict[str, list[Record]] = by_citizen(
    _RESOURCES, lambda resource: resource["subject"]["identifier"]["value"]
)
