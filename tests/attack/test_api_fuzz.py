"""API fuzzing: schemathesis sends generated requests to every operation of the gateway's own
OpenAPI document, over HTTP to a real server, as every role and with every kind of broken token.

Threats: a forged, stolen, expired or otherwise broken token; a signed-in user (a caseworker, a
citizen) probing operations of other roles; malformed and hostile input in paths, queries and
bodies. The controls they prove: no request gets a 5xx; every answer has a status code,
content type and body the OpenAPI document declares; every 4xx is a problem document with a
`code`; a broken token never gets anything but a 401 (or the 400/413/415 of an unreadable body).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from demo.citizens import CITIZENS, seed_consents
from demo.sources import source_configs
from demo.systems import SystemsInThread
from gateway.problems import PROBLEM_MEDIA_TYPE
from tests.attack import examples
from tests.builders import consent_body
from tests.conftest import fresh_cpr
from tests.forged_tokens import CASES
from tests.fuzz_summary import record
from tests.support import LiveGateway, live_gateway

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
CITIZEN = CITIZENS[0]
# (role, department) of every kind of user; the citizen's token names her CPR.
ROLES = {
    "caseworker children-family": ("caseworker", "children-family"),
    "caseworker jobcenter": ("caseworker", "jobcenter"),
    "caseworker adult-social": ("caseworker", "adult-social"),
    "caseworker health": ("caseworker", "health"),
    "dpo": ("dpo", None),
    "itops": ("itops", None),
    "citizen": ("citizen", None),
}
BROKEN = ["no token", *CASES]
# The operations that need no token: no citizen data, only health, keys and the log's hashes.
PUBLIC = {
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/metrics"),
    ("GET", "/v1/keys"),
    ("GET", "/v1/audit/checkpoints"),
    ("GET", "/v1/audit/checkpoints/latest"),
    ("GET", "/v1/audit/consistency"),
}
# A broken token is refused before its request is read further; an unreadable body may be
# refused first (400, 413, 415), as it is for anyone.
REFUSED_BROKEN = {400, 401, 413, 415}


def _headers(gateway: LiveGateway, kind: str) -> dict[str, str]:
    if kind in ROLES:
        role, department = ROLES[kind]
        claims = {"cpr": CITIZEN.cpr} if role == "citizen" else {}
        token = gateway.token(role, department, **claims)
    elif kind == "no token":
        return {}
    else:
        token = CASES[kind][0](gateway)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def fuzzed(
    new_database: Callable[[], str],
    systems: SystemsInThread,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveGateway]:
    """A gateway of its own (the fuzzer records consents and floods the log), with the demo's
    consents, so that generated requests also meet consent ids that exist."""
    with live_gateway(
        tmp_path_factory.mktemp("fuzz-home"), new_database(), source_configs(systems.systems)
    ) as gateway:
        assert gateway.http is not None
        today = gateway.clock.now().date()
        for seed in seed_consents(today):
            body = {
                k: v for k, v in seed.items() if k not in {"recorded_by_department", "withdraw"}
            }
            answer = gateway.post("/v1/consents", body, as_=seed["recorded_by_department"])
            assert answer.status_code == 201, answer.text
        yield gateway


@pytest.fixture(scope="module")
def schema(fuzzed: LiveGateway) -> Any:
    return schemathesis.openapi.from_url(f"{fuzzed.base_url}/openapi.json")


@pytest.fixture(scope="module")
def consent_ids(fuzzed: LiveGateway) -> list[str]:
    assert fuzzed.http is not None
    ids = []
    for citizen in CITIZENS:
        found = fuzzed.post("/v1/consents/search", {"citizen": citizen.cpr})
        ids += [c["id"] for c in found.json()["consents"]]
    assert ids
    return ids


def _operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def _problem_document(response: Any) -> None:
    if 400 <= response.status_code < 500:
        content_type = response.headers.get("content-type", [""])[0]
        assert content_type.startswith(PROBLEM_MEDIA_TYPE), response.text
        body = json.loads(response.text)
        assert isinstance(body.get("code"), str), response.text
        assert body.get("status") == response.status_code, response.text


def _cases(operation: Any, consent_ids: list[str]) -> st.SearchStrategy[Any]:
    """Valid and invalid requests; a path's consent id is now and then one that exists."""
    generated = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )
    if "{consent_id}" not in operation.path:
        return generated

    def with_real_id(case: Any, real: str | None) -> Any:
        if real is not None and case.path_parameters is not None:
            case.path_parameters["consent_id"] = real
        return case

    return st.builds(with_real_id, generated, st.none() | st.sampled_from(consent_ids))


@dataclass
class Tally:
    sent: int = 0


def _fuzz_operation(
    gateway: LiveGateway,
    http: requests.Session,
    operation: Any,
    cases: st.SearchStrategy[Any],
    headers: dict[str, str],
    *,
    must_refuse: bool,
    per_operation: int,
    tally: Tally,
) -> None:
    @settings(
        max_examples=per_operation,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def one_request(case: Any) -> None:
        tally.sent += 1
        response = case.call(base_url=gateway.base_url, session=http, headers=headers, timeout=30)
        case.validate_response(response, checks=CHECKS)
        _problem_document(response)
        if must_refuse:
            assert response.status_code in REFUSED_BROKEN, (
                f"{case.method} {case.formatted_path} -> {response.status_code} "
                f"{response.text[:300]}"
            )

    one_request()


def _fuzz(
    gateway: LiveGateway, schema: Any, consent_ids: list[str], kind: str, per_operation: int
) -> None:
    """Every operation, `per_operation` examples each, counted in the fuzz tally."""
    headers = _headers(gateway, kind)
    operations = _operations(schema)
    tally = Tally()
    try:
        with requests.Session() as http:
            for operation in operations:
                _fuzz_operation(
                    gateway,
                    http,
                    operation,
                    _cases(operation, consent_ids),
                    headers,
                    must_refuse=kind in BROKEN
                    and (operation.method.upper(), operation.path) not in PUBLIC,
                    per_operation=per_operation,
                    tally=tally,
                )
    finally:
        record("api", kind=kind, operations=len(operations), examples=tally.sent)


def test_exactly_the_public_operations_declare_no_401(schema: Any) -> None:
    """A new operation that forgot its token check would not declare a 401 either."""
    tokenless = {
        (operation.method.upper(), operation.path)
        for operation in _operations(schema)
        if "401" not in operation.definition.raw["responses"]
    }
    assert tokenless == PUBLIC


@pytest.mark.parametrize("kind", list(ROLES))
def test_every_role_gets_only_documented_answers(
    fuzzed: LiveGateway, schema: Any, consent_ids: list[str], kind: str
) -> None:
    _fuzz(fuzzed, schema, consent_ids, kind, examples(short=4, long=50))


@pytest.mark.parametrize("kind", BROKEN)
def test_broken_tokens_get_only_401s(
    fuzzed: LiveGateway, schema: Any, consent_ids: list[str], kind: str
) -> None:
    _fuzz(fuzzed, schema, consent_ids, kind, examples(short=1, long=8))


# Found by the fuzzer on PostgreSQL: a NUL character (its text and jsonb hold none) or an unpaired
# surrogate (UTF-8 cannot encode one) passed validation and then failed the database write: 503s.
UNSTORABLE = ["reason \x00 with a NUL", "reason \ud800 unpaired"]


@pytest.mark.parametrize("text", UNSTORABLE, ids=["nul", "surrogate"])
def test_text_no_database_can_store_is_refused_and_nothing_written(
    gateway: LiveGateway, text: str
) -> None:
    assert gateway.http is not None
    citizen = fresh_cpr()
    recorded = gateway.post("/v1/consents", consent_body(citizen))
    assert recorded.status_code == 201, recorded.text
    consent = recorded.json()["id"]
    headers = {**gateway.headers(), "Content-Type": "application/json"}
    body = json.dumps({"reason": text})  # escapes both as \\u0000, \\ud800, as a client would
    withdrawn = gateway.http.post(f"/v1/consents/{consent}/withdraw", content=body, headers=headers)
    assert withdrawn.status_code == 422, withdrawn.text
    assert withdrawn.json()["code"] == "invalid_text"
    assert withdrawn.json()["errors"][0]["location"] == "body.reason"
    assert gateway.http.get(f"/v1/consents/{consent}", headers=headers).json()["status"] == "active"
    # A filter and a path id with a NUL in them are refused the same way.
    dpo = gateway.headers("dpo", None)
    filtered = gateway.http.get("/v1/audit/entries?actor=a%00b", headers=dpo)
    assert (filtered.status_code, filtered.json()["code"]) == (422, "invalid_text")
    by_id = gateway.http.get(f"/v1/consents/{consent}%00", headers=headers)
    assert by_id.status_code in {404, 422}, by_id.text
    withdrawals = gateway.audit_entries(action="consent.withdraw", outcome="success")
    assert [e for e in withdrawals if e["citizen"] == citizen] == []


# Found probing the edges of time: a moment next to datetime's ends overflowed once in UTC or
# moved by a week: a 500 (anomalies), a 503 (entries) and an export cut off mid-stream.
EDGE_TIMES = [
    "/v1/audit/anomalies?until=0001-01-01T00:00:00Z",
    "/v1/audit/entries?since=9999-12-31T23:59:59-23:59",
    "/v1/audit/entries?until=0001-01-01T00:00:00%2B23:59",
    "/v1/audit/export?format=csv&since=0001-01-01T00:00:00%2B23:59",
    "/v1/audit/checkpoints?since=0001-01-01T00:00:00%2B23:59",
]


@pytest.mark.parametrize("path", EDGE_TIMES)
def test_a_time_at_the_edge_of_the_calendar_is_a_422(gateway: LiveGateway, path: str) -> None:
    with httpx.Client(base_url=gateway.base_url, timeout=30) as http:
        answer = http.get(path, headers=gateway.headers("dpo", None))
    assert (answer.status_code, answer.json()["code"]) == (422, "invalid_time"), answer.text


@pytest.mark.parametrize("path", ["/v1/consents", "/v1/consents/preview"])
def test_a_consent_day_at_the_end_of_the_calendar_is_a_422(gateway: LiveGateway, path: str) -> None:
    """Found the same way: the consent engine counts days past 9999-12-31, a 500."""
    citizen = fresh_cpr()
    body = consent_body(citizen, valid_from="9999-12-30", valid_until="9999-12-31")
    answer = gateway.post(path, body)
    assert (answer.status_code, answer.json()["code"]) == (422, "invalid_time"), answer.text
    assert gateway.post("/v1/consents/search", {"citizen": citizen}).json()["consents"] == []
