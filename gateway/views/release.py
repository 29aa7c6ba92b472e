"""The last gate before data leaves: only what the decision permitted, only about this citizen,
only within the data period a consent allows."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from adapters.protocol import SourceConfig
from consent.decision import Reason, Ruling
from schemas.fragment import Fragment


@dataclass
class Released:
    fragments: list[Fragment] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)  # reason -> count


def every_category_of(source: SourceConfig) -> dict[str, Ruling]:
    """All the source offers, as its own department would see it: for IT operations' source
    checks, where no consent is in play (and the check itself is logged)."""
    return {
        category: Ruling(source.department, category, permit=True, reason=Reason.OWN_DEPARTMENT)
        for category in source.categories
    }


def release_permitted_fragments(
    fragments: list[Fragment],
    *,
    citizen: str,
    source: SourceConfig,
    rulings: dict[str, Ruling],
) -> Released:
    """Drop (and count) whatever the source sent beyond what was asked and permitted (rule 1)."""
    released = Released()
    seen: set[str] = set()
    for fragment in fragments:
        ruling = rulings.get(fragment.category)
        if fragment.citizen != citizen:
            released.dropped["other-citizen"] += 1
        elif fragment.source != source.name or fragment.department != source.department:
            released.dropped["wrong-source"] += 1
        elif ruling is None or not ruling.permit:
            released.dropped["category-not-permitted"] += 1
        elif (reason := ruling.release_reason(fragment.period)) is not None:
            released.dropped[reason.value] += 1
        elif fragment.id in seen:
            released.dropped["duplicate"] += 1
        else:
            seen.add(fragment.id)
            released.fragments.append(fragment)
    return released
