"""Scheduled jobs run once per period across instances, and /v1/keys publishes signing keys."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from joserfc import jws
from joserfc.jwk import KeySet

from gateway.scheduler import JobRunner, ScheduledJob, release_lease, take_lease
from tests.support import LiveGateway


def test_one_lease_holder_at_a_time_until_it_lapses_or_is_released(gateway: LiveGateway) -> None:
    engine, now = gateway.runtime.engine, gateway.clock.now()
    lease = timedelta(minutes=1)
    job = f"test-job-{id(now)}"
    assert take_lease(engine=engine, job=job, holder="a", now=now, lease=lease)
    assert not take_lease(engine=engine, job=job, holder="b", now=now, lease=lease)
    assert take_lease(engine=engine, job=job, holder="a", now=now, lease=lease), "holder renews"
    later = now + timedelta(minutes=2)
    assert take_lease(engine=engine, job=job, holder="b", now=later, lease=lease), "lapsed"
    release_lease(engine=engine, job=job, holder="b", now=later)
    assert take_lease(engine=engine, job=job, holder="a", now=later, lease=lease)


def test_a_job_runs_only_on_the_instance_holding_its_lease(gateway: LiveGateway) -> None:
    ran: list[str] = []
    job = ScheduledJob(f"count-{id(ran)}", timedelta(hours=1), lambda _runtime: ran.append("x"))
    runner = JobRunner(gateway.runtime, [job])
    engine, other = gateway.runtime.engine, gateway.runtime.settings.instance + "-other"
    take_lease(
        engine=engine,
        job=job.name,
        holder=other,
        now=gateway.clock.now(),
        lease=timedelta(minutes=5),
    )
    assert asyncio.run(runner.run_once(job.name)) is False
    assert ran == []
    release_lease(engine=engine, job=job.name, holder=other, now=gateway.clock.now())
    assert asyncio.run(runner.run_once(job.name)) is True
    assert ran == ["x"]


def test_signing_keys_are_published_as_a_jwks(gateway: LiveGateway) -> None:
    assert gateway.http is not None
    jwks: dict[str, Any] = gateway.http.get("/v1/keys").json()
    assert {key["helhed_use"] for key in jwks["keys"]} == {"receipt", "checkpoint"}
    for key in jwks["keys"]:
        assert (key["kty"], key["crv"]) == ("OKP", "Ed25519")
        assert "d" not in key, "never a private key"
    receipt_keys = KeySet.import_key_set(
        {"keys": [k for k in jwks["keys"] if k["helhed_use"] == "receipt"]}
    )
    signer = gateway.runtime.signing_keys.current("receipt")
    token = jws.serialize_compact(
        {"alg": "EdDSA", "kid": signer.kid}, b"hello", signer, algorithms=["EdDSA"]
    )
    verified = jws.deserialize_compact(token, receipt_keys, algorithms=["EdDSA"])
    assert verified.payload == b"hello"
