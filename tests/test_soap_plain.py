"""The direct reader for plain SOAP answers reads exactly what zeep reads, and leaves to zeep
every answer it was not built for; the envelope template is the envelope zeep builds."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree
from zeep.helpers import serialize_object
from zeep.loader import parse_xml
from zeep.xsd.types import builtins as xsd

from adapters.mapping import to_plain
from adapters.protocol import SourceConfig
from adapters.soap_plain import _converter
from adapters.soap_xml import SAFE_XML, SoapXmlAdapter, _Service
from demo.citizens import CITIZENS, LARS_VESTERGAARD
from demo.sources import source_configs
from demo.systems import SystemsInThread

S = "urn:sensum:borger:indsats:1"


@pytest.fixture(scope="module")
def sensum() -> Iterator[tuple[SoapXmlAdapter, _Service, dict[str, bytes]]]:
    """The adapter, its loaded WSDL and the raw answer about every sample citizen."""
    with SystemsInThread() as systems:
        config = next(c for c in source_configs(systems.systems) if c["kind"] == "soap_xml")
        adapter = SoapXmlAdapter(SourceConfig.model_validate(config))

        async def answers() -> tuple[_Service, dict[str, bytes]]:
            service = await adapter._loaded()
            raw = {}
            for citizen in CITIZENS:
                envelope = adapter._envelope(service, citizen.cpr, "case-overview")
                raw[citizen.cpr], _ = await adapter._post(service, envelope, 5)
            await adapter.aclose()
            return service, raw

        service, raw = asyncio.run(answers())
        yield adapter, service, raw


def _by_zeep(service: _Service, raw: bytes) -> Any:
    document = parse_xml(raw, service.transport, settings=SAFE_XML)  # type: ignore[arg-type]
    return to_plain(serialize_object(service.operation.process_reply(document), target_cls=dict))


def _plain(service: _Service, raw: bytes) -> Any:
    return service.reader.read(parse_xml(raw, service.transport, settings=SAFE_XML))  # type: ignore[arg-type]


def test_every_sample_answer_reads_as_zeep_reads_it(sensum: Any) -> None:
    _adapter, service, raw = sensum
    with_records = 0
    for answer in raw.values():
        plain = _plain(service, answer)
        assert plain is not None, "a plain answer went to zeep"
        assert plain == _by_zeep(service, answer)
        with_records += bool(plain["Indsats"])
    assert with_records >= 2
    assert any(i.get("Maaling") for a in raw.values() for i in _plain(service, a)["Indsats"])


def _altered(raw: bytes, change: str) -> bytes:
    root = etree.fromstring(raw)
    item = root.find(f".//{{{S}}}Indsats")
    assert item is not None
    if change == "out of order":
        first, second = item[0], item[1]
        item.remove(first)
        second.addnext(first)
    elif change == "unknown element":
        etree.SubElement(item, f"{{{S}}}Ukendt").text = "x"
    elif change == "nil":
        item[0].set("{http://www.w3.org/2001/XMLSchema-instance}nil", "true")
    elif change == "required missing":
        item.remove(item.find(f"{{{S}}}CPR"))
    elif change == "empty value":
        item.find(f"{{{S}}}SagType").text = None
    elif change == "header":
        header = etree.Element("{http://schemas.xmlsoap.org/soap/envelope/}Header")
        root.insert(0, header)
    return bytes(etree.tostring(root))


@pytest.mark.parametrize(
    "change",
    ["out of order", "unknown element", "nil", "required missing", "empty value", "header"],
)
def test_an_answer_that_is_not_plain_is_left_to_zeep(sensum: Any, change: str) -> None:
    _adapter, service, raw = sensum
    assert _plain(service, _altered(raw[LARS_VESTERGAARD.cpr], change)) is None


def test_the_envelope_template_is_what_zeep_builds(sensum: Any) -> None:
    adapter, service, _raw = sensum
    assert service.template is not None
    for citizen in CITIZENS:
        built = service.client.create_message(
            service.proxy, adapter.options.operation, CPR=citizen.cpr
        )
        expected = etree.tostring(built, xml_declaration=True, encoding="utf-8")
        assert adapter._envelope(service, citizen.cpr, "case-overview") == expected


_XSD_TYPES = [
    xsd.String(), xsd.Integer(), xsd.Int(), xsd.Long(), xsd.Short(), xsd.Decimal(),
    xsd.DateTime(), xsd.Date(), xsd.Boolean(), xsd.Time(),
]  # fmt: skip
# Any text, and text of the shapes the short paths take (valid or not: 2026-02-30 too).
_TEXT = (
    st.text()
    | st.from_regex(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2})?", fullmatch=True)
    | st.datetimes().map(lambda moment: moment.isoformat(timespec="seconds"))
    | st.dates().map(str)
    | st.decimals().map(str)
    | st.integers().map(str)
    | st.sampled_from([" 12 ", "1_000", "\t7\n", "1e3", "-0", "NaN", "sNaN", "true"])
)


def _outcome(convert: Any, text: str) -> str:
    try:
        return repr(convert(text))  # repr: NaN equals NaN here
    except (ValueError, TypeError, ArithmeticError):
        return "refused"


@given(kind=st.sampled_from(_XSD_TYPES), text=_TEXT)
def test_a_value_reads_as_zeep_and_to_plain_read_it(kind: Any, text: str) -> None:
    """The reader's short paths for common XSD types give what zeep's conversion gives."""
    by_zeep = _outcome(lambda value: to_plain(kind.pythonvalue(value)), text)
    assert _outcome(_converter(kind), text) == by_zeep
