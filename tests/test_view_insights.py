"""The view's insights: the pure functions with plain asserts, then the demo's data through the
real stack (gateway over HTTP, simulated systems on loopback)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from gateway.catalog_defaults import DEPARTMENTS
from gateway.views.insights.config import CostSettings, InsightSettings
from gateway.views.insights.contradictions import find_contradictions
from gateway.views.insights.cost import sum_costs
from gateway.views.insights.overlaps import find_overlaps
from gateway.views.insights.progression import score_series
from gateway.views.insights.timeline import build_timeline
from schemas.catalog import Catalog
from schemas.fragment import Fragment
from schemas.insights import Freshness, TimelineItem
from schemas.view import Coverage, CoverageStatus
from tests.builders import consent_body
from tests.support import LiveGateway

CATALOG = Catalog(departments=DEPARTMENTS, categories=(), purposes=())
TODAY = date(2026, 12, 2)


def fragment(department: str, number: int, **fields: Any) -> Fragment:
    return Fragment.model_validate(
        {
            "id": f"{department}-sys:{number}",
            "citizen": "1203911234",
            "source": f"{department}-sys",
            "department": department,
            "category": "interventions",
            "kind": "intervention",
            "title": f"item {number}",
            **fields,
        }
    )


def included(department: str, *categories: str) -> Coverage:
    return Coverage(
        source=f"{department}-sys",
        department=department,
        status=CoverageStatus.INCLUDED,
        categories=list(categories),
    )


def test_different_help_types_of_one_support_group_overlap_across_departments() -> None:
    mentor = fragment(
        "jobcenter",
        1,
        attributes={"help_type": "mentor"},
        period={"start": "2026-06-01", "end": "2026-12-31"},
    )
    support = fragment(
        "adult-social",
        2,
        attributes={"help_type": "socio-pedagogical-support"},
        period={"start": "2026-03-01", "end": "2026-08-31"},
    )
    later = fragment(
        "children-family",
        3,
        attributes={"help_type": "contact-person"},
        period={"start": "2027-01-01"},
    )
    housing = fragment("health", 4, attributes={"help_type": "housing"})
    (overlap,) = find_overlaps([mentor, support, later, housing], InsightSettings())
    assert overlap.help_type == "personal-support"
    assert overlap.fragments == ["adult-social-sys:2", "jobcenter-sys:1"]
    assert [item.title for item in overlap.items] == ["item 2", "item 1"]
    assert overlap.period == {"start": date(2026, 6, 1), "end": date(2026, 8, 31)}
    assert find_overlaps([mentor, support], InsightSettings(support_groups=())) == [], (
        "without the group, a mentor and § 85 support are different help"
    )


def test_the_yearly_cost_sums_what_runs_today_per_department_against_the_threshold() -> None:
    fragments = [
        fragment("jobcenter", 1, kind="benefit", attributes={"rate": 12_000, "rate_unit": "month"}),
        fragment("adult-social", 2, attributes={"rate": 1_000, "rate_unit": "week"}),
        fragment(
            "adult-social",
            3,
            attributes={"rate": 500, "rate_unit": "month"},
            period={"start": "2025-01-01", "end": "2025-12-31"},
        ),
        fragment("adult-social", 4, attributes={"rate": 90, "rate_unit": "hour"}),
        fragment("adult-social", 5, kind="case", attributes={"rate": 1, "rate_unit": "year"}),
    ]
    coverage = [included("jobcenter", "benefits"), included("adult-social", "interventions")]
    cost = sum_costs(fragments, coverage, catalog=CATALOG, settings=CostSettings(), today=TODAY)
    assert [(d.department, d.yearly) for d in cost.departments] == [
        ("jobcenter", 144_000),
        ("adult-social", 52_000),
    ]
    assert (cost.total, cost.threshold, cost.above_threshold) == (196_000, 150_000, True)
    assert cost.uncounted == ["adult-social-sys:4"], "an hourly rate is not guessed at"
    assert not cost.partial
    hidden = Coverage(
        source="health-sys",
        department="health",
        status=CoverageStatus.NOT_COVERED,
        categories=[],
        needs_consent_for=["interventions"],
    )
    cheap = sum_costs(
        fragments[1:2],
        [*coverage, hidden],
        catalog=CATALOG,
        settings=CostSettings(yearly_threshold=60_000),
        today=TODAY,
    )
    assert (cheap.total, cheap.above_threshold, cheap.partial, cheap.not_seen) == (
        52_000,
        False,
        True,
        ["health"],
    )


def test_scores_become_series_per_instrument_and_theme_oldest_first() -> None:
    scores = [
        {"instrument": "udviklingskompasset", "dimension": "Egenomsorg", "date": d, "value": v}
        for d, v in (("2026-09-15", 6), ("2026-03-15", 3))
    ] + [
        {"instrument": "fit-ors", "date": "2026-04-01", "value": 30},
        {"instrument": "fit-ors", "date": "2026-05-01", "value": 21},
        {"instrument": "fit-ors", "date": "not a date", "value": 1},
        "garbage",
    ]
    series = score_series(
        [fragment("adult-social", 1, attributes={"scores": scores})], InsightSettings()
    )
    compass, fit = series
    assert (compass.dimension, [p.value for p in compass.points]) == ("Egenomsorg", [3, 6])
    assert (compass.scale_min, compass.scale_max, compass.direction) == (1, 10, "better")
    assert ([p.value for p in fit.points], fit.change, fit.direction) == ([30, 21], -9, "worse")


def test_facts_two_departments_give_differently_are_flagged_with_both_values() -> None:
    old, new = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)
    fragments = [
        fragment("jobcenter", 1, attributes={"address": "Vestergade 21"}, updated_at=old),
        fragment("jobcenter", 2, attributes={"address": "Ådalsvej 3"}, updated_at=new),
        fragment("adult-social", 3, attributes={"address": "ÅDALSVEJ  3."}),
        fragment("adult-social", 4, attributes={"custody": "Mor alene"}),
        fragment("children-family", 5, attributes={"custody": "Fælles"}),
    ]
    (custody,) = find_contradictions(fragments, InsightSettings().facts)
    assert custody.fact == "custody"
    assert [(v.department, v.value) for v in custody.values] == [
        ("adult-social", "Mor alene"),
        ("children-family", "Fælles"),
    ]


def _view(gateway: LiveGateway, citizen: str, department: str) -> dict[str, Any]:
    response = gateway.view(citizen, as_=department)
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


def test_the_demo_shows_cost_progression_an_overlap_and_a_contradiction(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    lars = twin_of("Lars Vestergaard")
    before = _view(gateway, lars, "adult-social")
    assert before["overlaps"] == []
    assert before["contradictions"] == []
    assert before["cost"]["partial"] is True
    assert "jobcenter" in before["cost"]["not_seen"]
    body = consent_body(
        lars,
        from_departments=["jobcenter"],
        to_departments=["adult-social"],
        categories=["case-overview", "interventions", "benefits"],
    )
    gateway.post("/v1/consents", body, as_="adult-social").raise_for_status()
    view = _view(gateway, lars, "adult-social")

    (overlap,) = view["overlaps"]
    assert overlap["help_type"] == "personal-support"
    assert {i["title"] for i in overlap["items"]} == {"Mentorstøtte", "Socialpædagogisk støtte"}
    cost = view["cost"]
    yearly = {d["department"]: d["yearly"] for d in cost["departments"]}
    assert yearly == {"adult-social": 692_400, "jobcenter": 202_200}
    assert (cost["total"], cost["above_threshold"]) == (894_600, True)
    (address,) = view["contradictions"]
    assert {v["department"] for v in address["values"]} == {"adult-social", "jobcenter"}
    compass = {s["dimension"]: s for s in view["progression"]}
    assert [p["value"] for p in compass["Egenomsorg"]["points"]] == [3, 5, 6]

    starts = [item["period"]["start"] or "" for item in view["timeline"]]
    assert starts == sorted(starts, reverse=True), "newest first"
    for item in view["timeline"]:
        assert item["department_name"]
        assert item["contact"]
        assert item["contact"]["phone"] or item["contact"]["email"]
        assert item["freshness"]["live"] is True
        assert item["freshness"]["as_of"].endswith("Z")


def test_a_main_goal_given_differently_and_the_nightly_export_as_freshness(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    jonas = twin_of("Jonas Berg")
    body = consent_body(
        jonas,
        from_departments=["jobcenter"],
        to_departments=["children-family"],
        categories=["plans-goals"],
    )
    gateway.post("/v1/consents", body).raise_for_status()
    view = _view(gateway, jonas, "children-family")
    (goal,) = view["contradictions"]
    assert goal["fact"] == "main-goal"
    assert {(v["department"], v["value"]) for v in goal["values"]} == {
        ("children-family", "Egen bolig"),
        ("jobcenter", "Uddannelse"),
    }
    line = next(c for c in view["coverage"] if c["department"] == "children-family")
    exported = [i for i in view["timeline"] if i["department"] == "children-family"]
    assert exported
    assert all(not i["freshness"]["live"] for i in exported)
    for item in exported:
        assert item["freshness"]["export_date"] == line["export_date"]
        assert item["attributes"]["export_date"] == line["export_date"]


def test_the_insights_are_in_the_openapi_schema(gateway: LiveGateway) -> None:
    assert gateway.http is not None
    schemas = gateway.http.get("/openapi.json").json()["components"]["schemas"]
    view = schemas["CitizenView"]["properties"]
    for key in ("timeline", "overlaps", "cost", "progression", "contradictions"):
        assert key in view, key
    assert {"freshness", "contact", "department_name"} <= set(schemas["TimelineItem"]["properties"])
    assert {"total", "threshold", "above_threshold", "partial"} <= set(
        schemas["CostSummary"]["properties"]
    )
    assert "export_date" in schemas["Coverage"]["properties"]


def test_the_csv_export_is_named_by_one_copenhagen_date_everywhere_and_times_are_utc(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    """Issue 13 item 9: coverage, fragments, freshness and the sources name the same export."""
    noah = twin_of("Noah Holm")
    view = _view(gateway, noah, "children-family")
    line = next(c for c in view["coverage"] if c["department"] == "children-family")
    named = {line["export_date"]}
    named |= {f["attributes"]["export_date"] for f in view["timeline"]}
    named |= {f["freshness"]["export_date"] for f in view["timeline"]}
    assert gateway.http is not None
    sources = gateway.http.get("/v1/sources", headers=gateway.headers("itops", None)).json()
    (dubu,) = [s for s in sources["sources"] if s["kind"] == "csv_drop"]
    named |= {dubu["export"]["export_date"], dubu["health"]["detail"].removeprefix("export of ")}
    assert len(named) == 1, named
    inger = twin_of("Inger Poulsen")  # the health system gives times with +01:00 and +02:00
    health = _view(gateway, inger, "health")
    times = [health["generated_at"], *(f["updated_at"] for f in health["timeline"])]
    times += [line["as_of"], view["generated_at"]]
    assert len(times) > 2
    assert all(t.endswith("Z") for t in times if t), times


def test_timeline_items_are_what_model_construct_makes_of_their_fragments() -> None:
    """The timeline builds its items without model_construct's loop over the fields (a tenth of
    a view's instructions); the items must be the same models, field for field."""
    case = fragment(
        "jobcenter",
        1,
        kind="case",
        responsible={"name": "Mette", "phone": "+45 33 66 22 11"},
        attributes={"case_number": "K-7"},
        period={"start": "2026-01-01"},
    )
    plan = fragment("jobcenter", 2, kind="plan", attributes={"case_number": "K-7"})
    note = fragment("health", 3, kind="note", updated_at="2026-11-30T08:00:00Z")
    live = Freshness(live=True, as_of=datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    freshness = {"jobcenter-sys": live, "health-sys": live}
    items = build_timeline([note, plan, case], catalog=CATALOG, freshness=freshness)
    by_id = {f.id: f for f in (case, plan, note)}
    for item in items:
        source = by_id[item.id]
        expected = TimelineItem.model_construct(
            **source.__dict__,
            department_name=item.department_name,
            contact=item.contact,
            freshness=item.freshness,
        )
        assert item == expected
        assert item.model_fields_set == expected.model_fields_set
        assert item.model_dump_json() == expected.model_dump_json()
        assert list(item.__dict__) == list(expected.__dict__)  # the fields in their order
    assert items[1].contact == case.responsible, "the plan's contact is its case's caseworker"
