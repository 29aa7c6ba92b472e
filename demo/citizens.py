"""The demo's fictitious citizens and the consents recorded for them (DOMAIN.md's scenarios).

The CPR numbers are made up: real-looking birth dates, so ages match the stories, with serial
numbers like 1234. The seventh digit gives the century (schemas.cpr): 0-3 for the adults born in
the 1900s, 4-6 for the children born after 2000.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any


@dataclass(frozen=True)
class SampleCitizen:
    cpr: str
    name: str
    story: str  # one line, shown in the demo


# Scenario 1: a single mother on cash benefit and her son in family treatment.
SARA_HOLM = SampleCitizen(
    "1203911234",
    "Sara Holm",
    "Single mother on cash benefit (kontanthjælp); her son Noah is in family treatment.",
)
NOAH_HOLM = SampleCitizen(
    "0409144321",
    "Noah Holm",
    "Sara's son, 12, in family treatment (SEL § 52, now Barnets lov); his mother consents for him.",
)
# Scenario 2: leaving care.
JONAS_BERG = SampleCitizen(
    "2206074567",
    "Jonas Berg",
    "19, leaving care: after-care contact person, education benefit and substance-abuse "
    "treatment; withdrew consent for the treatment part.",
)
# Scenario 3: the same help twice (Morsø's dobbeltindsats).
LARS_VESTERGAARD = SampleCitizen(
    "0711842345",
    "Lars Vestergaard",
    "Psychiatric needs, temporary housing (§ 107) with § 85 support, and a jobcenter mentor: "
    "the same help twice.",
)
# Scenario 4: a family that costs more than 150,000 DKK a year across budgets.
THOMAS_NIELSEN = SampleCitizen(
    "3005823456",
    "Thomas Nielsen",
    "Father on sickness benefit after a back injury; he has not consented to sharing.",
)
EMMA_NIELSEN = SampleCitizen(
    "1410165678",
    "Emma Nielsen",
    "Thomas and Camilla's daughter, 10, in day treatment with special education.",
)
CAMILLA_NIELSEN = SampleCitizen(
    "2108852468",
    "Camilla Nielsen",
    "Emma's mother, paid for lost earnings while caring for Emma; she consents to sharing.",
)
# Scenario 5: health data stays closed.
FREJA_ANDERSEN = SampleCitizen(
    "0302126789",
    "Freja Andersen",
    "14, placed in a foster family since 2025; her health records stay closed to children's "
    "services.",
)
# Scenario 6: no consent at all.
HENRIK_MADSEN = SampleCitizen(
    "1709753579",
    "Henrik Madsen",
    "Cash benefit and a day centre, but he has never given consent: each department sees its own.",
)
INGER_POULSEN = SampleCitizen(
    "2504411122",
    "Inger Poulsen",
    "85, lives alone with home care, nursing and everyday rehabilitation.",
)

CITIZENS: tuple[SampleCitizen, ...] = (
    SARA_HOLM,
    NOAH_HOLM,
    JONAS_BERG,
    LARS_VESTERGAARD,
    THOMAS_NIELSEN,
    EMMA_NIELSEN,
    CAMILLA_NIELSEN,
    FREJA_ANDERSEN,
    HENRIK_MADSEN,
    INGER_POULSEN,
)

_JOINT_PLAN = ["case-overview", "interventions", "benefits", "plans-goals"]


def _consent(
    citizen: SampleCitizen,
    *,
    from_departments: list[str],
    to_departments: list[str],
    categories: list[str],
    purpose: str,
    valid_from: date,
    valid_days: int,
    evidence: tuple[str, str],
    recorded_by_department: str,
    guardian: str | None = None,
) -> dict[str, Any]:
    return {
        "citizen": citizen.cpr,
        "given_by": {"kind": "guardian", "name": guardian} if guardian else {"kind": "self"},
        "from_departments": from_departments,
        "to_departments": to_departments,
        "categories": categories,
        "purpose": purpose,
        "valid_from": valid_from.isoformat(),
        "valid_until": (valid_from + timedelta(days=valid_days)).isoformat(),
        "evidence": {"kind": evidence[0], "reference": evidence[1]},
        # The journal number on the signed form is the case the consent is for (§ 11 a).
        "case_ref": evidence[1].removeprefix("J.nr. "),
        "notice_version": "Samtykkeoplysning 2026-01",
        "recorded_by_department": recorded_by_department,
    }


def seed_consents(today: date) -> list[dict[str, Any]]:
    """The demo's consents as `POST /v1/consents` bodies, dated around `today`.

    Two extra keys are not part of the body: `recorded_by_department` (whose caseworker records
    it) and, on seeds that are recorded and then withdrawn, `withdraw` (the reason).
    Validity stays inside the purposes' caps: coordinated-plan 365 days, case-assessment 180.
    """
    weeks_ago = today - timedelta(weeks=3)
    both_ways = ["children-family", "jobcenter"]
    treatment = _consent(
        JONAS_BERG,
        from_departments=["adult-social"],
        to_departments=["children-family", "jobcenter"],
        categories=["interventions"],
        purpose="coordinated-plan",
        valid_from=today - timedelta(weeks=6),
        valid_days=300,
        evidence=("digital-signature", "J.nr. 27.51.04-G01-31-26"),
        recorded_by_department="children-family",
    )
    # Scenario 2: the consent is withdrawn half-way; the record stays, withdrawal is an event.
    treatment["withdraw"] = (
        "Jonas withdrew consent for sharing his treatment at the follow-up meeting."
    )
    return [
        _consent(
            SARA_HOLM,
            from_departments=both_ways,
            to_departments=both_ways,
            categories=_JOINT_PLAN,
            purpose="coordinated-plan",
            valid_from=weeks_ago,
            valid_days=330,
            evidence=("signed-form", "J.nr. 27.27.09-G01-12-26"),
            recorded_by_department="children-family",
        ),
        # A child's consent is given by the parent with custody.
        _consent(
            NOAH_HOLM,
            from_departments=["children-family"],
            to_departments=["jobcenter"],
            categories=["case-overview", "interventions", "plans-goals"],
            purpose="coordinated-plan",
            valid_from=weeks_ago,
            valid_days=330,
            evidence=("signed-form", "J.nr. 27.27.09-G01-13-26"),
            recorded_by_department="children-family",
            guardian=SARA_HOLM.name,
        ),
        _consent(
            JONAS_BERG,
            from_departments=both_ways,
            to_departments=both_ways,
            categories=_JOINT_PLAN,
            purpose="coordinated-plan",
            valid_from=today - timedelta(weeks=6),
            valid_days=300,
            evidence=("signed-form", "J.nr. 27.27.24-G01-30-26"),
            recorded_by_department="jobcenter",
        ),
        treatment,
        _consent(
            LARS_VESTERGAARD,
            from_departments=["adult-social", "jobcenter"],
            to_departments=["jobcenter", "adult-social"],
            categories=["case-overview", "interventions", "plans-goals"],
            purpose="coordinated-plan",
            valid_from=weeks_ago,
            valid_days=330,
            evidence=("verbal-noted", "J.nr. 27.36.12-G01-44-26"),
            recorded_by_department="adult-social",
        ),
        # Scenario 4: only the mother consents; the father's and Emma's data stay closed.
        _consent(
            CAMILLA_NIELSEN,
            from_departments=["children-family"],
            to_departments=["jobcenter"],
            categories=["case-overview", "benefits"],
            purpose="coordinated-plan",
            valid_from=weeks_ago,
            valid_days=330,
            evidence=("signed-form", "J.nr. 15.17.06-G01-52-26"),
            recorded_by_department="jobcenter",
        ),
        # Scenario 5: case-overview opens, the special category `health` is not named.
        _consent(
            FREJA_ANDERSEN,
            from_departments=["health"],
            to_departments=["children-family"],
            categories=["case-overview"],
            purpose="case-assessment",
            valid_from=today - timedelta(weeks=2),
            valid_days=150,
            evidence=("signed-form", "J.nr. 27.27.30-G01-61-26"),
            recorded_by_department="children-family",
            guardian="Maria Andersen",
        ),
    ]


# Dated at import; a long-running process should call seed_consents(date.today()) instead.
SEED_CONSENTS: tuple[dict[str, Any], ...] = tuple(seed_consents(date.today()))
