"""Merge released fragments into one view: by department, and how fresh each source is."""

from __future__ import annotations

from datetime import date, datetime

from schemas.catalog import Catalog
from schemas.fragment import Fragment
from schemas.insights import Freshness
from schemas.view import Coverage, CoverageStatus, DepartmentFragments


def _by_start(fragment: Fragment) -> tuple[date, str]:
    return (fragment.period.start or date.min, fragment.id)


def group_by_department(
    fragments: list[Fragment], *, catalog: Catalog, own_department: str
) -> list[DepartmentFragments]:
    """The caller's own department first, then the others in the catalogue's order."""
    order = [own_department] + [d.slug for d in catalog.departments if d.slug != own_department]
    groups: list[DepartmentFragments] = []
    for slug in order:
        members = [f for f in fragments if f.department == slug]
        if members:
            department = catalog.department(slug)
            groups.append(
                DepartmentFragments(
                    department=slug,
                    name=department.name if department else slug,
                    fragments=sorted(members, key=_by_start, reverse=True),  # newest first
                )
            )
    return groups


def freshness_by_source(coverage: list[Coverage], *, fetched_at: datetime) -> dict[str, Freshness]:
    """Per answering source: live (as of the fetch), or the copy it served and its date."""
    return {
        line.source: Freshness(live=False, as_of=line.as_of, export_date=line.export_date)
        if line.as_of is not None
        else Freshness(live=True, as_of=fetched_at)
        for line in coverage
        if line.status is CoverageStatus.INCLUDED
    }
