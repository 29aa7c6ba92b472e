"""The rest_json kind and its mapping against small real HTTP servers on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, ClassVar

import jmespath
import pytest
from aiohttp import web
from hypothesis import example, given, settings
from hypothesis import strategies as st

from adapters.mapping import FragmentMapping, date_parser
from adapters.protocol import PROTOCOL_VERSION, FetchRequest, SourceConfig, SourceUnavailable
from adapters.registry import SourceConfigError, available_kinds, build_adapters
from adapters.rest_json import RestJsonAdapter

CPR = "0101901234"
MAPPING = {
    "records": "items",
    "fields": {
        "id": "id",
        "citizen": "cpr",
        "category": "type",
        "kind": "type",
        "title": "title",
        "period.start": "from",
        "period.end": "to",
        "updated_at": "changed",
    },
    "value_maps": {"category": {"B": "benefits"}, "kind": {"B": "benefit"}},
    "date_formats": {"period.start": "%d-%m-%Y", "period.end": "%d-%m-%Y"},
}


def _record(**changes: Any) -> dict[str, Any]:
    record = {"id": 1, "cpr": CPR, "type": "B", "title": "Kontanthjælp", "from": "01-02-2026"}
    record.update(changes)
    return record


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _fetch(handler: Handler, **options: Any) -> Any:
    """Serve `handler` on loopback, fetch once through a real RestJsonAdapter, return the result."""

    async def run() -> Any:
        app = web.Application()
        app.router.add_post("/search", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        config = SourceConfig.model_validate(
            {
                "name": "test-source",
                "kind": "rest_json",
                "department": "jobcenter",
                "categories": ["benefits"],
                "base_url": f"http://127.0.0.1:{port}",
                "method": "POST",
                "path": "/search",
                "json_body": {"cpr": "{citizen}"},
                "mapping": MAPPING,
                **options,
            }
        )
        adapter = RestJsonAdapter(config)
        try:
            return await adapter.fetch(FetchRequest(CPR, frozenset({"benefits"}), timeout=5))
        except SourceUnavailable as failure:
            return failure
        finally:
            await adapter.aclose()
            await runner.cleanup()

    return asyncio.run(run())


def _answer(document: Any) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        assert (await request.json()) == {"cpr": CPR}
        return web.json_response(document)

    return handler


def test_a_body_that_arrives_in_pieces_is_read_whole() -> None:
    async def in_pieces(request: web.Request) -> web.StreamResponse:
        body = json.dumps({"items": [_record(id=n) for n in range(200)]}).encode()
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        for start in range(0, len(body), 1000):
            await response.write(body[start : start + 1000])
            await asyncio.sleep(0)
        await response.write_eof()
        return response

    result = _fetch(in_pieces)
    assert len(result.fragments) == 200
    assert result.rejected == []
    too_small = _fetch(in_pieces, max_response_bytes=5000)
    assert isinstance(too_small, SourceUnavailable)
    assert too_small.code == "too_large"


def test_a_404_means_the_source_knows_nothing_of_the_citizen() -> None:
    async def not_found(_request: web.Request) -> web.Response:
        return web.json_response({"error": "no such person"}, status=404)

    assert _fetch(not_found).fragments == []
    strict = _fetch(not_found, not_found_means_empty=False)
    assert (type(strict), strict.code) == (SourceUnavailable, "http_status")


def test_records_become_fragments_and_bad_ones_are_rejected_alone() -> None:
    result = _fetch(
        _answer(
            {
                "items": [
                    _record(id=1, to="", changed="2026-03-01T10:00:00"),
                    _record(id=None),  # no id: rejected, never given a shared empty id
                    _record(id=3, type="SECRET"),  # a code with no mapping
                    _record(id=4, cpr="not-a-cpr"),
                    _record(id=5, title=" "),  # a blank title is a missing title
                    _record(id=6, **{"from": "31-02-2026"}),  # no such date
                ]
            }
        )
    )
    assert [f.id for f in result.fragments] == ["test-source:1"]
    fragment = result.fragments[0]
    assert (fragment.source, fragment.department, fragment.category) == (
        "test-source",
        "jobcenter",
        "benefits",
    )
    assert str(fragment.period.start) == "2026-02-01"
    assert fragment.period.end is None  # "" in a legacy export means: no end
    assert fragment.updated_at is not None
    assert fragment.updated_at.utcoffset() is not None, "naive times get the source's zone"
    problems = {r.record: r.problem for r in result.rejected}
    assert sorted(problems) == [1, 2, 3, 4, 5]
    assert "no id" in problems[1]
    assert "'SECRET' has no mapping" in problems[2]
    assert "citizen" in problems[3]
    assert CPR not in " ".join(problems.values()), "rejections never quote a CPR"


def test_a_time_without_an_offset_is_the_sources_local_time_given_in_utc() -> None:
    """Copenhagen summer time is UTC+2; a source in another zone says so in its mapping; a
    time with an offset keeps its moment; a time that has no moment in UTC is one rejection."""
    times = ["2026-06-01T10:00:00", "2026-06-01T10:00:00+01:00", "0001-01-01T00:30:00"]
    document = {"items": [_record(id=n, changed=time) for n, time in enumerate(times)]}
    copenhagen = _fetch(_answer(document))
    assert [f.updated_at.isoformat() for f in copenhagen.fragments] == [
        "2026-06-01T08:00:00+00:00",
        "2026-06-01T09:00:00+00:00",
    ]
    assert [(r.record, r.problem) for r in copenhagen.rejected] == [
        (2, "updated_at: time_out_of_range")
    ]
    in_utc = _fetch(_answer(document), mapping={**MAPPING, "timezone": "UTC"})
    assert [f.updated_at.isoformat() for f in in_utc.fragments] == [
        "2026-06-01T10:00:00+00:00",
        "2026-06-01T09:00:00+00:00",
        "0001-01-01T00:30:00+00:00",
    ]
    with pytest.raises(ValueError, match="unknown zone 'Mars/Olympus'"):
        FragmentMapping.model_validate({**MAPPING, "timezone": "Mars/Olympus"})


def test_the_mapping_refuses_targets_that_are_not_fragment_fields() -> None:
    with pytest.raises(ValueError, match="'responsible' has no member 'shoe_size'"):
        FragmentMapping.model_validate(
            {"fields": {**MAPPING["fields"], "responsible.shoe_size": "x"}}
        )
    with pytest.raises(ValueError, match="name the attribute"):
        FragmentMapping.model_validate({"fields": {**MAPPING["fields"], "attributes": "x"}})


def test_the_built_in_kind_is_found_through_its_entry_point() -> None:
    assert available_kinds()["rest_json"] is RestJsonAdapter


class _OldPlugin:
    protocol_version: ClassVar[int] = PROTOCOL_VERSION - 1

    def __init__(self, config: SourceConfig) -> None:
        self.config = config


def test_a_kind_written_for_another_protocol_version_is_refused() -> None:
    config = SourceConfig(name="old", kind="old", department="jobcenter", categories=["benefits"])
    with pytest.raises(SourceConfigError, match="implements adapter protocol 0"):
        build_adapters([config], kinds={"old": _OldPlugin})  # type: ignore[dict-item]


_KEYS = st.sampled_from(["a", "b", "person", "name", "quoted-key"])
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=12,
)


def _read_through_mapping(expression: str, record: dict[str, Any]) -> Any:
    """`attributes.probe` mapped with `expression` and read from `record` (with a valid
    record's own fields added) by a whole to_fragment, the path every source takes; "absent"
    when the mapping leaves it out."""
    mapping = FragmentMapping.model_validate(
        {**MAPPING, "fields": {**MAPPING["fields"], "attributes.probe": expression}}
    )
    fragment = mapping.to_fragment(
        {**record, **_record()}, source="test-source", department="jobcenter"
    )
    return fragment.attributes.get("probe", "absent")


def _as_mapped(value: Any) -> Any:
    """What a fragment keeps of a value read: None and blank text mean "no value"."""
    return "absent" if value is None or (isinstance(value, str) and not value.strip()) else value


_DOTTED = st.lists(_KEYS, min_size=1, max_size=4).map(
    lambda path: ".".join(f'"{key}"' if "-" in key else key for key in path)
)


# Each example configures a whole mapping: on a loaded machine one can take 200 ms.
@settings(deadline=None)
@given(record=st.dictionaries(_KEYS, _JSON, max_size=4), expression=_DOTTED)
def test_a_dotted_field_reads_what_jmespath_reads(record: dict[str, Any], expression: str) -> None:
    """Plain keys and dotted paths skip the JMESPath interpreter; they must mean exactly the
    same."""
    expected = _as_mapped(jmespath.search(expression, {**record, **_record()}))
    assert _read_through_mapping(expression, record) == expected


_SCALARS = st.none() | st.booleans() | st.integers(-1, 1) | st.sampled_from(["", "x"])
_VALUES = _SCALARS | st.lists(_SCALARS, max_size=1) | st.dictionaries(_KEYS, _SCALARS, max_size=1)


# Each example configures a whole mapping: on a loaded machine one can take 200 ms.
@settings(deadline=None)
@given(
    record=st.dictionaries(_KEYS, _VALUES | st.dictionaries(_KEYS, _VALUES, max_size=3)),
    left=_DOTTED,
    right=_DOTTED,
)
def test_a_fallback_field_reads_what_jmespath_reads(
    record: dict[str, Any], left: str, right: str
) -> None:
    """`a.b || c` skips the interpreter too, with JMESPath's falsiness (0 is true, "" false)."""
    expression = f"{left} || {right}"
    expected = _as_mapped(jmespath.search(expression, {**record, **_record()}))
    assert _read_through_mapping(expression, record) == expected


def _projection(base: str, names: list[str], fallback: bool) -> str:
    pairs = ", ".join(f"{name}: {name}" for name in names)
    expression = f"{base}[].{{{pairs}}}"
    return f"{expression} || `null`" if fallback else expression


_PROJECTIONS = st.builds(
    _projection,
    base=_DOTTED,
    names=st.lists(_KEYS.filter(lambda key: "-" not in key), min_size=1, max_size=3, unique=True),
    fallback=st.booleans(),
) | st.sampled_from(["`null`", '`"fixed"`', "@", "a[]", "a.b[].name", "a[].b[]"])
_NESTED_VALUES = _VALUES | st.lists(_VALUES | st.dictionaries(_KEYS, _VALUES), max_size=3)


# Each example configures a whole mapping: on a loaded machine one can take 200 ms.
@settings(deadline=None, max_examples=300)
@given(record=st.dictionaries(_KEYS, _NESTED_VALUES, max_size=4), expression=_PROJECTIONS)
@example(record={"a": [[1, [2]], {"b": 1}, None, 3]}, expression="a[]")
@example(record={"a": [{"b": [[{"name": 1}], None]}, [{"b": 2}], "x"]}, expression="a[].b[]")
def test_a_projection_of_objects_reads_what_jmespath_reads(
    record: dict[str, Any], expression: str
) -> None:
    """`Maaling[].{date: Dato, value: Score} || \\`null\\`` (a list of measurements in a SOAP
    answer) and literals skip the interpreter too: lists flattened one level, non-objects
    skipped, nulls dropped from the projection, exactly as JMESPath does."""
    expected = _as_mapped(jmespath.search(expression, {**record, **_record()}))
    assert _read_through_mapping(expression, record) == expected


def _strptime_or_error(text: str, date_format: str) -> Any:
    try:
        return datetime.strptime(text, date_format)
    except ValueError as error:
        return str(error)


def _parsed_or_error(text: str, date_format: str) -> Any:
    try:
        return date_parser(date_format)(text)
    except ValueError as error:
        return str(error)


_DIGITS = st.text("0123456789", min_size=1, max_size=4)
_TEXTS = st.datetimes().map(lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%S")) | st.lists(
    _DIGITS, min_size=6, max_size=6
).map(lambda p: f"{p[0]}-{p[1]}-{p[2]}T{p[3]}:{p[4]}:{p[5]}")


@given(date_format=st.sampled_from(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%d-%m-%Y"]), text=_TEXTS)
@example(date_format="%Y-%m-%d", text="2024-02-30")
@example(date_format="%Y-%m-%dT%H:%M:%S", text="2026-03-01T24:00:60")
def test_a_date_format_reads_what_strptime_reads(date_format: str, text: str) -> None:
    """The ISO formats are read by fromisoformat when the text has their exact shape: the same
    datetime as strptime, or the same error (a record rejected for the same reason)."""
    if "T" not in date_format:
        text = text.partition("T")[0]
    assert _parsed_or_error(text, date_format) == _strptime_or_error(text, date_format)
