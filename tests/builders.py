"""Request bodies as a caseworker would send them, with today's dates."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any


def consent_body(citizen: str, /, **changes: Any) -> dict[str, Any]:
    today = date.today()
    body: dict[str, Any] = {
        "citizen": citizen,
        "given_by": {"kind": "self"},
        "from_departments": ["jobcenter"],
        "to_departments": ["children-family"],
        "categories": ["case-overview", "benefits"],
        "purpose": "coordinated-plan",
        "valid_from": (today - timedelta(days=7)).isoformat(),
        "valid_until": (today + timedelta(days=180)).isoformat(),
        "evidence": {"kind": "signed-form", "reference": "J.nr. 27.27.09-G01-12-26"},
    }
    body.update(changes)
    return body
