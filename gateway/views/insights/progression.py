"""Progression: score series per instrument (Udviklingskompasset, FIT), from the measurements
fragments carry in `attributes.scores`:

    [{"instrument": "udviklingskompasset", "dimension": "Egenomsorg", "date": "2026-03-01",
      "value": 3}, ...]

A measurement that is not of that shape is left out, never guessed at.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from gateway.views.insights.config import InsightSettings
from schemas.fragment import Fragment
from schemas.insights import Direction, ProgressionSeries, ScorePoint


def _point(raw: Any) -> tuple[str, str | None, ScorePoint] | None:
    if not isinstance(raw, dict):
        return None
    instrument, dimension, day, value = (
        raw.get("instrument"),
        raw.get("dimension"),
        raw.get("date"),
        raw.get("value"),
    )
    if not isinstance(instrument, str) or not instrument:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        point = ScorePoint(date=date.fromisoformat(str(day)[:10]), value=float(value))
    except ValueError:
        return None
    return instrument, dimension if isinstance(dimension, str) and dimension else None, point


def _direction(change: float, higher_is_better: bool) -> Direction:
    if change == 0:
        return Direction.UNCHANGED
    return Direction.BETTER if (change > 0) == higher_is_better else Direction.WORSE


def score_series(fragments: list[Fragment], settings: InsightSettings) -> list[ProgressionSeries]:
    series: list[ProgressionSeries] = []
    for fragment in sorted(fragments, key=lambda f: f.id):
        scores = fragment.attributes.get("scores")
        if not isinstance(scores, list):
            continue
        grouped: dict[tuple[str, str | None], list[ScorePoint]] = defaultdict(list)
        for raw in scores:
            parsed = _point(raw)
            if parsed is not None:
                grouped[(parsed[0], parsed[1])].append(parsed[2])
        for (slug, dimension), points in grouped.items():
            instrument = settings.instrument(slug)
            points.sort(key=lambda p: p.date)
            higher_is_better = instrument.higher_is_better if instrument else True
            change = points[-1].value - points[0].value if len(points) > 1 else None
            series.append(
                ProgressionSeries(
                    instrument=slug,
                    name=instrument.name if instrument else slug,
                    dimension=dimension,
                    department=fragment.department,
                    fragment=fragment.id,
                    title=fragment.title,
                    scale_min=instrument.scale_min if instrument else None,
                    scale_max=instrument.scale_max if instrument else None,
                    higher_is_better=higher_is_better,
                    points=points,
                    change=change,
                    direction=None if change is None else _direction(change, higher_is_better),
                )
            )
    return series
