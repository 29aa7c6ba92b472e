"""What a consent must satisfy before it is recorded; pure, like the decision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from schemas.catalog import Catalog
from schemas.consent import ConsentTerms


@dataclass(frozen=True)
class Violation:
    code: str
    field: str
    message: str


def check_terms(terms: ConsentTerms, catalog: Catalog, today: date) -> Violation | None:
    """The first rule the terms break, or None. `today` is the local calendar day."""
    for name in ("from_departments", "to_departments"):
        for slug in getattr(terms, name):
            if catalog.department(slug) is None:
                return Violation("unknown_department", name, f"Unknown department {slug!r}")
    for slug in terms.categories:
        if catalog.category(slug) is None:
            return Violation("unknown_category", "categories", f"Unknown category {slug!r}")
    purpose = catalog.purpose(terms.purpose)
    if purpose is None:
        return Violation("unknown_purpose", "purpose", f"Unknown purpose {terms.purpose!r}")
    if len(set(terms.from_departments) | set(terms.to_departments)) == 1:
        return Violation(
            "consent_crosses_no_boundary",
            "to_departments",
            "A department sees its own data without consent; name another department",
        )
    if purpose.categories is not None:
        for slug in terms.categories:
            if slug not in purpose.categories:
                return Violation(
                    "category_not_allowed_for_purpose",
                    "categories",
                    f"Purpose {purpose.slug!r} may not open category {slug!r}",
                )
    if purpose.departments is not None:
        for slug in [*terms.from_departments, *terms.to_departments]:
            if slug not in purpose.departments:
                return Violation(
                    "department_not_allowed_for_purpose",
                    "from_departments" if slug in terms.from_departments else "to_departments",
                    f"Purpose {purpose.slug!r} may not involve department {slug!r}",
                )
    if purpose.max_validity_days is not None:
        last_day = terms.valid_from + timedelta(days=purpose.max_validity_days)
        if terms.valid_until > last_day:
            return Violation(
                "validity_exceeds_purpose_cap",
                "valid_until",
                f"Purpose {purpose.slug!r} allows at most {purpose.max_validity_days} days; "
                f"valid_until may be {last_day.isoformat()} at the latest",
            )
    if terms.valid_until < today:
        return Violation(
            "consent_already_expired", "valid_until", "valid_until lies in the past"
        )
    return None
