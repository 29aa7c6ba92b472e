"""Fixtures: simulated department systems on loopback, a live gateway per database backend.

Every gateway-level test runs on SQLite and, when HELHED_TEST_POSTGRES_URL is set, on
PostgreSQL too, each in a throwaway database that is dropped at the end of the run.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from demo.citizens import CITIZENS
from demo.identity import IdentityProvider
from demo.identity.demo_realms import citizens_realm, staff_realm, trusted_issuers
from demo.identity.in_thread import ProviderInThread
from demo.run import DEMO_STAFF
from demo.sources import source_configs
from demo.systems import SystemsInThread
from gateway.catalog_defaults import DEPARTMENTS
from tests.oidc import STAFF_SECRET
from tests.support import LiveGateway, ThrowawayPostgres, live_gateway

POSTGRES_URL = os.environ.get("HELHED_TEST_POSTGRES_URL", "")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not POSTGRES_URL, reason="HELHED_TEST_POSTGRES_URL is not set"),
        ],
    ),
]
SAMPLE = {citizen.name: citizen.cpr for citizen in CITIZENS}


@pytest.fixture(scope="session")
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    databases = ThrowawayPostgres(POSTGRES_URL)
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def new_database(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Callable[[], str]:
    """Makes an empty database of the backend under test, for one gateway."""
    if backend == "sqlite":
        return lambda: f"sqlite:///{tmp_path_factory.mktemp('db') / 'helhed.db'}"
    databases: ThrowawayPostgres = request.getfixturevalue("throwaway_postgres")
    return databases.new_database


@pytest.fixture(scope="session")
def systems() -> Iterator[SystemsInThread]:
    with SystemsInThread() as running:
        yield running


@pytest.fixture(scope="session")
def gateway(
    new_database: Callable[[], str],
    systems: SystemsInThread,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveGateway]:
    """One gateway per backend for the whole run; each test uses citizens of its own."""
    with live_gateway(
        tmp_path_factory.mktemp("home"), new_database(), source_configs(systems.systems)
    ) as live:
        yield live


def demo_identity_provider() -> IdentityProvider:
    """The demo's provider: a staff realm and a citizens' realm, as `helhed demo` runs it."""
    return IdentityProvider([staff_realm(DEMO_STAFF, STAFF_SECRET), citizens_realm(CITIZENS)])


@pytest.fixture(scope="session")
def identity_provider() -> Iterator[IdentityProvider]:
    with ProviderInThread(demo_identity_provider()) as running:
        yield running.provider


def issuers_of(provider: IdentityProvider) -> list[dict[str, Any]]:
    return trusted_issuers(provider, STAFF_SECRET, [d.slug for d in DEPARTMENTS])


@pytest.fixture(scope="session")
def oidc_gateway(
    new_database: Callable[[], str],
    systems: SystemsInThread,
    identity_provider: IdentityProvider,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveGateway]:
    """A gateway that trusts the demo's identity provider (as well as `helhed token`)."""
    with live_gateway(
        tmp_path_factory.mktemp("home"),
        new_database(),
        source_configs(systems.systems),
        issuers=issuers_of(identity_provider),
    ) as live:
        yield live


@pytest.fixture
def own_gateway(
    new_database: Callable[[], str], systems: SystemsInThread, tmp_path: Path
) -> Callable[..., Any]:
    """A gateway with a database of its own, for tests that break or tamper with it."""
    return lambda **overrides: live_gateway(
        tmp_path / "home", new_database(), source_configs(systems.systems), **overrides
    )


@pytest.fixture(autouse=True)
def _restore_shared_state(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "systems" in request.fixturenames:
        request.getfixturevalue("systems").reset()
    if "gateway" in request.fixturenames:
        request.getfixturevalue("gateway").clock.offset = timedelta()


_used: set[str] = set()


def fresh_cpr() -> str:
    """A valid CPR no other test uses (born 1950-1999, so the seventh digit is 0-3)."""
    while True:
        born = date(1950, 1, 1) + timedelta(days=random.randrange(365 * 50))
        serial = f"{random.randrange(4)}{random.randrange(1000):03d}"
        cpr = born.strftime("%d%m%y") + serial
        if cpr not in _used and cpr not in SAMPLE.values():
            _used.add(cpr)
            return cpr


@pytest.fixture
def twin_of(systems: SystemsInThread, request: pytest.FixtureRequest) -> Callable[[str], str]:
    """twin_of("Sara Holm") -> a new CPR holding a copy of Sara's records in every system.

    The CSV export gets the twin in a fresh export, which a running gateway imports at once."""

    def make(name: str) -> str:
        cpr = fresh_cpr()
        for system in systems.systems.values():
            system.add_twin(SAMPLE[name], cpr)
        if "gateway" in request.fixturenames:
            request.getfixturevalue("gateway").import_drops()
        return cpr

    return make
