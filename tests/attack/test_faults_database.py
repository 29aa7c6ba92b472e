"""The database goes away mid-request and comes back: the gateway refuses cleanly (503 with a
code, within its timeouts, nothing released, nothing half-written) and recovers by itself."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from demo.sources import source_configs
from demo.systems import SystemsInThread
from tests.attack.faults import refused_cleanly, shared_citizen, through, timed
from tests.attack.tcp_proxy import TcpProxy, proxy_to
from tests.builders import consent_body
from tests.conftest import POSTGRES_URL
from tests.support import LiveGateway, ThrowawayPostgres, live_gateway

DOWN = ("database_unavailable", "access_log_unavailable")
# However the database fails, an answer comes within this (the configured timeouts, plus CI).
BOUND_SECONDS = 20

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="HELHED_TEST_POSTGRES_URL is not set"),
]


@pytest.fixture
def proxied(
    throwaway_postgres: ThrowawayPostgres, systems: SystemsInThread, tmp_path: Path
) -> Iterator[tuple[LiveGateway, TcpProxy]]:
    url = throwaway_postgres.new_database()
    parsed = make_url(url)
    with (
        proxy_to(parsed.host or "127.0.0.1", parsed.port or 5432) as proxy,
        live_gateway(
            tmp_path / "home",
            through(url, proxy.port),
            source_configs(systems.systems),
            database={"connect_timeout_seconds": 2, "pool_timeout_seconds": 2},
        ) as gateway,
    ):
        yield gateway, proxy


def test_postgres_cut_mid_use_refuses_cleanly_and_recovers_by_itself(
    proxied: tuple[LiveGateway, TcpProxy], twin_of: Callable[[str], str]
) -> None:
    gateway, proxy = proxied
    citizen = shared_citizen(gateway, twin_of)
    assert gateway.view(citizen).status_code == 200
    proxy.cut()
    for _ in range(3):  # every pooled connection is dead: none of them may leak a 500
        response, seconds = timed(lambda: gateway.view(citizen))
        refused_cleanly(response, *DOWN)
        assert seconds < BOUND_SECONDS
    other = twin_of("Lars Vestergaard")
    response = gateway.post("/v1/consents", consent_body(other))
    refused_cleanly(response, *DOWN)
    proxy.restore()
    view = gateway.view(citizen)
    assert view.status_code == 200, view.text
    assert view.json()["timeline"]
    found = gateway.post("/v1/consents/search", {"citizen": other})
    assert found.status_code == 200
    assert found.json()["consents"] == [], "the consent refused during the cut was not written"
    assert gateway.verify()["ok"] is True


def test_postgres_that_stops_answering_is_a_503_within_the_timeouts(
    proxied: tuple[LiveGateway, TcpProxy], twin_of: Callable[[str], str]
) -> None:
    """A black hole (packets go in, nothing comes back) is worse than a refused connection:
    only timeouts end the wait."""
    gateway, proxy = proxied
    citizen = shared_citizen(gateway, twin_of)
    proxy.set_mode("hang")
    proxy.cut()  # the pool's open connections die; new ones are black-holed
    proxy.set_mode("hang")
    response, seconds = timed(lambda: gateway.view(citizen))
    refused_cleanly(response, *DOWN)
    assert seconds < BOUND_SECONDS
    proxy.restore()
    assert gateway.view(citizen).status_code == 200
    assert gateway.verify()["ok"] is True


def test_postgres_cut_while_a_view_waits_for_its_sources_releases_nothing(
    proxied: tuple[LiveGateway, TcpProxy],
    systems: SystemsInThread,
    twin_of: Callable[[str], str],
) -> None:
    """The consents were read, the sources are being asked, and then the database goes: the
    entry cannot be written, so the fragments already fetched are not released."""
    gateway, proxy = proxied
    citizen = shared_citizen(gateway, twin_of)
    systems["jobcenter"].behaviour.delay = 0.8  # the view is in its fan-out when the cut comes
    answer: list[httpx.Response] = []
    viewing = threading.Thread(target=lambda: answer.append(gateway.view(citizen)))
    viewing.start()
    time.sleep(0.4)
    proxy.cut()
    viewing.join(BOUND_SECONDS)
    assert answer, "the view was answered within the bound"
    refused_cleanly(answer[0], *DOWN)
    assert citizen not in answer[0].text
    proxy.restore()
    systems["jobcenter"].reset()
    after = gateway.view(citizen)
    assert after.status_code == 200, after.text
    assert after.json()["timeline"]
    assert gateway.verify()["ok"] is True
