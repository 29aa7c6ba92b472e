"""A compromised or broken department system, behind a TCP proxy that misbehaves on cue: it
resets the connection, accepts and never answers, drips its answer a byte at a time, or breaks
off half-way through it; or the
system answers with another citizen's records. Each time the view is served within the
deadline with the source `unavailable` (or its foreign records dropped), nothing of another
citizen is released, and the next view after the fault gets the source's data again.

(Slow answers, HTTP errors, malformed and oversized bodies, XML bombs and a foreign record mixed
in with the right ones are covered by tests/test_views.py and tests/test_adapters_gateway.py.)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from demo.sources import SOURCE_NAMES, source_configs
from demo.systems import SystemsInThread
from tests.attack.faults import shared_citizen
from tests.attack.tcp_proxy import TcpProxy, proxy_to
from tests.support import LiveGateway, live_gateway

JOBCENTER = SOURCE_NAMES["jobcenter"]
DEADLINE = 1.5  # the test gateways' view deadline (tests/support.py)


@pytest.fixture
def jobcenter_behind_proxy(
    systems: SystemsInThread, new_database: Callable[[], str], tmp_path: Path
) -> Iterator[tuple[LiveGateway, TcpProxy]]:
    jobcenter = systems["jobcenter"]
    host, port = jobcenter.base_url.removeprefix("http://").rsplit(":", 1)
    with proxy_to(host, int(port), drip_seconds=0.05, truncate_after=600) as proxy:
        configs = source_configs(systems.systems)
        for config in configs:
            if config["name"] == JOBCENTER:
                config["base_url"] = f"http://{proxy.address}"  # the token endpoint stays direct
        with live_gateway(tmp_path / "home", new_database(), configs) as gateway:
            yield gateway, proxy


def _jobcenter_line(view: dict[str, Any]) -> dict[str, Any]:
    return next(line for line in view["coverage"] if line["source"] == JOBCENTER)


@pytest.mark.parametrize(
    ("mode", "problems"),
    [
        ("reset", {"unreachable"}),
        ("hang", {"timeout"}),
        ("drip", {"timeout"}),
        ("truncate", {"unreachable"}),
    ],
)
def test_a_source_that_resets_hangs_drips_or_breaks_off_is_unavailable_in_time(
    mode: str,
    problems: set[str],
    jobcenter_behind_proxy: tuple[LiveGateway, TcpProxy],
    twin_of: Callable[[str], str],
) -> None:
    gateway, proxy = jobcenter_behind_proxy
    citizen = shared_citizen(gateway, twin_of)
    assert _jobcenter_line(gateway.view(citizen).json())["status"] == "included"
    proxy.set_mode(mode)  # type: ignore[arg-type]  (reset also kills the kept-alive connection)
    started = time.monotonic()
    response = gateway.view(citizen)
    seconds = time.monotonic() - started
    assert response.status_code == 200, response.text
    line = _jobcenter_line(response.json())
    assert (line["status"], line["problem"] in problems) == ("unavailable", True), line
    assert seconds < DEADLINE + 3, f"the view waited {seconds:.1f} s for a {mode} source"
    assert {f["department"] for f in response.json()["timeline"]} <= {"children-family"}
    proxy.restore()
    after = gateway.view(citizen)
    assert _jobcenter_line(after.json())["status"] == "included", "recovers by itself"
    entry = next(
        e for e in gateway.audit_entries(action="view") if e["seq"] == after.json()["access_entry"]
    )
    assert entry["outcome"] == "success"


def test_a_source_that_answers_with_another_citizens_records_releases_none_of_them(
    gateway: LiveGateway, systems: SystemsInThread, twin_of: Callable[[str], str]
) -> None:
    """A compromised or confused source sends someone else's whole case instead of the one
    asked for (its index points at the wrong person): every record is dropped, and logged."""
    citizen, other = shared_citizen(gateway, twin_of), twin_of("Lars Vestergaard")
    jobcenter = systems["jobcenter"]
    records = jobcenter._records
    records[citizen], saved = records[other], records[citizen]
    try:
        view = gateway.view(citizen).json()
    finally:
        records[citizen] = saved
    assert view["timeline"] == [] or {f["citizen"] for f in view["timeline"]} == {citizen}
    assert other not in str(view), "nothing of the other citizen leaves"
    line = _jobcenter_line(view)
    assert (line["status"], line["fragments"]) == ("included", 0)
    entry = next(
        e for e in gateway.audit_entries(action="view") if e["seq"] == view["access_entry"]
    )
    assert entry["detail"]["dropped"][JOBCENTER]["other-citizen"] >= 1
