"""Adult social services' Sensum-like system: a SOAP 1.1 service with a WSDL of its own.

GET  /Sensum/services/IndsatsService?wsdl   the WSDL (its address is wherever the system runs)
POST /Sensum/services/IndsatsService        HentBorgerIndsatser(CPR) -> Antal, Indsats*

Document/literal, Danish element names like Sensum's exports, xsd:dateTime for dates.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web
from lxml import etree

from demo.records import Record, sensum
from demo.systems.server import SimulatedSystem

NAMESPACE = "urn:sensum:borger:indsats:1"
OPERATION = "HentBorgerIndsatser"
# (element, XML Schema type, may be left out)
FIELDS: tuple[tuple[str, str, bool], ...] = (
    ("IndsatsId", "xsd:int", False),
    ("CPR", "xsd:string", False),
    ("SagType", "xsd:string", False),
    ("Indsats", "xsd:string", False),
    ("IndsatsStatus", "xsd:string", False),
    ("Facet", "xsd:string", True),
    ("Leverandoer", "xsd:string", True),
    ("Paragraf", "xsd:string", False),
    ("PrimaerAnsvarlig", "xsd:string", False),
    ("PrimaerAnsvarligTlf", "xsd:string", False),
    ("Startdato", "xsd:dateTime", False),
    ("Slutdato", "xsd:dateTime", True),
    ("Beskrivelse", "xsd:string", True),
    ("Takst", "xsd:decimal", True),
    ("TakstEnhed", "xsd:string", True),
    ("Adresse", "xsd:string", True),
    ("SidstRettet", "xsd:dateTime", False),
)
# A score recorded on an intervention (Udviklingskompasset, FIT): repeated, inside Indsats.
MEASUREMENT = "Maaling"
MEASUREMENT_FIELDS: tuple[tuple[str, str, bool], ...] = (
    ("Instrument", "xsd:string", False),
    ("Tema", "xsd:string", True),
    ("Dato", "xsd:date", False),
    ("Score", "xsd:decimal", False),
)

_WSDL = """<?xml version="1.0" encoding="utf-8"?>
<definitions name="IndsatsService" targetNamespace="{ns}"
    xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:tns="{ns}">
  <types>
    <xsd:schema targetNamespace="{ns}" elementFormDefault="qualified">
      <xsd:complexType name="{measurement}">
        <xsd:sequence>
{measurement_fields}
        </xsd:sequence>
      </xsd:complexType>
      <xsd:complexType name="Indsats">
        <xsd:sequence>
{fields}
          <xsd:element name="{measurement}" type="tns:{measurement}"
              minOccurs="0" maxOccurs="unbounded"/>
        </xsd:sequence>
      </xsd:complexType>
      <xsd:element name="{op}">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="CPR" type="xsd:string"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
      <xsd:element name="{op}Svar">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="Antal" type="xsd:int"/>
          <xsd:element name="Indsats" type="tns:Indsats" minOccurs="0" maxOccurs="unbounded"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
    </xsd:schema>
  </types>
  <message name="{op}Input"><part name="parameters" element="tns:{op}"/></message>
  <message name="{op}Output"><part name="parameters" element="tns:{op}Svar"/></message>
  <portType name="IndsatsPortType">
    <operation name="{op}">
      <input message="tns:{op}Input"/>
      <output message="tns:{op}Output"/>
    </operation>
  </portType>
  <binding name="IndsatsBinding" type="tns:IndsatsPortType">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <operation name="{op}">
      <soap:operation soapAction="{ns}/{op}"/>
      <input><soap:body use="literal"/></input>
      <output><soap:body use="literal"/></output>
    </operation>
  </binding>
  <service name="IndsatsService">
    <port name="IndsatsPort" binding="tns:IndsatsBinding">
      <soap:address location="{address}"/>
    </port>
  </service>
</definitions>
"""


def _elements(fields: tuple[tuple[str, str, bool], ...]) -> str:
    return "\n".join(
        f'          <xsd:element name="{name}" type="{kind}"'
        + (' minOccurs="0"' if optional else "")
        + "/>"
        for name, kind, optional in fields
    )


def wsdl(address: str) -> str:
    return _WSDL.format(
        ns=NAMESPACE,
        op=OPERATION,
        fields=_elements(FIELDS),
        measurement=MEASUREMENT,
        measurement_fields=_elements(MEASUREMENT_FIELDS),
        address=escape(address),
    )


def _xml(record: Record, fields: tuple[tuple[str, str, bool], ...]) -> str:
    return "".join(
        f"<s:{name}>{escape(str(record[name]))}</s:{name}>"
        for name, _kind, _optional in fields
        if record.get(name) is not None
    )


# Requests are parsed as carefully as the gateway parses answers: no DTD, no entities, no network.
_SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


class SensumDialect:
    method = "POST"
    path = "/Sensum/services/IndsatsService"
    content_type = "text/xml"

    async def citizen_asked(self, request: web.Request) -> str | None:
        try:
            root = etree.fromstring(await request.read(), parser=_SAFE_PARSER)
        except etree.XMLSyntaxError:
            return None
        if root.getroottree().docinfo.doctype:
            return None
        found = root.find(f".//{{{NAMESPACE}}}CPR")
        return found.text if found is not None else None

    def answer(self, records: list[Record]) -> list[Record]:
        return records

    def render(self, answer: Any) -> bytes:
        items = []
        for record in answer:
            measurements = "".join(
                f"<s:{MEASUREMENT}>{_xml(m, MEASUREMENT_FIELDS)}</s:{MEASUREMENT}>"
                for m in record.get(MEASUREMENT) or []
            )
            items.append(f"<s:Indsats>{_xml(record, FIELDS)}{measurements}</s:Indsats>")
        return (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
            f'<soap:Body><s:{OPERATION}Svar xmlns:s="{NAMESPACE}">'
            f"<s:Antal>{len(answer)}</s:Antal>{''.join(items)}"
            f"</s:{OPERATION}Svar></soap:Body></soap:Envelope>"
        ).encode()

    def extra_routes(
        self, system: SimulatedSystem
    ) -> list[tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]]:
        async def answer_wsdl(_request: web.Request) -> web.Response:
            return web.Response(text=wsdl(system.base_url + self.path), content_type="text/xml")

        return [("GET", self.path, answer_wsdl)]


def sensum_system() -> SimulatedSystem:
    return SimulatedSystem(
        name="sensum", department="adult-social", dialect=SensumDialect(), records=sensum.RECORDS
    )
