"""CPR numbers, consent payloads and the rules a consent must meet before it is recorded."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from consent.rules import check_terms
from gateway.settings import load_settings
from schemas.consent import ConsentCreate, ConsentTerms
from schemas.cpr import birth_date, normalize_cpr

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("given", "expected"),
    [("0101901234", "0101901234"), ("010190-1234", "0101901234"), (" 2902004321 ", "2902004321")],
)
def test_cpr_is_accepted_with_or_without_hyphen(given: str, expected: str) -> None:
    assert normalize_cpr(given) == expected


@pytest.mark.parametrize(
    "given",
    ["", "123", "01019012345", "0101901234x", "3201901234", "0113901234", "2902014321", 101901234],
)
def test_malformed_cpr_is_refused_as_invalid_cpr(given: object) -> None:
    with pytest.raises(PydanticCustomError) as caught:
        normalize_cpr(given)
    assert caught.value.type == "invalid_cpr"


def test_century_follows_the_seventh_digit() -> None:
    assert birth_date("0101071234").year == 1907  # seventh digit 1: 1900s
    assert birth_date("0101074234").year == 2007  # 4 and year <= 36: 2000s
    assert birth_date("0101585234").year == 1858  # 5 and year > 57: 1800s
    assert birth_date("0101105234").year == 2010


def _create(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "citizen": "0101901234",
        "given_by": {"kind": "self"},
        "from_departments": ["jobcenter"],
        "to_departments": ["children-family"],
        "categories": ["case-overview"],
        "purpose": "coordinated-plan",
        "valid_from": TODAY.isoformat(),
        "valid_until": (TODAY + timedelta(days=30)).isoformat(),
        "evidence": {"kind": "signed-form", "reference": "J.nr. 27.27.09-G01-12-26"},
    }
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"valid_until": (TODAY - timedelta(days=1)).isoformat()}, "invalid_validity"),
        ({"given_by": {"kind": "guardian"}}, "given_by_name_required"),
        (
            {"evidence": {"kind": "signed-form", "reference": "x", "sha256": "abc"}},
            "invalid_evidence_hash",
        ),
        ({"categories": ["case-overview", "case-overview"]}, "duplicate_value"),
        ({"from_departments": []}, "empty_list"),
        ({"citizen": "not a cpr"}, "invalid_cpr"),
    ],
)
def test_consent_payload_errors_carry_their_code(changes: dict[str, object], code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ConsentCreate.model_validate(_create(**changes))
    assert code in [e["type"] for e in caught.value.errors()]


def test_a_guardian_consent_with_a_name_is_accepted() -> None:
    created = ConsentCreate.model_validate(
        _create(given_by={"kind": "guardian", "name": "Sara Jensen"})
    )
    assert created.given_by.name == "Sara Jensen"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"from_departments": ["payroll"]}, "unknown_department"),
        ({"categories": ["gossip"]}, "unknown_category"),
        ({"purpose": "curiosity"}, "unknown_purpose"),
        ({"to_departments": ["jobcenter"]}, "consent_crosses_no_boundary"),
        (
            {"valid_until": (TODAY + timedelta(days=366)).isoformat()},
            "validity_exceeds_purpose_cap",
        ),
        (
            {
                "valid_from": (TODAY - timedelta(days=60)).isoformat(),
                "valid_until": (TODAY - timedelta(days=1)).isoformat(),
            },
            "consent_already_expired",
        ),
    ],
)
def test_terms_are_checked_against_the_catalogue(changes: dict[str, object], code: str) -> None:
    catalog = load_settings(home="/nonexistent").catalog
    terms = ConsentTerms.model_validate(
        {k: v for k, v in _create(**changes).items() if k in ConsentTerms.model_fields}
    )
    violation = check_terms(terms, catalog, TODAY)
    assert violation is not None
    assert violation.code == code


def test_terms_within_every_rule_pass() -> None:
    catalog = load_settings(home="/nonexistent").catalog
    terms = ConsentTerms.model_validate(
        {k: v for k, v in _create().items() if k in ConsentTerms.model_fields}
    )
    assert check_terms(terms, catalog, TODAY) is None
