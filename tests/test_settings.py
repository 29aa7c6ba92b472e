"""Configuration: the example in docs/ loads, the environment overrides, errors say where."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.registry import SourceConfigError, build_adapters
from gateway.settings import ConfigError, load_settings

EXAMPLE = Path(__file__).parent.parent / "docs" / "helhed.example.toml"


def test_the_documented_example_is_valid(tmp_path: Path) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text('{"keys": []}', encoding="utf-8")
    settings = load_settings(EXAMPLE, issuers=[{"issuer": "x", "jwks_file": jwks}])
    assert settings.sqlalchemy_url.startswith("postgresql+psycopg://")
    adapters = build_adapters(settings.sources)
    assert list(adapters) == ["jobcenter-momentum"]
    assert settings.catalog.purpose("case-assessment").max_validity_days == 180


def test_the_environment_overrides_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELHED_VIEW_DEADLINE_SECONDS", "4.5")
    monkeypatch.setenv("HELHED_DATABASE_URL", "sqlite:///elsewhere.db")
    settings = load_settings(EXAMPLE)
    assert settings.view_deadline_seconds == 4.5
    assert settings.sqlalchemy_url == "sqlite:///elsewhere.db"


def test_an_issuer_may_not_allow_symmetric_or_no_signatures(tmp_path: Path) -> None:
    for algorithms in (["none"], ["HS256"], ["ES256", "HS512"]):
        with pytest.raises(ConfigError, match="public keys only"):
            load_settings(
                None,
                home=tmp_path,
                issuers=[{"issuer": "x", "jwks_file": "k", "algorithms": algorithms}],
            )


def test_errors_name_the_file_and_the_place(tmp_path: Path) -> None:
    config = tmp_path / "helhed.toml"
    config.write_text("view_deadline_seconds = -1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert f"{config}: view_deadline_seconds" in str(caught.value)
    config.write_text("this is = not toml =\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(config)
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(tmp_path / "missing.toml")


def _source(**changes: object) -> dict[str, object]:
    source: dict[str, object] = {
        "name": "jobcenter-momentum",
        "kind": "rest_json",
        "department": "jobcenter",
        "categories": ["benefits"],
        "base_url": "http://127.0.0.1:9",
        "method": "POST",
        "path": "/search",
        "json_body": {"cpr": "{citizen}"},
        "mapping": {
            "records": "data",
            "fields": {"id": "id", "citizen": "cpr", "category": "t", "kind": "t", "title": "x"},
        },
    }
    source.update(changes)
    return source


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "carrier_pigeon"}, "unknown kind 'carrier_pigeon'"),
        ({"path": "/citizens/{citizen}"}, "would put the CPR in a URL"),
        ({"query": {"cpr": "{citizen}"}}, "would put the CPR in a URL"),
        ({"mapping": {"fields": {"id": "id"}}}, "fields must map citizen, category, kind, title"),
        (
            {
                "mapping": {
                    "fields": {
                        "id": "id[",
                        "citizen": "c",
                        "category": "c",
                        "kind": "k",
                        "title": "t",
                    }
                }
            },
            "fields.id: invalid JMESPath",
        ),
        (
            {
                "mapping": {
                    "fields": {
                        "nonsense": "x",
                        "id": "i",
                        "citizen": "c",
                        "category": "c",
                        "kind": "k",
                        "title": "t",
                    }
                }
            },
            "'nonsense' is not a Fragment field",
        ),
        ({"base_url": "not a url"}, "base_url"),
    ],
)
def test_a_bad_source_names_itself_and_the_field(changes: dict[str, object], message: str) -> None:
    settings = load_settings(None, home="/nonexistent", sources=[_source(**changes)])
    with pytest.raises(SourceConfigError) as caught:
        build_adapters(settings.sources)
    assert "source 'jobcenter-momentum'" in str(caught.value)
    assert message in str(caught.value)


def test_a_cpr_in_the_url_is_allowed_only_on_purpose() -> None:
    source = _source(path="/citizens/{citizen}", allow_citizen_in_url=True)
    settings = load_settings(None, home="/nonexistent", sources=[source])
    assert list(build_adapters(settings.sources)) == ["jobcenter-momentum"]
