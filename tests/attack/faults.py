"""What every fault test asks of an answer given while something is broken."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from tests.builders import consent_body
from tests.support import LiveGateway

PROBLEM = "application/problem+json"
# Keys of a citizen view: none of them may appear in a refusal.
VIEW_KEYS = {"departments", "timeline", "coverage", "overlaps", "access_entry"}


def refused_cleanly(response: httpx.Response, *codes: str) -> dict[str, Any]:
    """A 4xx/503 problem document with one of `codes`, carrying no fragment data."""
    assert response.status_code != 500, response.text
    assert 400 <= response.status_code < 500 or response.status_code == 503, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.text
    problem: dict[str, Any] = response.json()
    assert problem["code"] in codes, problem
    assert not VIEW_KEYS & problem.keys(), "a refusal carries no part of a view"
    return problem


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def shared_citizen(gateway: LiveGateway, twin_of: Callable[[str], str]) -> str:
    """A fresh twin of Sara Holm whose jobcenter data is shared with children-family."""
    citizen = twin_of("Sara Holm")
    gateway.post("/v1/consents", consent_body(citizen)).raise_for_status()
    return citizen


def through(url: str, port: int) -> str:
    """The same database URL, reached on 127.0.0.1:`port` (a proxy) instead."""
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


def eventually(check: Callable[[], bool], seconds: float = 20.0) -> bool:
    """True as soon as `check` is; False if it never is within `seconds` (generous: CI noise)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False
