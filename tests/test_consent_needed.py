"""Which consent would open what was not asked for: plain asserts on the pure function."""

from __future__ import annotations

from consent.decision import AccessRequest, Reason, decide
from consent.needed import consent_needed
from schemas.catalog import Purpose
from tests.test_decision import NOW, consent

PLAN = Purpose(slug="coordinated-plan", name="Joint plan")
SCOPES = frozenset(
    ("jobcenter", c) for c in ("case-overview", "interventions", "benefits", "health")
)


def _rulings(consents: list[object], purpose: str = "coordinated-plan") -> list[object]:
    request = AccessRequest(
        citizen="0101901234",
        requester_department="children-family",
        purpose=purpose,
        scopes=SCOPES,
        special_categories=frozenset({"health"}),
    )
    return list(decide(request, consents, NOW).rulings)  # type: ignore[arg-type]


def _needed(rulings: list[object], purpose: Purpose = PLAN) -> object:
    return consent_needed(
        rulings,  # type: ignore[arg-type]
        requester_department="children-family",
        purpose=purpose,
        special_categories=frozenset({"health"}),
    )


def test_no_consent_names_the_departments_the_purpose_and_every_category() -> None:
    needed = _needed(_rulings([]))
    assert needed is not None
    assert needed.from_departments == ["jobcenter"]
    assert needed.to_departments == ["children-family"]
    assert needed.purpose == "coordinated-plan"
    assert needed.categories == ["benefits", "case-overview", "health", "interventions"]
    assert needed.special == ["health"], "the consent must name the special category itself"
    assert needed.outside_purpose == []
    assert set(needed.reasons.values()) == {Reason.NO_CONSENT.value}


def test_a_partial_consent_leaves_only_the_rest_and_a_withdrawal_says_so() -> None:
    needed = _needed(_rulings([consent()]))  # case-overview and benefits are open
    assert needed is not None
    assert needed.categories == ["health", "interventions"]
    withdrawn = _needed(_rulings([consent(status="withdrawn")]))
    assert withdrawn is not None
    assert withdrawn.reasons["benefits"] == Reason.WITHDRAWN.value


def test_everything_open_needs_no_consent() -> None:
    everything = consent(categories=["case-overview", "interventions", "benefits", "health"])
    assert _needed(_rulings([everything])) is None


def test_a_purpose_template_that_cannot_open_a_category_or_department_says_so() -> None:
    narrow = Purpose(slug="coordinated-plan", name="Plan", categories=("case-overview",))
    needed = _needed(_rulings([]), narrow)
    assert needed is not None
    assert needed.categories == ["case-overview"]
    assert needed.outside_purpose == ["benefits", "health", "interventions"]
    elsewhere = Purpose(slug="coordinated-plan", name="Plan", departments=("health",))
    needed = _needed(_rulings([]), elsewhere)
    assert needed is not None
    assert needed.categories == []
    assert needed.special == []
    assert len(needed.outside_purpose) == 4
