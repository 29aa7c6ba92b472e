"""One timeline across departments, newest first, each item with who to call and how fresh."""

from __future__ import annotations

from datetime import date

from schemas.catalog import Catalog
from schemas.fragment import Fragment, FragmentKind, Responsible
from schemas.insights import Freshness, TimelineItem


def _newest_first(fragment: Fragment) -> tuple[date, str]:
    """By start, newest first; undated items last (their time is unknown, not recent)."""
    return (fragment.period.start or date.min, fragment.id)


def _case_owners(fragments: list[Fragment]) -> dict[tuple[str, str | None], Responsible]:
    """Per source (and case number, where the source gives one): the case's caseworker."""
    owners: dict[tuple[str, str | None], Responsible] = {}
    for fragment in fragments:
        if fragment.kind is FragmentKind.CASE and fragment.responsible is not None:
            number = fragment.attributes.get("case_number")
            owners.setdefault(
                (fragment.source, str(number) if number else None), fragment.responsible
            )
            owners.setdefault((fragment.source, None), fragment.responsible)
    return owners


def _contact(
    fragment: Fragment, owners: dict[tuple[str, str | None], Responsible]
) -> Responsible | None:
    if fragment.responsible is not None and (
        fragment.responsible.phone or fragment.responsible.email or fragment.responsible.name
    ):
        return fragment.responsible
    number = fragment.attributes.get("case_number")
    return owners.get((fragment.source, str(number) if number else None)) or owners.get(
        (fragment.source, None)
    )


def build_timeline(
    fragments: list[Fragment], *, catalog: Catalog, freshness: dict[str, Freshness]
) -> list[TimelineItem]:
    owners = _case_owners(fragments)
    names = {d.slug: d.name for d in catalog.departments}
    return [
        # The fragment was validated on its way in; the three additions are ours. Its fields
        # from __dict__ (extra is forbidden, so that is all of them): dict(fragment) first
        # asks the model for .keys, a failed attribute look-up that costs 100 times more.
        TimelineItem.model_construct(
            **fragment.__dict__,
            department_name=names.get(fragment.department, fragment.department),
            contact=_contact(fragment, owners),
            freshness=freshness[fragment.source],
        )
        for fragment in sorted(fragments, key=_newest_first, reverse=True)
    ]
