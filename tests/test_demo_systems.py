"""The simulated department systems, reached through the real rest_json adapter on loopback."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from adapters.csv_drop import CsvDropAdapter
from adapters.protocol import Adapter, FetchRequest, FetchResult, SourceConfig, SourceUnavailable
from adapters.registry import build_adapters
from consent.rules import check_terms
from demo import citizens as people
from demo.citizens import CITIZENS, SEED_CONSENTS, SampleCitizen, seed_consents
from demo.sources import SOURCE_NAMES, source_configs
from demo.systems import Behaviour, SimulatedSystem, SystemsInThread, make_systems
from demo.systems.server import TOKEN_PATH
from demo.test_citizens import TEST_CITIZEN
from schemas.catalog import Catalog, Category, Department, Purpose
from schemas.consent import ConsentCreate
from schemas.cpr import birth_date, normalize_cpr
from schemas.fragment import Fragment, FragmentKind
from tests.drops import MemoryDropStore

DEPARTMENTS = ("children-family", "jobcenter", "adult-social", "health")
ALL_CATEGORIES = frozenset(
    {"case-overview", "interventions", "benefits", "plans-goals", "assessments", "health"}
)
HELP_TYPES = frozenset(
    {
        "mentor",
        "contact-person",
        "socio-pedagogical-support",
        "family-treatment",
        "substance-abuse-treatment",
        "housing",
        "treatment",
        "education",
        "employment",
        "care",
    }
)
CATALOG = Catalog(
    departments=tuple(Department(slug=slug, name=slug) for slug in DEPARTMENTS),
    categories=tuple(
        Category(slug=slug, name=slug, special=slug == "health") for slug in ALL_CATEGORIES
    ),
    purposes=(
        Purpose(slug="coordinated-plan", name="Joint plan", max_validity_days=365),
        Purpose(slug="case-assessment", name="Case assessment", max_validity_days=180),
    ),
)
UNKNOWN_CITIZEN = "0101800000"  # a valid CPR that no system holds


@pytest.fixture(scope="module")
def running() -> Iterator[SystemsInThread]:
    with SystemsInThread() as systems:
        yield systems


@pytest.fixture(autouse=True)
def _well_behaved(running: SystemsInThread) -> Iterator[None]:
    running.reset()
    yield
    running.reset()


@pytest.fixture(scope="module")
def configs(running: SystemsInThread) -> dict[str, dict[str, Any]]:
    return {config["department"]: config for config in source_configs(running.systems)}


HTTP_SYSTEMS = ("jobcenter", "adult-social")  # the two that are servers with behaviour knobs


def adapter_for(config: dict[str, Any]) -> Adapter:
    """The source's own kind, found through its entry point; a csv_drop imports first."""
    (adapter,) = build_adapters([SourceConfig.model_validate(config)], resilient=False).values()
    if isinstance(adapter, CsvDropAdapter):
        adapter.store = MemoryDropStore()
        adapter.import_newest()
    return adapter


async def _fetch(config: dict[str, Any], citizen: str, seconds: float) -> FetchResult:
    adapter = adapter_for(config)
    try:
        return await adapter.fetch(FetchRequest(citizen, ALL_CATEGORIES, seconds))
    finally:
        await adapter.aclose()


def fetch(config: dict[str, Any], citizen: str, *, timeout: float = 5.0) -> FetchResult:
    return asyncio.run(_fetch(config, citizen, timeout))


def fetch_fails(config: dict[str, Any], citizen: str, *, timeout: float = 5.0) -> str:
    with pytest.raises(SourceUnavailable) as failure:
        fetch(config, citizen, timeout=timeout)
    return failure.value.code


def everything_about(
    citizen: SampleCitizen, configs: dict[str, dict[str, Any]]
) -> dict[str, list[Fragment]]:
    """Each department's fragments about one citizen, as an unrestricted view would see them."""
    found: dict[str, list[Fragment]] = {}
    for department, config in configs.items():
        result = fetch(config, citizen.cpr)
        assert result.rejected == []
        found[department] = result.fragments
    return found


def interventions(fragments: list[Fragment], help_type: str) -> list[Fragment]:
    return [
        f
        for f in fragments
        if f.kind is FragmentKind.INTERVENTION and f.attributes.get("help_type") == help_type
    ]


# --- the sample citizens and their consents -------------------------------------------------


def test_citizens_have_distinct_valid_cprs_whose_centuries_match_the_stories() -> None:
    assert len(CITIZENS) >= 9
    assert len({c.cpr for c in CITIZENS}) == len(CITIZENS)
    for citizen in CITIZENS:
        assert normalize_cpr(citizen.cpr) == citizen.cpr
        assert citizen.name
        assert citizen.story
        assert "\n" not in citizen.story
    children = {people.NOAH_HOLM, people.JONAS_BERG, people.EMMA_NIELSEN, people.FREJA_ANDERSEN}
    for citizen in CITIZENS:
        born_this_century = birth_date(citizen.cpr).year >= 2000
        assert born_this_century == (citizen in children), citizen.name
    assert birth_date(people.JONAS_BERG.cpr) == date(2007, 6, 22)  # 19 in the scenario year


def test_seed_consents_are_valid_api_bodies_within_the_purpose_caps() -> None:
    today = date.today()
    seeds = seed_consents(today)
    for seed in seeds:
        body = {k: v for k, v in seed.items() if k not in ("withdraw", "recorded_by_department")}
        terms = ConsentCreate.model_validate(body)
        assert check_terms(terms, CATALOG, today) is None
        assert terms.valid_from < today
        assert terms.valid_until <= today + timedelta(days=365)
        assert seed["recorded_by_department"] in DEPARTMENTS
        assert terms.evidence.reference.startswith("J.nr. ")
    assert [s["citizen"] for s in SEED_CONSENTS] == [s["citizen"] for s in seeds]


def test_seed_consents_follow_the_scenarios() -> None:
    seeds = seed_consents(date(2026, 11, 25))
    by_citizen: dict[str, list[dict[str, Any]]] = {}
    for seed in seeds:
        by_citizen.setdefault(seed["citizen"], []).append(seed)

    (sara,) = by_citizen[people.SARA_HOLM.cpr]
    assert (
        set(sara["from_departments"])
        == set(sara["to_departments"])
        == {
            "children-family",
            "jobcenter",
        }
    )
    (noah,) = by_citizen[people.NOAH_HOLM.cpr]
    assert noah["given_by"] == {"kind": "guardian", "name": people.SARA_HOLM.name}

    jonas = by_citizen[people.JONAS_BERG.cpr]
    withdrawn = [s for s in jonas if s.get("withdraw")]
    assert len(jonas) == 2
    assert [s["from_departments"] for s in withdrawn] == [["adult-social"]]
    assert withdrawn[0]["categories"] == ["interventions"]

    (lars,) = by_citizen[people.LARS_VESTERGAARD.cpr]
    assert set(lars["from_departments"]) == {"adult-social", "jobcenter"}

    assert len(by_citizen[people.CAMILLA_NIELSEN.cpr]) == 1
    assert people.THOMAS_NIELSEN.cpr not in by_citizen
    (freja,) = by_citizen[people.FREJA_ANDERSEN.cpr]
    assert freja["from_departments"] == ["health"]
    assert "case-overview" in freja["categories"]
    assert "health" not in freja["categories"]
    assert people.HENRIK_MADSEN.cpr not in by_citizen


# --- every citizen through every source -----------------------------------------------------


def test_make_systems_gives_one_system_per_department() -> None:
    systems = make_systems()
    assert set(systems) == set(DEPARTMENTS)
    assert all(s.department == d and not s.base_url for d, s in systems.items())


def test_source_configs_name_the_four_sources(configs: dict[str, dict[str, Any]]) -> None:
    assert {d: c["name"] for d, c in configs.items()} == SOURCE_NAMES
    assert set(SOURCE_NAMES.values()) == {
        "children-family-dubu",
        "jobcenter-momentum",
        "adult-social-sensum",
        "health-nexus",
    }
    assert {d: c["kind"] for d, c in configs.items()} == {
        "children-family": "csv_drop",
        "jobcenter": "rest_json",
        "adult-social": "soap_xml",
        "health": "sql",
    }
    assert configs["jobcenter"]["auth"]["type"] == "oauth2_client_credentials"
    for config in configs.values():
        assert set(config["categories"]) <= ALL_CATEGORIES


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_every_citizen_maps_cleanly(
    department: str, configs: dict[str, dict[str, Any]], running: SystemsInThread
) -> None:
    config = configs[department]
    for citizen in CITIZENS:
        result = fetch(config, citizen.cpr)
        assert result.rejected == [], citizen.name
        for fragment in result.fragments:
            assert fragment.citizen == citizen.cpr
            assert fragment.department == department
            assert fragment.source == config["name"]
            assert fragment.id.startswith(config["name"] + ":")
            assert fragment.category in config["categories"]
            assert fragment.status in {"active", "planned", "ended"}
            assert fragment.responsible is not None
            assert fragment.responsible.name
            assert fragment.period.start is not None
            assert fragment.updated_at is not None
            if fragment.kind is FragmentKind.INTERVENTION:
                assert fragment.attributes.get("help_type") in HELP_TYPES, fragment.title
            else:
                assert "help_type" not in fragment.attributes, fragment.title
    held = set(running[department].citizens())
    assert held <= {c.cpr for c in CITIZENS} | {TEST_CITIZEN}, "sample citizens and the test one"
    assert TEST_CITIZEN in held, "IT operations can check every system with the test citizen"
    assert len(held) >= 3


def test_every_citizen_has_records_somewhere(configs: dict[str, dict[str, Any]]) -> None:
    for citizen in CITIZENS:
        found = everything_about(citizen, configs)
        assert any(found.values()), citizen.name


# --- the scenarios --------------------------------------------------------------------------


def test_single_mother_on_cash_benefit_and_her_son_in_family_treatment(
    configs: dict[str, dict[str, Any]],
) -> None:
    sara = everything_about(people.SARA_HOLM, configs)
    benefits = [f for f in sara["jobcenter"] if f.kind is FragmentKind.BENEFIT]
    assert [f.title for f in benefits] == ["Kontanthjælp, forsørger"]
    assert benefits[0].attributes["rate"] > 0
    assert benefits[0].attributes["rate_unit"] == "month"

    noah = everything_about(people.NOAH_HOLM, configs)
    treatment = interventions(noah["children-family"], "family-treatment")
    assert {f.legal_basis for f in treatment} == {
        "SEL § 52, stk. 3, nr. 3",
        "Barnets lov § 32, stk. 1, nr. 3",
    }
    assert [f.status for f in treatment if f.period.end is None] == ["active"]


def test_young_person_leaving_care(configs: dict[str, dict[str, Any]]) -> None:
    jonas = everything_about(people.JONAS_BERG, configs)
    assert interventions(jonas["children-family"], "contact-person")
    assert [f.title for f in jonas["jobcenter"] if f.category == "benefits"] == ["Uddannelseshjælp"]
    (treatment,) = interventions(jonas["adult-social"], "substance-abuse-treatment")
    assert treatment.legal_basis == "SEL § 101"


def test_the_same_help_twice_gives_two_overlapping_personal_support_interventions(
    configs: dict[str, dict[str, Any]],
) -> None:
    lars = everything_about(people.LARS_VESTERGAARD, configs)
    (mentor,) = interventions(lars["jobcenter"], "mentor")
    (support,) = interventions(lars["adult-social"], "socio-pedagogical-support")
    assert mentor.legal_basis == "LAB § 31b"
    assert support.legal_basis == "SEL § 85"
    assert mentor.period.overlaps(support.period)
    (housing,) = interventions(lars["adult-social"], "housing")
    assert housing.legal_basis == "SEL § 107"


def test_family_with_a_sick_father_and_a_child_in_special_education(
    configs: dict[str, dict[str, Any]],
) -> None:
    thomas = everything_about(people.THOMAS_NIELSEN, configs)
    assert "Sygedagpenge" in [
        f.title for f in thomas["jobcenter"] if f.kind is FragmentKind.BENEFIT
    ]
    emma = everything_about(people.EMMA_NIELSEN, configs)
    assert interventions(emma["children-family"], "education")
    camilla = everything_about(people.CAMILLA_NIELSEN, configs)
    assert [f.category for f in camilla["children-family"]] == ["benefits"]


def test_placed_child_has_health_records_beside_a_case_overview(
    configs: dict[str, dict[str, Any]],
) -> None:
    freja = everything_about(people.FREJA_ANDERSEN, configs)
    assert interventions(freja["children-family"], "care")
    categories = {f.category for f in freja["health"]}
    assert {"case-overview", "health"} <= categories


def test_citizen_without_consent_has_data_in_two_departments(
    configs: dict[str, dict[str, Any]],
) -> None:
    henrik = everything_about(people.HENRIK_MADSEN, configs)
    assert sum(1 for fragments in henrik.values() if fragments) >= 2


def test_unknown_citizen_gets_an_empty_answer_not_a_404(
    configs: dict[str, dict[str, Any]],
) -> None:
    for config in configs.values():
        strict = (
            {**config, "not_found_means_empty": False} if config["kind"] == "rest_json" else config
        )
        result = fetch(strict, UNKNOWN_CITIZEN)
        assert result.fragments == []
        assert result.rejected == []


# --- the behaviour knobs --------------------------------------------------------------------


def test_a_delay_beyond_the_client_timeout_is_a_timeout_and_is_cancelled(
    running: SystemsInThread, configs: dict[str, dict[str, Any]]
) -> None:
    system = running["jobcenter"]
    system.behaviour.delay = 30.0
    started = time.monotonic()
    assert fetch_fails(configs["jobcenter"], people.SARA_HOLM.cpr, timeout=0.3) == "timeout"
    assert time.monotonic() - started < 5
    # The client hung up, so the server must not sit on the request for the rest of the delay.
    deadline = time.monotonic() + 5
    while system.in_flight and time.monotonic() < deadline:
        time.sleep(0.02)
    assert system.in_flight == 0


def test_a_short_delay_still_answers(
    running: SystemsInThread, configs: dict[str, dict[str, Any]]
) -> None:
    running["adult-social"].behaviour.delay = 0.2
    started = time.monotonic()
    result = fetch(configs["adult-social"], people.LARS_VESTERGAARD.cpr)
    assert time.monotonic() - started >= 0.2
    assert len(result.fragments) == 5


def test_fail_status_is_reported_as_http_status_and_clears_on_the_next_request(
    running: SystemsInThread, configs: dict[str, dict[str, Any]]
) -> None:
    for department in HTTP_SYSTEMS:
        running[department].behaviour.fail_status = 500
        assert fetch_fails(configs[department], people.LARS_VESTERGAARD.cpr) == "http_status"
        running[department].behaviour.fail_status = None
        assert fetch(configs[department], people.LARS_VESTERGAARD.cpr).fragments


def test_invalid_json_is_reported(
    running: SystemsInThread, configs: dict[str, dict[str, Any]]
) -> None:
    running["jobcenter"].behaviour = Behaviour(invalid_json=True)
    assert fetch_fails(configs["jobcenter"], people.SARA_HOLM.cpr) == "invalid_json"
    running["adult-social"].behaviour = Behaviour(invalid_json=True)  # an HTML error page
    assert fetch_fails(configs["adult-social"], people.LARS_VESTERGAARD.cpr) == "invalid_xml"


@pytest.mark.parametrize("department", HTTP_SYSTEMS)
def test_foreign_citizen_slips_in_a_record_about_someone_else(
    department: str, running: SystemsInThread, configs: dict[str, dict[str, Any]]
) -> None:
    running[department].behaviour.foreign_citizen = True
    asked = UNKNOWN_CITIZEN
    result = fetch(configs[department], asked)
    assert result.rejected == []
    assert len(result.fragments) == 1
    assert result.fragments[0].citizen != asked


def test_an_oversize_answer_stays_valid_json_but_trips_the_size_limit(
    running: SystemsInThread, configs: dict[str, dict[str, Any]]
) -> None:
    config = configs["jobcenter"]
    plain = fetch(config, people.THOMAS_NIELSEN.cpr)
    running["jobcenter"].behaviour.oversize_bytes = 200_000
    padded = fetch(config, people.THOMAS_NIELSEN.cpr)
    assert padded.fragments == plain.fragments
    limited = {**config, "max_response_bytes": 50_000}
    assert fetch_fails(limited, people.THOMAS_NIELSEN.cpr) == "too_large"


def test_health_answers_200_unless_told_otherwise(
    running: SystemsInThread, configs: dict[str, dict[str, Any]]
) -> None:
    async def check(config: dict[str, Any]) -> bool:
        adapter = adapter_for(config)
        try:
            return (await adapter.check_health()).healthy
        finally:
            await adapter.aclose()

    assert all(asyncio.run(check(config)) for config in configs.values())
    running["adult-social"].behaviour.health_status = 503
    assert not asyncio.run(check(configs["adult-social"]))
    assert running["adult-social"].requests == []  # health checks are not data requests


def test_requests_record_who_was_asked_for_and_reset_clears_them(
    running: SystemsInThread, configs: dict[str, dict[str, Any]]
) -> None:
    system = running["adult-social"]
    before = datetime.now(UTC)
    fetch(configs["adult-social"], people.FREJA_ANDERSEN.cpr)
    fetch(configs["adult-social"], people.INGER_POULSEN.cpr)
    assert [r.citizen for r in system.requests] == [
        people.FREJA_ANDERSEN.cpr,
        people.INGER_POULSEN.cpr,
    ]
    assert all(before <= r.at <= datetime.now(UTC) for r in system.requests)
    assert people.FREJA_ANDERSEN.cpr not in repr(system.requests)
    system.behaviour.delay = 1.0
    system.reset()
    assert system.requests == []
    assert system.behaviour == Behaviour()


def test_a_request_without_a_citizen_is_refused(running: SystemsInThread) -> None:
    async def ask_without_citizen(system: SimulatedSystem) -> int:
        async with aiohttp.ClientSession() as http:
            headers = {}
            if system.oauth_clients:  # past the door first: a token for the demo's client
                (client, secret), *_ = system.oauth_clients.items()
                async with http.post(
                    system.base_url + TOKEN_PATH,
                    data={"grant_type": "client_credentials"},
                    headers={"Authorization": aiohttp.encode_basic_auth(client, secret)},
                ) as response:
                    token = (await response.json())["access_token"]
                headers["Authorization"] = f"Bearer {token}"
            method, path = system.dialect.method, system.dialect.path
            body = None if method == "GET" else {"something": "else"}
            async with http.request(
                method, system.base_url + path, json=body, headers=headers
            ) as response:
                return response.status

    servers = [s for s in running.systems.values() if isinstance(s, SimulatedSystem)]
    assert {s.department for s in servers} == set(HTTP_SYSTEMS)
    for system in servers:
        assert asyncio.run(ask_without_citizen(system)) == 400
        assert system.requests[-1].citizen is None


def test_the_servers_never_log_a_cpr(
    running: SystemsInThread,
    configs: dict[str, dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    for department, config in configs.items():
        for citizen in CITIZENS:
            fetch(config, citizen.cpr)
        if department in HTTP_SYSTEMS:
            running[department].behaviour = Behaviour(fail_status=503, foreign_citizen=True)
            fetch_fails(config, people.LARS_VESTERGAARD.cpr)
    logged = caplog.text
    assert not any(c.cpr in logged or c.cpr[:6] + "-" + c.cpr[6:] in logged for c in CITIZENS)


def test_stop_does_not_wait_for_a_delayed_answer() -> None:
    async def scenario() -> tuple[float, str]:
        system = make_systems()["adult-social"]
        await system.start()
        try:
            (config,) = source_configs({"adult-social": system})
            system.behaviour.delay = 60.0
            pending = asyncio.create_task(_fetch(config, people.LARS_VESTERGAARD.cpr, 30.0))
            for _ in range(500):  # bounded: a broken server must fail the test, not hang it
                if system.in_flight:
                    break
                await asyncio.sleep(0.01)
            assert system.in_flight == 1
            started = time.monotonic()
        finally:
            await system.stop()
        stopped_after = time.monotonic() - started
        with pytest.raises(SourceUnavailable) as failure:
            await pending
        return stopped_after, failure.value.code

    stopped_after, code = asyncio.run(scenario())
    assert stopped_after < 3
    assert code == "unreachable"


def test_a_stopped_system_can_start_again(running: SystemsInThread) -> None:
    system = running["jobcenter"]
    port = int(system.base_url.rsplit(":", 1)[1])
    running.run(system.stop())
    assert running.run(system.start(port=port)) == system.base_url
    config = next(
        c for c in source_configs(running.systems) if c["department"] == system.department
    )
    assert fetch(config, people.SARA_HOLM.cpr).fragments
