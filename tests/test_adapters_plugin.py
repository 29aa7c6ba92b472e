"""A third-party kind, shipped as its own distribution, found through the entry point and used."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from adapters.protocol import ENTRY_POINT_GROUP, SourceConfig
from adapters.registry import SourceConfigError, build_adapters
from adapters.resilience import Resilient, unwrap
from tests.plugins import installed_distribution
from tests.support import live_gateway

# The whole plugin, as docs/adapters.md shows it: a module and its package metadata.
PLUGIN_MODULE = '''
from typing import ClassVar

from adapters.protocol import PROTOCOL_VERSION, FetchResult, Health
from adapters.mapping import FragmentMapping


class NotebookAdapter:
    """A department's notes kept in the configuration itself (a stand-in for a real system)."""

    protocol_version: ClassVar[int] = PROTOCOL_VERSION
    idempotent = True

    def __init__(self, config):
        self.config = config
        self.notes = config.options.get("notes", [])
        self.mapping = FragmentMapping.model_validate(config.options["mapping"])

    async def fetch(self, request):
        mine = [n for n in self.notes if n["cpr"] == request.citizen]
        return self.mapping.map_document(
            mine, source=self.config.name, department=self.config.department
        )

    async def check_health(self):
        return Health(True, f"{len(self.notes)} notes")

    async def aclose(self):
        pass
'''
ENTRY_POINTS = (
    f"[{ENTRY_POINT_GROUP}]\n"
    "notebook = helhed_notebook:NotebookAdapter\n"
    "broken = helhed_notebook:Missing\n"  # installed, but its object does not exist
)
CPR = "0101901234"


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A tiny distribution on sys.path: its dist-info makes the entry point real."""
    with installed_distribution(
        tmp_path,
        monkeypatch,
        module="helhed_notebook",
        code=PLUGIN_MODULE,
        entry_points=ENTRY_POINTS,
    ) as folder:
        yield folder


def _config(**changes: object) -> dict[str, object]:
    return {
        "name": "adult-social-notebook",
        "kind": "notebook",
        "department": "adult-social",
        "categories": ["case-overview"],
        "notes": [{"id": "n1", "cpr": CPR, "text": "Samtale om bolig"}],
        "mapping": {
            "fields": {
                "id": "id",
                "citizen": "cpr",
                "category": "'case-overview'",
                "kind": "'note'",
                "title": "text",
            }
        },
        **changes,
    }


def test_the_plugin_is_found_through_the_entry_point(installed_plugin: Path) -> None:
    names = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    assert names["notebook"] == "helhed_notebook:NotebookAdapter"
    assert {"rest_json", "soap_xml", "sql", "csv_drop"} <= set(names)
    (adapter,) = build_adapters([SourceConfig.model_validate(_config())]).values()
    assert isinstance(adapter, Resilient), "a plugin gets the same resilience as a built-in"
    assert type(unwrap(adapter)).__module__ == "helhed_notebook"


def test_a_plugin_that_cannot_load_is_named_only_when_used(installed_plugin: Path) -> None:
    build_adapters([SourceConfig.model_validate(_config())])  # "broken" is installed, unused
    with pytest.raises(SourceConfigError, match="source 'x': kind 'broken' could not be loaded"):
        build_adapters([SourceConfig.model_validate(_config(name="x", kind="broken"))])


def test_the_plugin_serves_a_view_through_the_gateway(
    installed_plugin: Path, tmp_path: Path, new_database: Callable[[], str]
) -> None:
    with live_gateway(tmp_path / "home", new_database(), [_config()]) as gateway:
        view = gateway.view(CPR, as_="adult-social").json()
        assert [f["title"] for f in view["timeline"]] == ["Samtale om bolig"]
        assert view["coverage"][0]["status"] == "included"
