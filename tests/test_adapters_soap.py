"""soap_xml against the simulated Sensum SOAP service on loopback, and XML that attacks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.protocol import FetchRequest, FetchResult, SourceConfig, SourceUnavailable
from adapters.soap_xml import SoapXmlAdapter
from demo.citizens import LARS_VESTERGAARD
from demo.sources import source_configs
from demo.systems import SystemsInThread
from demo.systems.sensum import wsdl
from schemas.fragment import FragmentKind

CATEGORIES = frozenset({"case-overview", "interventions", "plans-goals", "assessments"})


@pytest.fixture(scope="module")
def running() -> Iterator[SystemsInThread]:
    with SystemsInThread() as systems:
        yield systems


@pytest.fixture(autouse=True)
def _well_behaved(running: SystemsInThread) -> Iterator[None]:
    running.reset()
    yield
    running.reset()


@pytest.fixture
def config(running: SystemsInThread) -> dict[str, Any]:
    return next(c for c in source_configs(running.systems) if c["kind"] == "soap_xml")


def fetch(config: dict[str, Any], citizen: str = LARS_VESTERGAARD.cpr) -> Any:
    adapter = SoapXmlAdapter(SourceConfig.model_validate(config))

    async def run() -> FetchResult | SourceUnavailable:
        try:
            return await adapter.fetch(FetchRequest(citizen, CATEGORIES, timeout=5))
        except SourceUnavailable as failure:
            return failure
        finally:
            await adapter.aclose()

    return asyncio.run(run())


def test_the_wsdl_drives_the_call_and_the_answer_is_mapped(config: dict[str, Any]) -> None:
    result = fetch(config)
    assert isinstance(result, FetchResult)
    assert result.rejected == []
    by_title = {f.title: f for f in result.fragments}
    support = by_title["Socialpædagogisk støtte"]
    assert support.kind is FragmentKind.INTERVENTION
    assert support.legal_basis == "SEL § 85"
    assert support.attributes["help_type"] == "socio-pedagogical-support"
    assert (support.attributes["rate"], support.attributes["rate_unit"]) == (9200, "month")
    compass = [s for s in support.attributes["scores"] if s["dimension"] == "Egenomsorg"]
    assert [(s["date"], s["value"]) for s in compass] == [
        ("2026-03-15", 3),
        ("2026-06-15", 5),
        ("2026-09-15", 6),
    ]
    assert "scores" not in by_title["Midlertidigt botilbud"].attributes
    assert str(support.period.start) == "2026-03-01"
    assert support.updated_at is not None
    assert support.updated_at.utcoffset() is not None


def test_a_wsdl_file_works_as_well_as_a_url(
    config: dict[str, Any], running: SystemsInThread, tmp_path: Path
) -> None:
    system = running["adult-social"]
    path = tmp_path / "IndsatsService.wsdl"
    path.write_text(wsdl(system.base_url + "/Sensum/services/IndsatsService"), encoding="utf-8")
    result = fetch({**config, "wsdl": str(path)})
    assert len(result.fragments) == 5


def test_a_wsdl_that_reaches_beyond_its_origin_is_refused(
    config: dict[str, Any], running: SystemsInThread, tmp_path: Path
) -> None:
    system = running["adult-social"]
    text = wsdl(system.base_url + "/Sensum/services/IndsatsService").replace(
        '<xsd:schema targetNamespace="urn:sensum:borger:indsats:1"',
        f'<xsd:schema><xsd:import namespace="urn:x" schemaLocation="{system.base_url}/canary"/>'
        '</xsd:schema>\n<xsd:schema targetNamespace="urn:sensum:borger:indsats:1"',
    )
    path = tmp_path / "reaching.wsdl"
    path.write_text(text, encoding="utf-8")
    failure = fetch({**config, "wsdl": str(path)})
    assert isinstance(failure, SourceUnavailable)
    assert failure.code == "wsdl_invalid"
    assert system.external_fetches == 0


@pytest.mark.parametrize(
    ("knob", "code"),
    [
        ("xml_bomb", "unsafe_xml"),
        ("external_entity", "unsafe_xml"),
        ("invalid_json", "invalid_xml"),  # an nginx error page: not even well-formed
    ],
)
def test_hostile_or_broken_xml_is_refused_unread(
    knob: str, code: str, config: dict[str, Any], running: SystemsInThread
) -> None:
    system = running["adult-social"]
    setattr(system.behaviour, knob, True)
    started = time.monotonic()
    failure = fetch(config)
    assert time.monotonic() - started < 2, "a billion laughs is never expanded"
    assert isinstance(failure, SourceUnavailable)
    assert failure.code == code
    assert system.external_fetches == 0, "no external entity was fetched"
    assert "root:" not in failure.message  # /etc/passwd stayed where it was


def test_a_server_error_an_oversized_answer_and_a_foreign_record(
    config: dict[str, Any], running: SystemsInThread
) -> None:
    system = running["adult-social"]
    system.behaviour.fail_status = 503
    assert fetch(config).code == "http_status"
    system.reset()
    system.behaviour.oversize_bytes = 200_000
    assert fetch({**config, "max_response_bytes": 50_000}).code == "too_large"
    system.reset()
    system.behaviour.foreign_citizen = True
    result = fetch(config)
    assert {f.citizen for f in result.fragments} == {LARS_VESTERGAARD.cpr, "2206074567"}


def test_a_soap_fault_never_carries_its_text_along(
    config: dict[str, Any], running: SystemsInThread
) -> None:
    # The service refuses a request without a CPR with HTTP 400 (no envelope to read).
    failure = fetch({**config, "arguments": {"CPR": ""}})
    assert isinstance(failure, SourceUnavailable)
    assert failure.code == "http_status"


def test_arguments_that_do_not_fit_the_operation(config: dict[str, Any]) -> None:
    failure = fetch({**config, "arguments": {"Personnummer": "{citizen}"}})
    assert isinstance(failure, SourceUnavailable)
    assert failure.code == "bad_arguments"
    unknown = fetch({**config, "operation": "SletBorger"})
    assert unknown.code == "wsdl_unavailable"
