"""Help given twice (*dobbeltindsatser*): two departments' interventions of one configured
support group whose periods overlap.

Sources map their own codes to `attributes.help_type`; the configuration groups help types
that are the same help (a jobcenter mentor and § 85 socio-pedagogical support). A help type in
no group is a group of its own, so the same help type from two departments is still found.
"""

from __future__ import annotations

from itertools import combinations

from gateway.views.insights.config import InsightSettings
from schemas.fragment import Fragment, FragmentKind
from schemas.insights import Overlap


def _group(fragment: Fragment, settings: InsightSettings) -> tuple[str, str] | None:
    help_type = fragment.attributes.get("help_type")
    if fragment.kind is not FragmentKind.INTERVENTION or not isinstance(help_type, str):
        return None
    group = settings.group_of(help_type)
    return (group.slug, group.name) if group else (help_type, help_type)


def find_overlaps(fragments: list[Fragment], settings: InsightSettings) -> list[Overlap]:
    grouped = [(f, g) for f in fragments if (g := _group(f, settings)) is not None]
    overlaps: list[Overlap] = []
    for (first, group), (second, other) in combinations(sorted(grouped, key=lambda p: p[0].id), 2):
        if (
            group == other
            and first.department != second.department
            and first.period.overlaps(second.period)
        ):
            starts = [d for d in (first.period.start, second.period.start) if d]
            ends = [d for d in (first.period.end, second.period.end) if d]
            overlaps.append(
                Overlap(
                    help_type=group[0],
                    support_group=group[1],
                    departments=[first.department, second.department],
                    fragments=[first.id, second.id],
                    items=[first, second],
                    period={
                        "start": max(starts) if starts else None,
                        "end": min(ends) if ends else None,
                    },
                )
            )
    return overlaps
