"""A direct reader for the plain SOAP answer: a sequence of elements of built-in XSD types,
nested or repeated, and nothing else.

zeep reads any answer its WSDL allows, and pays for that generality on every call (building
value objects, then turning them into dicts again): most of a SOAP source's cost per request.
Most legacy services answer plain document/literal sequences; for those, this reader walks the
parsed envelope once, turning each value straight into the plain value that
`to_plain(serialize_object(operation.process_reply(document)))` would hold (the common XSD
types by a short path of their own, every other type through zeep's own conversion). Whatever
it was not built for (attributes, xsi:nil or xsi:type, an element out of order or missing, a
header, a choice, an extension) it leaves to zeep, by answering None: zeep remains the judge of
every answer that is not plain.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from lxml import etree
from zeep.xsd.elements.element import Element
from zeep.xsd.elements.indicators import Sequence
from zeep.xsd.types import builtins as xsd
from zeep.xsd.types.complex import ComplexType
from zeep.xsd.types.simple import AnySimpleType

from adapters.mapping import to_plain

SOAP_ENV = {
    "http://schemas.xmlsoap.org/soap/envelope/",  # SOAP 1.1
    "http://www.w3.org/2003/05/soap-envelope",  # SOAP 1.2
}


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    position: int
    repeated: bool
    required: bool
    convert: Callable[[str], Any] | None  # text -> plain value; None for a nested sequence
    nested: _Plan | None


@dataclass(frozen=True, slots=True)
class _Plan:
    fields: dict[str, _Field]  # by Clark-notation tag, e.g. {urn:x}Antal
    blank: dict[str, Any]  # every field absent (repeated ones get their own list per record)
    repeated: tuple[str, ...]
    required: tuple[str, ...]


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


def _converter(simple: Any) -> Callable[[str], Any]:
    """Text to the plain value zeep's type and `to_plain` make of it. zeep's conversions go
    through whitespace rules (a regex per value) and, for times, isodate; the common types get
    a short path here that yields the same value (tests/test_soap_plain.py proves it for any
    text), and a value the short path is not sure of goes through zeep after all."""
    zeep_way = type(simple).pythonvalue

    def generic(text: str) -> Any:
        return to_plain(simple.pythonvalue(text))

    if zeep_way is xsd.String.pythonvalue:
        return str
    if zeep_way in (xsd.Integer.pythonvalue, xsd.Long.pythonvalue):
        return int  # zeep's own conversion for these, exactly
    if zeep_way is xsd.Decimal.pythonvalue:
        # Decimal() itself ignores the outer whitespace zeep strips, and refuses inner spaces.
        return lambda text: to_plain(Decimal(text))
    if zeep_way is xsd.DateTime.pythonvalue:
        return _short_path(_DATETIME, datetime.fromisoformat, generic)
    if zeep_way is xsd.Date.pythonvalue:
        return _short_path(_DATE, date.fromisoformat, generic)
    return generic


def _short_path(
    shape: re.Pattern[str], parse: Callable[[str], date], generic: Callable[[str], Any]
) -> Callable[[str], Any]:
    """For text of exactly the canonical shape (no zone, no fraction), which reads the same in
    isodate and the standard library; anything else, or a value it refuses, goes to zeep."""

    def convert(text: str) -> Any:
        if shape.fullmatch(text):
            try:
                return parse(text).isoformat()
            except ValueError:
                pass
        return generic(text)

    return convert


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
        simple = isinstance(element.type, AnySimpleType)
        convert = _converter(element.type) if simple else None
        nested = None if simple else _plan_of(element.type, depth + 1)
        fields[element.qname.text] = _Field(
            name, position, repeated, element.min_occurs > 0, convert, nested
        )
    return _Plan(
        fields,
        blank={f.name: None for f in fields.values()},
        repeated=tuple(f.name for f in fields.values() if f.repeated),
        required=tuple(f.name for f in fields.values() if f.required),
    )


# Any attribute anywhere in the answer (xsi:nil, xsi:type, anything else) is zeep's to weigh:
# one XPath over the whole answer instead of a look at every element.
_ANY_ATTRIBUTE = etree.XPath("boolean(descendant-or-self::*/@*)")


def _read(element: Any, plan: _Plan) -> dict[str, Any]:
    """One element's values; its answer has no attribute anywhere (checked before)."""
    values = plan.blank.copy()
    for name in plan.repeated:
        values[name] = []
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
        if field.convert is None:
            assert field.nested is not None
            value: Any = _read(child, field.nested)
        else:
            if len(child) or child.text is None:
                raise _NotPlain
            value = field.convert(child.text)
        if field.repeated:
            values[field.name].append(value)
        else:
            values[field.name] = value
    for name in plan.required:
        if values[name] is None or values[name] == []:
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
        if len(parts) != 1 or parts[0].tag != self._tag or _ANY_ATTRIBUTE(parts[0]):
            return None
        try:
            return _read(parts[0], self._plan)  # plain already, value by value
        except (_NotPlain, ValueError, TypeError, ArithmeticError):
            return None
