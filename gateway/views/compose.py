"""The citizen view put together from what was released: per department, the insights, the
coverage. The gateway calls it after the entry is durable; bench/typed_proxy.py calls the same
function without consent or log, so the two differ by exactly those."""

from __future__ import annotations

from datetime import datetime

from consent.decision import local_day
from gateway.views.insights import InsightSettings, build_insights
from gateway.views.merge import freshness_by_source, group_by_department
from schemas.catalog import Catalog
from schemas.consent import ConsentRef
from schemas.fragment import Fragment
from schemas.view import CitizenView, Coverage


def compose_view(
    *,
    citizen: str,
    purpose: str,
    fragments: list[Fragment],
    coverage: list[Coverage],
    catalog: Catalog,
    insight_settings: InsightSettings,
    own_department: str,
    fetched_at: datetime,
    now: datetime,
    consents: list[ConsentRef],
    access_entry: int,
) -> CitizenView:
    insights = build_insights(
        fragments,
        coverage,
        catalog=catalog,
        settings=insight_settings,
        freshness=freshness_by_source(coverage, fetched_at=fetched_at),
        today=local_day(now),
    )
    return CitizenView(
        citizen=citizen,
        purpose=purpose,
        generated_at=now,
        departments=group_by_department(fragments, catalog=catalog, own_department=own_department),
        timeline=insights.timeline,
        overlaps=insights.overlaps,
        cost=insights.cost,
        progression=insights.progression,
        contradictions=insights.contradictions,
        coverage=coverage,
        consents=consents,
        access_entry=access_entry,
    )
