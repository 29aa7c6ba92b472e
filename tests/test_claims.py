"""Claim mapping per issuer, and the issuer settings that drive it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.auth.claims import actor_from_claims
from gateway.auth.errors import TokenRejected
from gateway.settings import ConfigError, TrustedIssuer, load_settings

EXAMPLE = Path(__file__).parent.parent / "docs" / "helhed.example.toml"


def _issuer(**config: Any) -> TrustedIssuer:
    return TrustedIssuer(issuer="https://idp.example/realms/x", **config)


def test_keycloak_nested_roles_and_a_department_claim() -> None:
    issuer = _issuer(claims={"roles": "realm_access.roles"})
    actor = actor_from_claims(
        {
            "sub": "u1",
            "realm_access": {"roles": ["caseworker", "offline_access"]},
            "department": "jobcenter",
        },
        issuer,
    )
    assert actor.roles == ("caseworker",)  # provider-only roles are dropped
    assert actor.department == "jobcenter"


def test_entra_app_roles_and_groups_map_to_roles_and_a_department() -> None:
    issuer = _issuer(
        claims={"department": None, "groups": "groups"},
        role_names={"Helhed.Caseworker": "caseworker"},
        group_departments={"g-job": "jobcenter", "g-buf": "children-family"},
    )
    one = actor_from_claims(
        {"sub": "u", "roles": ["Helhed.Caseworker"], "groups": ["g-job"]}, issuer
    )
    assert (one.roles, one.department) == (("caseworker",), "jobcenter")
    # Two departments would make every department-bound decision a guess: none then.
    two = actor_from_claims(
        {"sub": "u", "roles": ["Helhed.Caseworker"], "groups": ["g-job", "g-buf"]}, issuer
    )
    assert two.department is None


def test_an_issuer_grants_only_the_roles_it_is_allowed() -> None:
    citizens = _issuer(
        claims={"roles": None, "cpr": "https://data.gov.dk/model/core/eid/cprNumber"},
        fixed_roles=["citizen"],
        allowed_roles=["citizen"],
    )
    actor = actor_from_claims(
        {
            "sub": "p",
            "roles": ["dpo"],
            "https://data.gov.dk/model/core/eid/cprNumber": "120391-1234",
        },
        citizens,
    )
    assert actor.roles == ("citizen",)
    assert actor.cpr == "1203911234"
    assert "1203911234" not in repr(actor)


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "u", "roles": [1, 2]},
        {"sub": "u", "roles": ["caseworker"], "department": 7},
        {"roles": ["caseworker"]},
    ],
)
def test_malformed_claims_are_an_invalid_token(claims: dict[str, Any]) -> None:
    with pytest.raises(TokenRejected) as refused:
        actor_from_claims(claims, _issuer())
    assert refused.value.code == "invalid_token"


def test_space_separated_roles_are_accepted() -> None:
    assert actor_from_claims({"sub": "u", "roles": "dpo itops"}, _issuer()).roles == (
        "dpo",
        "itops",
    )


def test_the_documented_issuers_load() -> None:
    settings = load_settings(EXAMPLE)
    staff, citizens, batch = settings.issuers
    assert staff.discovers
    assert staff.signs_in_pages
    assert staff.role_names["Helhed.DPO"] == "dpo"
    assert citizens.fixed_roles == ["citizen"]
    assert not batch.discovers


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"issuer": "http://idp.example.net"}, "https only"),
        ({"issuer": "urn:no-keys"}, "jwks_file, jwks_uri"),
        ({"issuer": "https://idp.example", "fixed_roles": ["admin"]}, "unknown roles"),
        ({"issuer": "https://idp.example", "client_id": "c"}, "needs a name"),
    ],
)
def test_issuer_settings_are_checked(tmp_path: Path, config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(None, home=tmp_path, issuers=[config])


def test_a_group_must_map_to_a_known_department(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown department 'payroll'"):
        load_settings(
            None,
            home=tmp_path,
            issuers=[{"issuer": "https://idp.example", "group_departments": {"g": "payroll"}}],
        )
