"""Merge released fragments into one view: by department, one timeline, and help given twice."""

from __future__ import annotations

from datetime import date
from itertools import combinations

from schemas.catalog import Catalog
from schemas.fragment import Fragment, FragmentKind
from schemas.view import DepartmentFragments, Overlap


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


def timeline(fragments: list[Fragment]) -> list[Fragment]:
    """Chronological by start; fragments without a start (undated) come first."""
    return sorted(fragments, key=_by_start)


def find_overlaps(fragments: list[Fragment]) -> list[Overlap]:
    """The same kind of help from two departments at once (Morsø's *dobbeltindsats*).

    Sources map their own intervention codes to a shared `attributes.help_type`; two
    interventions of one help type, from different departments, with overlapping periods, are
    worth a conversation between the caseworkers.
    """
    interventions = [
        f
        for f in fragments
        if f.kind is FragmentKind.INTERVENTION and isinstance(f.attributes.get("help_type"), str)
    ]
    overlaps: list[Overlap] = []
    for first, second in combinations(sorted(interventions, key=lambda f: f.id), 2):
        if (
            first.department != second.department
            and first.attributes["help_type"] == second.attributes["help_type"]
            and first.period.overlaps(second.period)
        ):
            starts = [d for d in (first.period.start, second.period.start) if d]
            ends = [d for d in (first.period.end, second.period.end) if d]
            overlaps.append(
                Overlap(
                    help_type=first.attributes["help_type"],
                    departments=[first.department, second.department],
                    fragments=[first.id, second.id],
                    period={
                        "start": max(starts) if starts else None,
                        "end": min(ends) if ends else None,
                    },
                )
            )
    return overlaps
