"""A direct reader for the plain SOAP answer: a sequence of elements of built-in XSD types,
nested or repeated, and nothing else.

zeep reads any answer its WSDL allows, and pays for that generality on every call (building
value objects, then turning them into dicts again): most of a SOAP source's cost per request.
Most legacy services answer plain document/literal sequences; for those, this reader walks the
parsed envelope once, converting each value with zeep's own type (so the result equals
`to_plain(serialize_object(operation.process_reply(document)))`). Whatever it was not built
for (attributes, xsi:nil or xsi:type, an element out of order or missing, a header, a choice,
an extension) it leaves to zeep, by answering None: zeep remains the judge of every answer that
is not plain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree
from zeep.xsd.elements.element import Element
from zeep.xsd.elements.indicators import Sequence
from zeep.xsd.types.complex import ComplexType
from zeep.xsd.types.simple import AnySimpleType

from adapters.mapping import to_plain

SOAP_ENV = {
    "http://schemas.xmlsoap.org/soap/envelope/",  # SOAP 1.1
    "http://www.w3.org/2003/05/soap-envelope",  # SOAP 1.2
}


@dataclass(frozen=True)
class _Field:
    name: str
    position: int
    repeated: bool
    required: bool
    simple: Any  # a zeep simple type (pythonvalue) or None for a nested sequence
    nested: _Plan | None


@dataclass(frozen=True)
class _Plan:
    fields: dict[str, _Field]  # by Clark-notation tag, e.g. {urn:x}Antal

    def empty(self) -> dict[str, Any]:
        return {f.name: [] if f.repeated else None for f in self.fields.values()}


class _NotPlain(Exception):
    """The answer (or the WSDL) has something this reader leaves to zeep."""


def _plan_of(xsd_type: Any, depth: int = 0) -> _Plan:
    if depth > 10 or not isinstance(xsd_type, ComplexType):
        raise _NotPlain
    if xsd_type.attributes or type(xsd_type._element) is not Sequence:
        raise _NotPlain
    if getattr(xsd_type, "_extension", None) or getattr(xsd_type, "_restriction", None):
        raise _NotPlain
    fields: dict[str, _Field] = {}
    for position, (name, element) in enumerate(xsd_type.elements):
        if type(element) is not Element or element.nillable or element.qname is None:
            raise _NotPlain
        most = element.max_occurs
        repeated = most == "unbounded" or (isinstance(most, int) and most > 1)
        simple = element.type if isinstance(element.type, AnySimpleType) else None
        nested = None if simple is not None else _plan_of(element.type, depth + 1)
        fields[element.qname.text] = _Field(
            name, position, repeated, element.min_occurs > 0, simple, nested
        )
    return _Plan(fields)


def _read(element: Any, plan: _Plan) -> dict[str, Any]:
    if element.attrib:
        raise _NotPlain  # xsi:nil, xsi:type, anything else: zeep's to weigh
    values = plan.empty()
    last = -1
    for child in element:
        if not isinstance(child.tag, str):
            continue  # a comment or processing instruction
        field = plan.fields.get(child.tag)
        if (
            field is None
            or field.position < last
            or (field.position == last and not field.repeated)
        ):
            raise _NotPlain
        last = field.position
        if field.nested is not None:
            value: Any = _read(child, field.nested)
        else:
            if child.attrib or len(child) or child.text is None:
                raise _NotPlain
            value = field.simple.pythonvalue(child.text)
        if field.repeated:
            values[field.name].append(value)
        else:
            values[field.name] = value
    for field in plan.fields.values():
        if field.required and values[field.name] in (None, []):
            raise _NotPlain
    return values


class PlainReader:
    """Reads one operation's plain answers; None from `read` means: ask zeep."""

    def __init__(self, operation: Any) -> None:
        self._tag: str | None = None
        self._plan: _Plan | None = None
        try:
            body = operation.output.body
            header = operation.output.header
            if body is None or (header is not None and list(header.type.elements)):
                return
            self._plan = _plan_of(body.type)
            self._tag = body.qname.text
        except (_NotPlain, AttributeError, TypeError):
            self._plan = None

    def read(self, document: Any) -> Any | None:
        if self._plan is None:
            return None
        root = document if isinstance(document, etree._Element) else document.getroot()
        children = [c for c in root if isinstance(c.tag, str)]
        if etree.QName(root).namespace not in SOAP_ENV or etree.QName(root).localname != "Envelope":
            return None
        if len(children) != 1 or etree.QName(children[0]).localname != "Body":
            return None  # a header, or something else beside the body: zeep reads it
        parts = [c for c in children[0] if isinstance(c.tag, str)]
        if len(parts) != 1 or parts[0].tag != self._tag:
            return None
        try:
            return to_plain(_read(parts[0], self._plan))
        except (_NotPlain, ValueError, TypeError, ArithmeticError):
            return None
