"""What the speed work (issue 11) must not cost: every view counted, nothing released without
its entry, expired tokens refused although verified tokens are remembered."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import text

from gateway.auth.dev_issuer import mint_token
from gateway.auth.tokens import TokenRejected
from tests.builders import consent_body
from tests.support import LiveGateway


def _use_count(gateway: LiveGateway, citizen: str) -> int:
    found = gateway.post("/v1/consents/search", {"citizen": citizen}).json()["consents"]
    assert len(found) == 1
    return int(found[0]["use_count"])


def test_concurrent_views_are_each_counted_once_with_their_entry(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    """The use count goes up in the log's group commit: many views in one batch, each counted."""
    citizen = twin_of("Sara Holm")
    consent = gateway.post("/v1/consents", consent_body(citizen)).json()
    with ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(lambda _: gateway.view(citizen).status_code, range(36)))
    assert statuses == [200] * 36
    assert _use_count(gateway, citizen) == 36
    relying = [
        e
        for e in gateway.audit_entries(action="view")
        if any(c["id"] == consent["id"] for c in e["consents"])
    ]
    assert len(relying) == 36
    assert gateway.verify()["ok"] is True


def _rename(gateway: LiveGateway, table: str, to: str) -> None:
    with gateway.runtime.engine.begin() as connection:
        connection.execute(text(f"ALTER TABLE {table} RENAME TO {to}"))


@pytest.mark.parametrize("broken", ["log_head", "consent_usage"])
def test_a_view_whose_entry_or_count_fails_is_neither_released_nor_counted(
    own_gateway: Callable[..., Any], twin_of: Callable[[str], str], broken: str
) -> None:
    """One transaction: the log's head cannot move (no entry), or the count cannot be written
    (then the entry is not written either); either way a 503 and nothing released."""
    citizen = twin_of("Sara Holm")
    with own_gateway() as gateway:
        gateway.post("/v1/consents", consent_body(citizen)).raise_for_status()
        assert gateway.view(citizen).status_code == 200
        size = gateway.verify()["entries"]
        _rename(gateway, broken, f"{broken}_gone")
        refused = [gateway.view(citizen) for _ in range(3)]
        _rename(gateway, f"{broken}_gone", broken)
        assert [r.status_code for r in refused] == [503] * 3
        assert all(r.json()["code"] == "access_log_unavailable" for r in refused)
        assert all("timeline" not in r.json() for r in refused)
        assert gateway.verify()["entries"] == size + 1  # only the DPO's own verification
        assert _use_count(gateway, citizen) == 1
        assert gateway.view(citizen).status_code == 200
        assert _use_count(gateway, citizen) == 2
        assert gateway.verify()["ok"] is True


def test_a_remembered_token_is_still_refused_once_it_expires(gateway: LiveGateway) -> None:
    verifier = gateway.runtime.verifier
    now = int(time.time())
    token = mint_token(
        gateway.settings, subject="short-lived", roles=["caseworker"],
        department="children-family", ttl_seconds=30,
    )  # fmt: skip
    first = asyncio.run(verifier.authenticate(token, now))
    assert asyncio.run(verifier.authenticate(token, now + 1)) is first  # remembered
    leeway = next(iter(verifier.issuers.values())).config.leeway_seconds
    with pytest.raises(TokenRejected) as refused:
        asyncio.run(verifier.authenticate(token, now + 30 + leeway + 1))
    assert refused.value.code == "token_expired"


def test_a_remembered_token_does_not_vouch_for_an_altered_one(gateway: LiveGateway) -> None:
    token = gateway.token(subject="remembered")
    assert gateway.http is not None
    ok = gateway.http.post(
        "/v1/consents/search", json={"citizen": "0101901234"},
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert ok.status_code == 200
    header, payload, signature = token.split(".")
    altered = f"{header}.{payload}.{signature[:-4]}AAAA"
    refused = gateway.http.post(
        "/v1/consents/search", json={"citizen": "0101901234"},
        headers={"Authorization": f"Bearer {altered}"},
    )  # fmt: skip
    assert refused.status_code == 401
    assert refused.json()["code"] in {"invalid_signature", "invalid_token"}
