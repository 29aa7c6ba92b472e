"""The rest_json kind and its mapping against small real HTTP servers on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import jmespath
import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from adapters.mapping import FragmentMapping
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


@given(record=_JSON, path=st.lists(_KEYS, min_size=1, max_size=4))
def test_a_dotted_field_reads_what_jmespath_reads(record: Any, path: list[str]) -> None:
    """Plain dotted paths skip the JMESPath interpreter; they must mean exactly the same."""
    expression = ".".join(f'"{key}"' if "-" in key else key for key in path)
    mapping = FragmentMapping.model_validate(
        {"fields": {**MAPPING["fields"], "attributes.probe": expression}}
    )
    read = next(plan[3] for plan in mapping._plan if plan[0] == "attributes.probe")
    assert read(record) == jmespath.search(expression, record)


_SCALARS = st.none() | st.booleans() | st.integers(-1, 1) | st.sampled_from(["", "x"])
_VALUES = _SCALARS | st.lists(_SCALARS, max_size=1) | st.dictionaries(_KEYS, _SCALARS, max_size=1)


@given(
    record=st.dictionaries(_KEYS, _VALUES | st.dictionaries(_KEYS, _VALUES, max_size=3)),
    left=st.lists(_KEYS, min_size=1, max_size=2),
    right=st.lists(_KEYS, min_size=1, max_size=2),
)
def test_a_fallback_field_reads_what_jmespath_reads(
    record: Any, left: list[str], right: list[str]
) -> None:
    """`a.b || c` skips the interpreter too, with JMESPath's falsiness (0 is true, "" false)."""

    def dotted(path: list[str]) -> str:
        return ".".join(f'"{key}"' if "-" in key else key for key in path)

    expression = f"{dotted(left)} || {dotted(right)}"
    mapping = FragmentMapping.model_validate(
        {"fields": {**MAPPING["fields"], "attributes.probe": expression}}
    )
    read = next(plan[3] for plan in mapping._plan if plan[0] == "attributes.probe")
    assert read(record) == jmespath.search(expression, record)
