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

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

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
    # Per field: its target split at the dot, how to read it from a record, and whether the
    # value is taken as read (no value map, date format or id to apply).
    _plan: list[tuple[str, str, str, Callable[[Any], Any], bool]] = PrivateAttr(
        default_factory=list
    )

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
        self._plan = [
            (target, *_split(target), self._reader(compiled), self._as_read(target))
            for target, compiled in self._compiled.items()
        ]
        return self

    def _as_read(self, target: str) -> bool:
        return target not in self.value_maps and target not in self.date_formats and target != "id"

    def _value(self, target: str, raw: Any) -> Any:
        # Legacy exports write "" (or spaces) for "no value", e.g. an open end date.
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if target in self.value_maps:
            table = self.value_maps[target]
            key = str(raw)
            if key not in table and _DEFAULT_KEY not in table:
                raise ValueError(f"{target}: the value {key!r} has no mapping")
            raw = table.get(key, table.get(_DEFAULT_KEY))
        if target in self.date_formats and isinstance(raw, str) and raw.strip():
            parsed = datetime.strptime(raw.strip(), self.date_formats[target])
            return parsed.date() if target.startswith("period.") else parsed
        if target == "id":
            return str(raw)
        return raw

    def to_fragment(self, record: Any, *, source: str, department: str) -> Fragment:
        data: dict[str, Any] = {"source": source, "department": department}
        for target, head, member, read, as_read in self._plan:
            raw = read(record)
            # Legacy exports write "" (or spaces) for "no value", e.g. an open end date.
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            value = raw if as_read else self._value(target, raw)
            if value is None:
                continue
            if member:
                data.setdefault(head, {})[member] = value
            else:
                data[head] = value
        if "id" not in data:
            raise ValueError("id: the record has no id")
        data["id"] = f"{source}:{data['id']}"
        fragment = Fragment.model_validate(data)
        if fragment.updated_at is not None and fragment.updated_at.tzinfo is None:
            # A time without an offset is the source's local time; make every time comparable.
            local = fragment.updated_at.replace(tzinfo=ZoneInfo(self.timezone))
            try:
                in_utc = local.astimezone(UTC)
            except OverflowError:
                # The first hour of year 1 in Copenhagen is before year 1 in UTC: one bad
                # record, rejected alone, not an error that fails the whole answer or import.
                raise ValueError("updated_at: the time is out of range") from None
            fragment = fragment.model_copy(update={"updated_at": in_utc})
        return fragment

    def map_document(self, document: Any, *, source: str, department: str) -> FetchResult:
        """Every record becomes a Fragment or a Rejection; one bad record spoils nothing else."""
        records = self._search(self._records, document)
        if records is None:
            return FetchResult()
        if not isinstance(records, list):
            records = [records]
        result = FetchResult()
        for index, record in enumerate(records):
            try:
                result.fragments.append(
                    self.to_fragment(record, source=source, department=department)
                )
            except ValidationError as error:
                result.rejected.append(Rejection(index, describe_validation_error(error)))
            except (ValueError, TypeError) as error:
                result.rejected.append(Rejection(index, str(error)))
        return result


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
    """A plain Python reader for the JMESPath forms mappings use most: dotted field paths and
    `a || b` of them (a fallback field, e.g. `benefit.rate || price.amount`), with JMESPath's
    own semantics; None for anything else, which the interpreter reads."""
    path = _field_path(node)
    if path is not None and len(path) == 1:
        (key,) = path
        return lambda record: record.get(key) if isinstance(record, dict) else None
    if path is not None:
        return lambda record: _walk(path, record)
    if node["type"] == "or_expression":
        left, right = (_direct_reader(child) for child in node["children"])
        if left is not None and right is not None:

            def either(record: Any) -> Any:
                value = left(record)
                return right(record) if _false_like(value) else value

            return either
    return None


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
