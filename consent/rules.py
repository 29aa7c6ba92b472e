"""What a consent must satisfy before it is recorded; pure, like the decision.

Each rule is a small function that returns a Violation or None; they run in order and the
first violation is reported, so a caseworker fixes one clear thing at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from schemas.catalog import Catalog, Purpose
from schemas.consent import ConsentTerms


@dataclass(frozen=True)
class Violation:
    code: str
    field: str
    message: str
    cap: dict[str, object] | None = None  # the purpose's cap that was exceeded, for the client


def _known_departments(terms: ConsentTerms, catalog: Catalog, _today: date) -> Violation | None:
    for name in ("from_departments", "to_departments"):
        for slug in getattr(terms, name):
            if catalog.department(slug) is None:
                return Violation("unknown_department", name, f"Unknown department {slug!r}")
    return None


def _known_categories(terms: ConsentTerms, catalog: Catalog, _today: date) -> Violation | None:
    for slug in terms.categories:
        if catalog.category(slug) is None:
            return Violation("unknown_category", "categories", f"Unknown category {slug!r}")
    return None


def _known_purpose(terms: ConsentTerms, catalog: Catalog, _today: date) -> Violation | None:
    if catalog.purpose(terms.purpose) is None:
        return Violation("unknown_purpose", "purpose", f"Unknown purpose {terms.purpose!r}")
    return None


def _crosses_a_boundary(terms: ConsentTerms, _catalog: Catalog, _today: date) -> Violation | None:
    if len({*terms.from_departments, *terms.to_departments}) == 1:
        return Violation(
            "consent_crosses_no_boundary",
            "to_departments",
            "A department sees its own data without consent; name another department",
        )
    return None


def _purpose(terms: ConsentTerms, catalog: Catalog) -> Purpose:
    purpose = catalog.purpose(terms.purpose)
    assert purpose is not None  # _known_purpose runs first
    return purpose


def _within_purpose_categories(
    terms: ConsentTerms, catalog: Catalog, _today: date
) -> Violation | None:
    allowed = _purpose(terms, catalog).categories
    for slug in terms.categories:
        if allowed is not None and slug not in allowed:
            return Violation(
                "category_not_allowed_for_purpose",
                "categories",
                f"Purpose {terms.purpose!r} may not open category {slug!r}",
                cap={"categories": list(allowed)},
            )
    return None


def _within_purpose_departments(
    terms: ConsentTerms, catalog: Catalog, _today: date
) -> Violation | None:
    allowed = _purpose(terms, catalog).departments
    for name in ("from_departments", "to_departments"):
        for slug in getattr(terms, name):
            if allowed is not None and slug not in allowed:
                return Violation(
                    "department_not_allowed_for_purpose",
                    name,
                    f"Purpose {terms.purpose!r} may not involve department {slug!r}",
                    cap={"departments": list(allowed)},
                )
    return None


def _within_validity_cap(terms: ConsentTerms, catalog: Catalog, _today: date) -> Violation | None:
    cap = _purpose(terms, catalog).max_validity_days
    if cap is not None and terms.valid_until > terms.valid_from + timedelta(days=cap):
        latest = (terms.valid_from + timedelta(days=cap)).isoformat()
        return Violation(
            "validity_exceeds_purpose_cap",
            "valid_until",
            f"Purpose {terms.purpose!r} allows at most {cap} days; "
            f"valid_until may be {latest} at the latest",
            cap={"max_validity_days": cap, "latest_valid_until": latest},
        )
    return None


def _names_its_case(terms: ConsentTerms, catalog: Catalog, _today: date) -> Violation | None:
    # Retssikkerhedsloven § 11 a: a consent to obtain information must say for which case.
    if _purpose(terms, catalog).requires_case_ref and not terms.case_ref:
        return Violation(
            "case_ref_required",
            "case_ref",
            f"Purpose {terms.purpose!r} requires the case the consent is for (case_ref)",
            cap={"requires_case_ref": True},
        )
    return None


def _not_already_over(terms: ConsentTerms, _catalog: Catalog, today: date) -> Violation | None:
    if terms.valid_until < today:
        return Violation("consent_already_expired", "valid_until", "valid_until lies in the past")
    return None


_RULES: tuple[Callable[[ConsentTerms, Catalog, date], Violation | None], ...] = (
    _known_departments,
    _known_categories,
    _known_purpose,
    _crosses_a_boundary,
    _within_purpose_categories,
    _within_purpose_departments,
    _within_validity_cap,
    _names_its_case,
    _not_already_over,
)


def check_terms(terms: ConsentTerms, catalog: Catalog, today: date) -> Violation | None:
    """The first rule the terms break, or None. `today` is the local calendar day."""
    for rule in _RULES:
        violation = rule(terms, catalog, today)
        if violation is not None:
            return violation
    return None
