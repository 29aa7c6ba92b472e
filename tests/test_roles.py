"""The role table, tested exhaustively: every role against every endpoint of the running app.

Generated from what the code itself uses: each route declares its permission through its
dependency (`authorized(...)` for the API, `page_authorized(...)` for the pages), and the
expectation for a role comes from ROLE_PERMISSIONS. A route added later is covered without
touching this file; a route that declares nothing fails here unless it is on the public list.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import routing
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from gateway.auth.actor import Actor
from gateway.auth.permissions import ROLE_PERMISSIONS, Permission, Role
from gateway.deps import SIGNED_IN
from tests.builders import consent_body
from tests.conftest import fresh_cpr
from tests.oidc import page_session
from tests.support import LiveGateway

# Routes anyone may call: nothing in them is about a citizen or the log's contents.
PUBLIC = {
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/metrics"),
    ("GET", "/v1/keys"),
    ("GET", "/"),  # signed out: the sign-in choices
    ("GET", "/signin/{name}"),
    ("GET", "/signin/callback"),
    ("GET", "/assets/helhed.css"),
    ("GET", "/assets/htmx.min.js"),
    ("POST", "/language"),  # the language switch: a cookie, nothing about anyone
    # Signed tree heads and consistency proofs, public like a Certificate Transparency log's:
    # sizes and hashes only, so anyone can hold the log to what it has shown before.
    ("GET", "/v1/audit/checkpoints"),
    ("GET", "/v1/audit/checkpoints/latest"),
    ("GET", "/v1/audit/consistency"),
}
DEPARTMENT = {Role.CASEWORKER: "children-family"}
# Consent examples are about this citizen, so that a citizen's own token may act on them.
TABLE_CPR = "0101901234"


def _declared(route: APIRoute) -> set[Any]:
    found: set[Any] = set()
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        declared = getattr(dependant.call, "permission", None)
        if declared is not None:
            found.add(declared)
        stack.extend(dependant.dependencies)
    return found


def _routes(gateway: LiveGateway) -> list[tuple[str, BaseRoute]]:
    """(full path, route) for every route, through included routers (FastAPI >= 0.13x nests
    them; older versions list them flat)."""
    iterate = getattr(routing, "iter_route_contexts", None)
    if iterate is None:
        return [(getattr(r, "path", ""), r) for r in gateway.app.routes]
    return [(context.path, context.original_route) for context in iterate(gateway.app.routes)]


def _endpoints(gateway: LiveGateway) -> list[tuple[str, str, APIRoute]]:
    return sorted(
        (
            (method, path, route)
            for path, route in _routes(gateway)
            if isinstance(route, APIRoute)
            for method in route.methods
            if method != "HEAD"
        ),
        key=lambda item: (item[0], item[1]),
    )


def test_every_endpoint_declares_who_may_use_it(gateway: LiveGateway) -> None:
    undeclared, ambiguous, public_but_guarded = [], [], []
    for method, path, route in _endpoints(gateway):
        declared = _declared(route)
        if (method, path) in PUBLIC:
            if declared:
                public_but_guarded.append(f"{method} {path}")
        elif not declared:
            undeclared.append(f"{method} {path}")
        elif len(declared) > 1:
            ambiguous.append(f"{method} {path}: {declared}")
    assert undeclared == [], "endpoints without a permission (add one, or list them as public)"
    assert ambiguous == []
    assert public_but_guarded == []


@dataclass
class Call:
    """One request to an endpoint."""

    path: str
    json: Any = None
    form: dict[str, Any] | None = None


def _consent(gateway: LiveGateway) -> str:
    recorded = gateway.post("/v1/consents", consent_body(TABLE_CPR))
    recorded.raise_for_status()
    return str(recorded.json()["id"])


def _consent_form(citizen: str) -> dict[str, Any]:
    body = consent_body(citizen)
    return {
        "citizen": citizen,
        "given_by_kind": "self",
        "from_departments": body["from_departments"],
        "to_departments": body["to_departments"],
        "categories": body["categories"],
        "purpose": body["purpose"],
        "valid_from": body["valid_from"],
        "valid_until": body["valid_until"],
        "evidence_kind": "signed-form",
        "evidence_reference": "J.nr. 1",
    }


# Requests that succeed for an allowed role. Endpoints without one are still checked: allowed
# roles must get past authorisation (no 401/403), the others get 403.
EXAMPLES: dict[tuple[str, str], Callable[[LiveGateway], Call]] = {
    ("POST", "/v1/views"): lambda g: Call(
        "/v1/views", json={"citizen": fresh_cpr(), "purpose": "coordinated-plan"}
    ),
    ("POST", "/v1/consents"): lambda g: Call("/v1/consents", json=consent_body(fresh_cpr())),
    ("POST", "/v1/consents/search"): lambda g: Call(
        "/v1/consents/search", json={"citizen": TABLE_CPR}
    ),
    ("POST", "/v1/consents/preview"): lambda g: Call(
        "/v1/consents/preview", json=consent_body(fresh_cpr())
    ),
    ("POST", "/v1/consents/{consent_id}/versions"): lambda g: Call(
        f"/v1/consents/{_consent(g)}/versions", json={"categories": ["benefits"], "reason": "x"}
    ),
    ("POST", "/v1/consents/{consent_id}/entered-in-error"): lambda g: Call(
        f"/v1/consents/{_consent(g)}/entered-in-error", json={"reason": "wrong citizen"}
    ),
    ("GET", "/v1/consents/{consent_id}/fhir"): lambda g: Call(f"/v1/consents/{_consent(g)}/fhir"),
    ("GET", "/v1/consents/{consent_id}/receipt"): lambda g: Call(
        f"/v1/consents/{_consent(g)}/receipt"
    ),
    ("GET", "/v1/consents/{consent_id}"): lambda g: Call(f"/v1/consents/{_consent(g)}"),
    ("POST", "/v1/consents/{consent_id}/withdraw"): lambda g: Call(
        f"/v1/consents/{_consent(g)}/withdraw", json={"reason": "withdrawn by phone"}
    ),
    ("GET", "/v1/audit/entries"): lambda g: Call("/v1/audit/entries?limit=5"),
    ("GET", "/v1/audit/verify"): lambda g: Call("/v1/audit/verify"),
    ("GET", "/citizen"): lambda g: Call("/citizen"),
    ("POST", "/citizen"): lambda g: Call(
        "/citizen", form={"citizen": fresh_cpr(), "purpose": "coordinated-plan"}
    ),
    ("POST", "/consents"): lambda g: Call("/consents", form=_consent_form(fresh_cpr())),
    ("POST", "/consents/{consent_id}/withdraw"): lambda g: Call(
        f"/consents/{_consent(g)}/withdraw", form={"reason": "withdrawn by phone"}
    ),
    ("GET", "/audit"): lambda g: Call("/audit"),
    ("GET", "/audit/reports"): lambda g: Call("/audit/reports"),
    ("GET", "/sources"): lambda g: Call("/sources"),
    ("POST", "/sources/{name}/check"): lambda g: Call(
        f"/sources/{next(iter(g.runtime.adapters))}/check", form={}
    ),
    ("GET", "/audit/export"): lambda g: Call("/audit/export?format=csv"),
    ("POST", "/audit/citizen-report"): lambda g: Call(
        "/audit/citizen-report", form={"citizen": TABLE_CPR}
    ),
    ("GET", "/audit/verify"): lambda g: Call("/audit/verify"),
    ("POST", "/signout"): lambda g: Call("/signout", form={}),
}


def _actor(role: Role) -> Actor:
    return Actor(
        subject=f"table-{role.value}",
        name=f"Table {role.value}",
        department=DEPARTMENT.get(role),
        roles=(role.value,),
        issuer="urn:helhed:dev-issuer",
        token_id=None,
        cpr=TABLE_CPR if role is Role.CITIZEN else None,
    )


def _send(gateway: LiveGateway, role: Role, method: str, path: str) -> httpx.Response:
    example = EXAMPLES.get((method, path))
    call = example(gateway) if example else Call(re.sub(r"\{[^}]+\}", "x", path), json={})
    assert gateway.http is not None
    if path.startswith("/v1/"):
        subject = TABLE_CPR if role is Role.CITIZEN else f"table-{role.value}"
        token = gateway.token(role.value, DEPARTMENT.get(role), subject=subject)
        return gateway.http.request(
            method, call.path, json=call.json, headers={"Authorization": f"Bearer {token}"}
        )
    cookies, csrf = page_session(gateway, _actor(role))
    data = {**(call.form or {}), "csrf": csrf} if method == "POST" else None
    with httpx.Client(base_url=gateway.base_url, cookies=cookies, timeout=30) as browser:
        return browser.request(method, call.path, data=data)


def _expected(method: str, path: str) -> int:
    return {
        ("POST", "/v1/consents"): 201,
        ("POST", "/v1/consents/{consent_id}/versions"): 201,
        ("POST", "/consents"): 201,
        ("POST", "/signout"): 303,
    }.get((method, path), 200)


@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_exactly_what_the_table_grants(gateway: LiveGateway, role: Role) -> None:
    granted = ROLE_PERMISSIONS[role]
    wrong: list[str] = []
    for method, path, route in _endpoints(gateway):
        if (method, path) in PUBLIC:
            continue
        (declared,) = _declared(route)
        # A route may accept alternatives (a caseworker's permission, or a citizen's own).
        allowed = declared == SIGNED_IN or bool(declared & granted)
        response = _send(gateway, role, method, path)
        example = EXAMPLES.get((method, path))
        if allowed and example is not None:
            ok = response.status_code == _expected(method, path)
        elif allowed:
            ok = response.status_code not in (401, 403)
        else:
            ok = response.status_code == 403
        if not ok:
            wrong.append(
                f"{role.value} {method} {path}: {'allowed' if allowed else 'denied'} by the "
                f"table, got {response.status_code} {response.text[:120]!r}"
            )
    assert wrong == []


def test_every_example_and_public_route_exists(gateway: LiveGateway) -> None:
    routes = {(method, path) for method, path, _ in _endpoints(gateway)}
    assert set(EXAMPLES) <= routes
    assert routes >= PUBLIC
    # Only FastAPI's own documentation is served outside the routes checked above.
    others = {path for path, route in _routes(gateway) if not isinstance(route, APIRoute)}
    assert others <= {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def test_the_table_names_every_permission(gateway: LiveGateway) -> None:
    """A permission no role has is dead code or a forgotten grant."""
    granted = set().union(*ROLE_PERMISSIONS.values())
    assert set(Permission) == granted
