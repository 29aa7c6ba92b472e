"""Contradictions worth a call: one kind of fact (address, custody, main goal) that two
departments give differently. Each department's newest value is compared after folding case,
spaces and punctuation; a difference is flagged with every value, never merged into one."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from gateway.views.insights.config import FactKind
from schemas.fragment import Fragment
from schemas.insights import Contradiction, FactValue

_NOISE = re.compile(r"[\s.,;:]+")
_EPOCH = datetime.min.replace(tzinfo=UTC)


def _folded(value: str) -> str:
    return _NOISE.sub(" ", value.casefold()).strip()


def _newest_per_department(fragments: list[Fragment], fact: FactKind) -> list[FactValue]:
    # The newest fragment per department first, a FactValue only for the winners: most
    # fragments hold no fact at all, and a model built per candidate cost more than the scan.
    newest: dict[str, tuple[datetime, Fragment, str]] = {}
    attribute = fact.attribute
    for fragment in fragments:
        value = fragment.attributes.get(attribute)
        if not isinstance(value, str) or not value.strip():
            continue
        when = fragment.updated_at or _EPOCH
        held = newest.get(fragment.department)
        if held is None or when > held[0]:
            newest[fragment.department] = (when, fragment, value)
    return [
        FactValue(
            department=department,
            value=value.strip(),
            fragment=fragment.id,
            updated_at=fragment.updated_at,
        )
        for department, (_, fragment, value) in sorted(newest.items())
    ]


def find_contradictions(
    fragments: list[Fragment], facts: tuple[FactKind, ...]
) -> list[Contradiction]:
    found: list[Contradiction] = []
    for fact in facts:
        values = _newest_per_department(fragments, fact)
        if len({_folded(v.value) for v in values}) > 1:
            found.append(Contradiction(fact=fact.slug, name=fact.name, values=values))
    return found
