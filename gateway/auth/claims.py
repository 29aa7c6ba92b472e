"""From a verified token's claims to an Actor, by the issuer's claim mapping.

Providers name things differently (Entra's `roles` and `groups`, Keycloak's
`realm_access.roles`, the national login's CPR claim); the mapping in configuration says where
each one is. Roles are then cut down to what that issuer may grant at all: a citizens' login
never makes anyone a caseworker, whatever its token says.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import PydanticCustomError

from gateway.auth.actor import Actor
from gateway.auth.errors import TokenRejected
from gateway.settings import TrustedIssuer
from schemas.cpr import normalize_cpr


def claim(claims: dict[str, Any], name: str | None) -> Any:
    """The claim as named, else the dotted path into nested objects; None when absent.

    An unset name (None, or "" since TOML has no null) maps nothing."""
    if not name:
        return None
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _strings(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise TokenRejected("invalid_token", f"The {what} claim must be a list of strings")


def _optional_string(value: Any, what: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TokenRejected("invalid_token", f"The {what} claim must be a string")


def _roles(claims: dict[str, Any], config: TrustedIssuer, groups: list[str]) -> tuple[str, ...]:
    named = _strings(claim(claims, config.claims.roles), "roles")
    granted = {config.role_names.get(role, role) for role in named}
    granted |= {config.role_names[group] for group in groups if group in config.role_names}
    granted |= set(config.fixed_roles)
    return tuple(sorted(granted & set(config.allowed_roles)))


def _department(claims: dict[str, Any], config: TrustedIssuer, groups: list[str]) -> str | None:
    named = _optional_string(claim(claims, config.claims.department), "department")
    if named is not None:
        return named
    found = {config.group_departments[g] for g in groups if g in config.group_departments}
    # Several departments would make every department-bound decision a guess: none, then.
    return found.pop() if len(found) == 1 else None


def _cpr(claims: dict[str, Any], config: TrustedIssuer) -> str | None:
    value = claim(claims, config.claims.cpr)
    if value is None:
        return None
    try:
        return normalize_cpr(value)
    except PydanticCustomError:
        raise TokenRejected("invalid_token", "The CPR claim is not a CPR number") from None


def actor_from_claims(claims: dict[str, Any], config: TrustedIssuer) -> Actor:
    subject = claim(claims, config.claims.subject)
    if not isinstance(subject, str | int) or subject == "":
        raise TokenRejected("invalid_token", "The token names no subject")
    groups = _strings(claim(claims, config.claims.groups), "groups")
    return Actor(
        subject=str(subject),
        name=_optional_string(claim(claims, config.claims.name), "name"),
        department=_department(claims, config, groups),
        roles=_roles(claims, config, groups),
        issuer=config.issuer,
        token_id=_optional_string(claims.get("jti"), "jti"),
        cpr=_cpr(claims, config),
    )
