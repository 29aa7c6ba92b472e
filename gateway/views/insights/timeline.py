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
        _item(
            fragment,
            names.get(fragment.department, fragment.department),
            _contact(fragment, owners),
            freshness[fragment.source],
        )
        for fragment in sorted(fragments, key=_newest_first, reverse=True)
    ]


_FIELDS = frozenset(TimelineItem.model_fields)
assert list(TimelineItem.model_fields)[-3:] == ["department_name", "contact", "freshness"]
assert TimelineItem.__pydantic_post_init__ is None


def _item(
    fragment: Fragment, department_name: str, contact: Responsible | None, freshness: Freshness
) -> TimelineItem:
    """`TimelineItem.model_construct(**fragment.__dict__, department_name=..., contact=...,
    freshness=...)` without its loop over the fields: the fragment was validated on its way in
    and gives every field of its own (extra is forbidden, so __dict__ is all of them), the
    three more are ours, so there is no default or alias to look up, and what model_construct
    leaves is these four attributes (tests/test_view_insights.py: the two give equal items)."""
    item = TimelineItem.__new__(TimelineItem)
    values = {
        **fragment.__dict__,
        "department_name": department_name,
        "contact": contact,
        "freshness": freshness,
    }
    object.__setattr__(item, "__dict__", values)
    object.__setattr__(item, "__pydantic_fields_set__", set(_FIELDS))
    object.__setattr__(item, "__pydantic_extra__", None)
    object.__setattr__(item, "__pydantic_private__", None)
    return item
