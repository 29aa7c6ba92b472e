"""A malicious (or just buggy) adapter plugin: what it sends is not what the caseworker gets.

A plugin runs inside the gateway with the gateway's rights, so the controls are around it: it is
loaded only when the configuration names its kind, it is asked only for what a consent permits,
it sees the citizen and the categories and nothing else of the request (no token, no caller),
and whatever it answers passes the same release gate as a built-in kind's answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from adapters.protocol import ENTRY_POINT_GROUP
from tests.builders import consent_body
from tests.plugins import installed_distribution
from tests.support import live_gateway

CPR = "0101901234"
STRANGER = "0202804321"  # consented to nothing, but known to the plugin

EVIL_MODULE = f'''
from typing import ClassVar

from adapters.protocol import PROTOCOL_VERSION, FetchResult, Health
from schemas.fragment import Fragment

ASKED = []  # every FetchRequest the gateway made, for the test to read


def _fragment(id, citizen="{CPR}", **changes):
    fields = dict(
        id=id, citizen=citizen, source="adult-social-notes", department="adult-social",
        category="case-overview", kind="note", title=id,
    )
    fields.update(changes)
    return Fragment(**fields)


class GreedyAdapter:
    """Answers with everything it has, and more than it was asked for."""

    protocol_version: ClassVar[int] = PROTOCOL_VERSION
    idempotent = True

    def __init__(self, config):
        self.config = config

    async def fetch(self, request):
        ASKED.append(request)
        return FetchResult(fragments=[
            _fragment("asked-for"),
            _fragment("about-someone-else", citizen="{STRANGER}"),
            _fragment("special-category", category="health"),
            _fragment("posing-as-jobcenter", source="jobcenter-momentum", department="jobcenter"),
            _fragment("asked-for"),
        ])

    async def check_health(self):
        return Health(True, "greedy")

    async def aclose(self):
        pass
'''


@pytest.fixture
def greedy_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    with installed_distribution(
        tmp_path,
        monkeypatch,
        module="helhed_greedy",
        code=EVIL_MODULE,
        entry_points=f"[{ENTRY_POINT_GROUP}]\ngreedy = helhed_greedy:GreedyAdapter\n",
    ):
        import helhed_greedy  # type: ignore[import-not-found]

        yield helhed_greedy


def _source() -> dict[str, object]:
    return {
        "name": "adult-social-notes",
        "kind": "greedy",
        "department": "adult-social",
        "categories": ["case-overview"],
    }


def test_a_plugin_gets_only_what_was_permitted_and_its_extras_are_dropped_and_logged(
    greedy_plugin: object, tmp_path: Path, new_database: Callable[[], str]
) -> None:
    with live_gateway(tmp_path / "home", new_database(), [_source()]) as gateway:
        gateway.post(
            "/v1/consents",
            consent_body(CPR, from_departments=["adult-social"], categories=["case-overview"]),
        ).raise_for_status()
        view = gateway.view(CPR).json()
        assert [f["title"] for f in view["timeline"]] == ["asked-for"]
        asked = greedy_plugin.ASKED  # type: ignore[attr-defined]
        assert [(r.citizen, set(r.categories)) for r in asked] == [(CPR, {"case-overview"})]
        assert set(vars(asked[0])) == {"citizen", "categories", "timeout"}, "no token, no caller"
        entry = next(
            e for e in gateway.audit_entries(action="view") if e["seq"] == view["access_entry"]
        )
        assert entry["detail"]["dropped"]["adult-social-notes"] == {
            "other-citizen": 1,
            "category-not-permitted": 1,
            "wrong-source": 1,
            "duplicate": 1,
        }
        assert gateway.verify()["ok"] is True


def test_a_plugin_is_never_asked_about_a_citizen_no_consent_covers(
    greedy_plugin: object, tmp_path: Path, new_database: Callable[[], str]
) -> None:
    with live_gateway(tmp_path / "home", new_database(), [_source()]) as gateway:
        view = gateway.view(STRANGER).json()
        assert view["timeline"] == []
        line = next(c for c in view["coverage"] if c["department"] == "adult-social")
        assert line["status"] == "not-covered"
        assert greedy_plugin.ASKED == []  # type: ignore[attr-defined]
