"""The view's insights: pure functions over the released fragments (no I/O, nothing the
consent did not release), called once per view from the merge step."""

from __future__ import annotations

from datetime import date

from gateway.views.insights.config import InsightSettings
from gateway.views.insights.contradictions import find_contradictions
from gateway.views.insights.cost import sum_costs
from gateway.views.insights.overlaps import find_overlaps
from gateway.views.insights.progression import score_series
from gateway.views.insights.timeline import build_timeline
from schemas.catalog import Catalog
from schemas.fragment import Fragment
from schemas.insights import Freshness, Insights
from schemas.view import Coverage


def build_insights(
    fragments: list[Fragment],
    coverage: list[Coverage],
    *,
    catalog: Catalog,
    settings: InsightSettings,
    freshness: dict[str, Freshness],
    today: date,
) -> Insights:
    # Every part is built from validated models already: no second validation of the whole.
    return Insights.model_construct(
        timeline=build_timeline(fragments, catalog=catalog, freshness=freshness),
        overlaps=find_overlaps(fragments, settings),
        cost=sum_costs(fragments, coverage, catalog=catalog, settings=settings.cost, today=today),
        progression=score_series(fragments, settings),
        contradictions=find_contradictions(fragments, settings.facts),
    )


__all__ = ["InsightSettings", "build_insights"]
