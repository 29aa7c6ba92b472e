"""What a draft consent would open, per recipient, source and category: the decision, applied
to the draft alone, on the day it would first be valid."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from consent.decision import AccessRequest, decide
from schemas.consent import ConsentPreviewLine, ConsentRead
from schemas.times import COPENHAGEN


@dataclass(frozen=True)
class SourceScope:
    name: str
    department: str
    categories: tuple[str, ...]


def preview(
    draft: ConsentRead,
    sources: Iterable[SourceScope],
    special_categories: frozenset[str],
    on: date,
    zone: ZoneInfo = COPENHAGEN,
) -> list[ConsentPreviewLine]:
    """Only sources in the draft's own departments are listed: those are what it speaks to."""
    at = datetime.combine(on, time(12), tzinfo=zone)
    relevant = [s for s in sources if s.department in draft.from_departments]
    lines: list[ConsentPreviewLine] = []
    for recipient in sorted(draft.to_departments):
        request = AccessRequest(
            citizen=draft.citizen,
            requester_department=recipient,
            purpose=draft.purpose,
            scopes=frozenset((s.department, c) for s in relevant for c in s.categories),
            special_categories=special_categories,
        )
        decision = decide(request, [draft], at)
        for source in sorted(relevant, key=lambda s: s.name):
            if source.department == recipient:
                continue  # a department's own data needs no consent
            for category in sorted(source.categories):
                ruling = decision.ruling(source.department, category)
                lines.append(
                    ConsentPreviewLine(
                        recipient=recipient,
                        source=source.name,
                        department=source.department,
                        category=category,
                        permit=ruling.permit,
                        reason=ruling.reason.value,
                    )
                )
    return lines
