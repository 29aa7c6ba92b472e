"""The cost across budgets: the yearly rate of what runs today, per department and in total.

An amount is `attributes.rate` with `attributes.rate_unit` (day, week, month, quarter, year) on
a benefit or an intervention; `attributes.currency` if not the configured one. Only released
fragments count, so the sum is what the consent lets this caseworker see, and it says so
(`partial`) when a department's benefits or interventions stayed out of sight.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from gateway.views.insights.config import CostSettings
from schemas.catalog import Catalog
from schemas.fragment import Fragment, FragmentKind
from schemas.insights import CostLine, CostSummary, DepartmentCost
from schemas.view import Coverage, CoverageStatus

PER_YEAR = {"day": 365.0, "week": 52.0, "month": 12.0, "quarter": 4.0, "year": 1.0}
COSTED_KINDS = (FragmentKind.BENEFIT, FragmentKind.INTERVENTION)
COSTED_CATEGORIES = ("benefits", "interventions")


def _running(fragment: Fragment, today: date) -> bool:
    period = fragment.period
    return (
        fragment.status != "ended"
        and (period.start is None or period.start <= today)
        and (period.end is None or period.end >= today)
    )


def _not_seen(coverage: list[Coverage]) -> list[str]:
    """Departments with a source that offers amounts the view did not get."""
    missing = {
        line.department
        for line in coverage
        if (
            line.status is CoverageStatus.UNAVAILABLE
            and set(COSTED_CATEGORIES) & set(line.categories)
        )
        or set(COSTED_CATEGORIES) & set(line.needs_consent_for)
    }
    return sorted(missing)


def sum_costs(
    fragments: list[Fragment],
    coverage: list[Coverage],
    *,
    catalog: Catalog,
    settings: CostSettings,
    today: date,
) -> CostSummary:
    lines: dict[str, list[CostLine]] = defaultdict(list)
    uncounted: list[str] = []
    for fragment in fragments:
        rate = fragment.attributes.get("rate")
        if fragment.kind not in COSTED_KINDS or isinstance(rate, bool):
            continue
        if not isinstance(rate, int | float) or not _running(fragment, today):
            continue
        unit = fragment.attributes.get("rate_unit")
        currency = fragment.attributes.get("currency") or settings.currency
        if unit not in PER_YEAR or currency != settings.currency:
            uncounted.append(fragment.id)
            continue
        lines[fragment.department].append(
            CostLine(
                fragment=fragment.id,
                title=fragment.title,
                kind=fragment.kind.value,
                rate=float(rate),
                rate_unit=str(unit),
                yearly=round(float(rate) * PER_YEAR[str(unit)], 2),
            )
        )
    departments = [
        DepartmentCost(
            department=d.slug,
            name=d.name,
            yearly=round(sum(line.yearly for line in lines[d.slug]), 2),
            lines=sorted(lines[d.slug], key=lambda line: -line.yearly),
        )
        for d in catalog.departments
        if lines.get(d.slug)
    ]
    total = round(sum(d.yearly for d in departments), 2)
    threshold = settings.yearly_threshold
    not_seen = _not_seen(coverage)
    return CostSummary(
        currency=settings.currency,
        as_of=today,
        departments=departments,
        total=total,
        threshold=threshold,
        above_threshold=threshold is not None and total > threshold,
        partial=bool(not_seen),
        not_seen=not_seen,
        uncounted=sorted(uncounted),
    )
