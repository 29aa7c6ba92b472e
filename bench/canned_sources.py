"""`python bench/canned_sources.py [--delay S]`: the demo's department systems, answering from
memory.

The simulated systems of demo/systems, with each data answer rendered once per citizen and then
served as the same bytes: the sources cost next to nothing, so a benchmark measures whoever
asks them (the gateway or the bare proxy), not the sources. The shapes are the demo's own
(Momentum's nested JSON behind OAuth2, Sensum's SOAP envelope). --delay makes every data answer
wait that long first (the fan-out workload's 50 ms sources).

Prints one line of JSON (the demo's source configurations, pointing here), then serves until
SIGTERM.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo.systems.__main__ import serve_until_stopped
from demo.systems.server import Behaviour, SimulatedSystem


def canned(answer: Callable[[str, Behaviour], web.Response]) -> Callable[..., web.Response]:
    """The first answer about a citizen, kept and served again (while behaving normally)."""
    bodies: dict[str, tuple[bytes, str | None]] = {}
    normal = Behaviour()

    def answer_from_memory(citizen: str, behaviour: Behaviour) -> web.Response:
        if dataclasses.replace(behaviour, delay=0.0) != normal:  # the delay is served already
            return answer(citizen, behaviour)
        kept = bodies.get(citizen)
        if kept is None:
            first = answer(citizen, behaviour)
            assert isinstance(first.body, bytes)
            kept = bodies[citizen] = (first.body, first.headers.get("Content-Type"))
        return web.Response(body=kept[0], headers={"Content-Type": kept[1] or "text/plain"})

    return answer_from_memory


# The demo's OAuth2 tokens live five minutes. A run under callgrind (bench/instructions.py) is
# some 30 times slower and lasts longer than that: the gateway's first renewal, through code no
# view had run before, missed the token endpoint's 10 s timeout there and failed a source mid-run.
# Here a token outlives any run, so no run renews one (a renewal every five minutes is nothing
# in a timed run either).
TOKEN_TTL_SECONDS = 24 * 3600.0


def _answer_from_memory(system: SimulatedSystem) -> None:
    system._answer = canned(system._answer)  # type: ignore[method-assign]
    system.token_ttl_seconds = TOKEN_TTL_SECONDS


def main() -> None:
    serve_until_stopped(__doc__.split("\n")[0], prepare=_answer_from_memory)


if __name__ == "__main__":
    main()
