"""Declarative mapping from a source's records to Fragments, written in JMESPath.

    [sources.mapping]
    records = "data.engagements"           # where the list of records is in the response
    [sources.mapping.fields]               # Fragment field (dotted) = JMESPath on one record
    id = "engagementId"
    citizen = "personNumber"
    category = "type"
    "period.start" = "from"
    "attributes.rate" = "rate"
    [sources.mapping.value_maps.category]  # the source's own values to ours
    BENEFIT = "benefits"
    [sources.mapping.date_formats]         # strptime formats for dates that are not ISO 8601
    "period.start" = "%d-%m-%Y"

Source, department and the fragment id's prefix come from configuration, never from the source.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult
from jmespath.visitor import TreeInterpreter
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from adapters.protocol import FetchResult, Rejection
from schemas.fragment import Fragment

REQUIRED_FIELDS = ("id", "citizen", "category", "kind", "title")
_TOP_LEVEL = frozenset(Fragment.model_fields) - {"source", "department"}
_NESTED = {"period": {"start", "end"}, "responsible": {"name", "phone", "email"}}
_DEFAULT_KEY = "*"


def _check_target(target: str) -> None:
    head, _, rest = target.partition(".")
    if head not in _TOP_LEVEL:
        raise ValueError(f"fields.{target}: {head!r} is not a Fragment field")
    if head == "attributes":
        if not rest:
            raise ValueError("fields.attributes: name the attribute, e.g. 'attributes.rate'")
    elif rest and rest not in _NESTED.get(head, set()):
        raise ValueError(f"fields.{target}: {head!r} has no member {rest!r}")


class FragmentMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    records: str = Field(default="@", description="JMESPath to the list of records")
    fields: dict[str, str]
    value_maps: dict[str, dict[str, str]] = Field(default_factory=dict)
    date_formats: dict[str, str] = Field(default_factory=dict)
    timezone: str = Field(
        default="Europe/Copenhagen", description="The zone of times the source sends without one"
    )

    _compiled: dict[str, ParsedResult] = PrivateAttr(default_factory=dict)
    _records: ParsedResult = PrivateAttr()
    # ParsedResult.search builds a new interpreter per call; one per mapping is enough.
    _interpreter: TreeInterpreter = PrivateAttr(default_factory=TreeInterpreter)
    # Everything to_fragment needs, worked out once (a private attribute costs a __getattr__
    # per read: the plan is read once per document, not once per field).
    _plan: _Plan = PrivateAttr()

    def _search(self, expression: ParsedResult, value: Any) -> Any:
        return self._interpreter.visit(expression.parsed, value)

    def _reader(self, expression: ParsedResult) -> Callable[[Any], Any]:
        """Most fields are a plain key or dotted path (`engagementId`, `person.name`): those
        are read with dict look-ups, as JMESPath would read them; the rest are interpreted."""
        direct = _direct_reader(expression.parsed)
        if direct is None:
            return lambda record: self._search(expression, record)
        return direct

    @model_validator(mode="after")
    def _compile(self) -> FragmentMapping:
        missing = [name for name in REQUIRED_FIELDS if name not in self.fields]
        if missing:
            raise ValueError(f"fields must map {', '.join(missing)}")
        for target in [*self.fields, *self.value_maps, *self.date_formats]:
            _check_target(target)
        try:
            self._records = jmespath.compile(self.records)
        except JMESPathError as error:
            raise ValueError(f"records: invalid JMESPath {self.records!r}: {error}") from None
        for target, expression in self.fields.items():
            try:
                self._compiled[target] = jmespath.compile(expression)
            except JMESPathError as error:
                raise ValueError(f"fields.{target}: invalid JMESPath: {error}") from None
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone: unknown zone {self.timezone!r}") from None
        steps = []
        for target, compiled in self._compiled.items():
            head, member = _split(target)
            path = _field_path(compiled.parsed)
            key = path[0] if path is not None and len(path) == 1 else None
            steps.append((head, member, key, self._reader(compiled), self._converter(target)))
        self._plan = _Plan(
            steps=tuple(steps),
            records=_direct_reader(self._records.parsed)
            or (lambda document: self._search(self._records, document)),
            context={"zone": zone},
        )
        return self

    def _converter(self, target: str) -> Callable[[Any], Any] | None:
        """What happens to a field's value after it is read: its value map, then its date
        format, and for the id a string; None when the value is taken as read."""
        table = self.value_maps.get(target)
        date_format = self.date_formats.get(target)
        if table is None and date_format is None and target != "id":
            return None
        as_date = target.startswith("period.")
        parse = date_parser(date_format) if date_format is not None else None

        def convert(raw: Any) -> Any:
            if table is not None:
                key = str(raw)
                if key not in table and _DEFAULT_KEY not in table:
                    raise ValueError(f"{target}: the value {key!r} has no mapping")
                raw = table.get(key, table.get(_DEFAULT_KEY))
            if parse is not None and isinstance(raw, str) and raw.strip():
                parsed = parse(raw.strip())
                return parsed.date() if as_date else parsed
            if target == "id":
                return str(raw)
            return raw

        return convert

    def to_fragment(self, record: Any, *, source: str, department: str) -> Fragment:
        return _to_fragment(self._plan, record, source, department)

    def map_document(self, document: Any, *, source: str, department: str) -> FetchResult:
        """Every record becomes a Fragment or a Rejection; one bad record spoils nothing else."""
        plan = self._plan
        records = plan.records(document)
        if records is None:
            return FetchResult()
        if not isinstance(records, list):
            records = [records]
        result = FetchResult()
        for index, record in enumerate(records):
            try:
                result.fragments.append(_to_fragment(plan, record, source, department))
            except ValidationError as error:
                result.rejected.append(Rejection(index, describe_validation_error(error)))
            except (ValueError, TypeError) as error:
                result.rejected.append(Rejection(index, str(error)))
        return result


@dataclass(frozen=True, slots=True)
class _Plan:
    # Per field: its target's head and member (`period`, `start`), the key when the field is
    # one plain key (read with dict.get), its reader otherwise, and its converter or None.
    steps: tuple[
        tuple[str, str, str | None, Callable[[Any], Any], Callable[[Any], Any] | None], ...
    ]
    records: Callable[[Any], Any]
    context: dict[str, Any]  # for Fragment validation: the zone of times sent without one


def _nothing(_key: str) -> None:
    return None  # JMESPath: a field of anything but an object is null


def _to_fragment(plan: _Plan, record: Any, source: str, department: str) -> Fragment:
    data: dict[str, Any] = {"source": source, "department": department}
    get = record.get if isinstance(record, dict) else _nothing
    for head, member, key, read, convert in plan.steps:
        raw = get(key) if key is not None else read(record)
        # Legacy exports write "" (or spaces) for "no value", e.g. an open end date.
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        if convert is not None:
            raw = convert(raw)
            if raw is None:
                continue
        if member:
            data.setdefault(head, {})[member] = raw
        else:
            data[head] = raw
    if "id" not in data:
        raise ValueError("id: the record has no id")
    data["id"] = f"{source}:{data['id']}"
    return Fragment.model_validate(data, context=plan.context)


# The two ISO 8601 formats sources are most often configured with: text of exactly their shape
# is read by datetime.fromisoformat, which gives what strptime gives about ten times faster
# (shape check included); any other text, and any other format, goes to strptime.
_ISO_SHAPES = {
    "%Y-%m-%d": re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"),
    "%Y-%m-%dT%H:%M:%S": re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"),
}


def date_parser(date_format: str) -> Callable[[str], datetime]:
    """`datetime.strptime(text, date_format)`, the same answer or the same error."""
    shape = _ISO_SHAPES.get(date_format)

    def parse(text: str) -> datetime:
        if shape is not None and shape.fullmatch(text):
            try:
                return datetime.fromisoformat(text)
            except ValueError:
                pass  # not a date (a 30th of February): strptime says so in its own words
        return datetime.strptime(text, date_format)

    return parse


def _split(target: str) -> tuple[str, str]:
    head, _, member = target.partition(".")
    return head, member


def _field_path(node: Any) -> tuple[str, ...] | None:
    """The keys of a JMESPath that is only field names joined by dots; None for anything else."""
    if node["type"] == "field":
        return (node["value"],)
    if node["type"] == "subexpression":
        parts = [_field_path(child) for child in node["children"]]
        if all(part is not None for part in parts):
            return tuple(key for part in parts if part is not None for key in part)
    return None


def _false_like(value: Any) -> bool:
    """JMESPath's false: null, false, and an empty string, array or object (0 is true)."""
    return value is None or value is False or (isinstance(value, str | list | dict) and not value)


def _direct_reader(node: Any) -> Callable[[Any], Any] | None:
    """A plain Python reader for the JMESPath forms mappings use: dotted field paths, `a || b`
    (a fallback field, e.g. `benefit.rate || price.amount`), literals, and projections of
    objects (`Maaling[].{date: Dato, value: Score}`), with JMESPath's own semantics (those of
    jmespath.visitor.TreeInterpreter, node for node); None for anything else (functions,
    filters, slices, comparisons), which the interpreter reads."""
    path = _field_path(node)
    if path is not None and len(path) == 1:
        (key,) = path
        return lambda record: record.get(key) if isinstance(record, dict) else None
    if path is not None and len(path) == 2:  # `period.from`, `caseworker.email`: the most common
        outer, inner = path

        def member(record: Any) -> Any:
            value = record.get(outer) if isinstance(record, dict) else None
            return value.get(inner) if isinstance(value, dict) else None

        return member
    if path is not None:
        return lambda record: _walk(path, record)
    kind = node["type"]
    if kind in ("identity", "current"):
        return lambda value: value
    if kind == "literal":
        literal = node["value"]
        return lambda _value: literal
    children = [_direct_reader(child) for child in node["children"]]
    if any(child is None for child in children):
        return None
    return _COMBINATORS[kind](node, *children) if kind in _COMBINATORS else None


Reader = Callable[[Any], Any]


def _chain(_node: Any, *steps: Reader) -> Reader:
    def chained(value: Any) -> Any:
        for step in steps:
            value = step(value)
        return value

    return chained


def _either(_node: Any, left: Reader, right: Reader) -> Reader:
    def either(record: Any) -> Any:
        value = left(record)
        return right(record) if _false_like(value) else value

    return either


def _flatten(_node: Any, base: Reader) -> Reader:
    def flattened(value: Any) -> Any:
        items = base(value)
        if not isinstance(items, list):
            return None
        merged: list[Any] = []
        for item in items:
            if isinstance(item, list):
                merged.extend(item)
            else:
                merged.append(item)
        return merged

    return flattened


def _project(_node: Any, base: Reader, each: Reader) -> Reader:
    def projected(value: Any) -> Any:
        items = base(value)
        if not isinstance(items, list):
            return None
        return [result for item in items if (result := each(item)) is not None]

    return projected


def _select(node: Any, *values: Reader) -> Reader:
    keys = [pair["value"] for pair in node["children"]]
    pairs = list(zip(keys, values, strict=True))

    def selected(value: Any) -> Any:
        if value is None:
            return None
        return {key: read(value) for key, read in pairs}

    return selected


def _pair(_node: Any, value: Reader) -> Reader:
    return value


_COMBINATORS: dict[str, Callable[..., Reader]] = {
    "subexpression": _chain,
    "or_expression": _either,
    "flatten": _flatten,
    "projection": _project,
    "multi_select_dict": _select,
    "key_val_pair": _pair,
}


def _walk(path: tuple[str, ...], value: Any) -> Any:
    """JMESPath's field semantics: a key of an object, and null for anything else."""
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def to_plain(value: Any) -> Any:
    """A database row or a SOAP answer as JSON would have it, so one mapping language fits all:
    dates and times become ISO 8601 strings, decimals numbers, nested objects dicts and lists."""
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes):
        return None  # binary columns (scanned documents) have no place in a fragment
    return value


def describe_validation_error(error: ValidationError) -> str:
    # Field names and error types only: the input values may hold a CPR.
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['type']}" for e in error.errors()
    )
