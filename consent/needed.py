"""Which consent would open what a source was not asked for: what the caseworker tells the
citizen when information is missing (Retssikkerhedsloven § 11 b: the case is decided on what is
available, and the citizen must be told what a consent would add).

Pure: the decision's rulings and the purpose's template in, a description of the consent out.
"""

from __future__ import annotations

from collections.abc import Iterable

from consent.decision import Ruling
from schemas.catalog import Purpose
from schemas.view import ConsentNeeded


def consent_needed(
    rulings: Iterable[Ruling],
    *,
    requester_department: str,
    purpose: Purpose,
    special_categories: frozenset[str],
) -> ConsentNeeded | None:
    """The consent that would open a source's denied categories for this requester and purpose;
    None when nothing was denied. Categories the purpose's template can never open (or every
    category, when it does not involve these departments) are listed apart: no consent for this
    purpose opens them (§ 11 a: a consent names the kinds of information and the case)."""
    denied = sorted((r for r in rulings if not r.permit), key=lambda r: r.category)
    if not denied:
        return None
    source_department = denied[0].department
    departments_fit = purpose.departments is None or (
        source_department in purpose.departments and requester_department in purpose.departments
    )
    openable: list[str] = []
    outside: list[str] = []
    for ruling in denied:
        fits = purpose.categories is None or ruling.category in purpose.categories
        (openable if departments_fit and fits else outside).append(ruling.category)
    return ConsentNeeded(
        from_departments=[source_department],
        to_departments=[requester_department],
        purpose=purpose.slug,
        categories=openable,
        special=[c for c in openable if c in special_categories],
        outside_purpose=outside,
        reasons={r.category: r.reason.value for r in denied},
    )
