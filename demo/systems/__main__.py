"""`python -m demo.systems`: the four simulated systems in a process of their own.

Prints one line of JSON, the source configurations pointing at them (ready for
HELHED_SOURCES), then serves until interrupted. Benchmarks use it so that the systems do not
share a Python interpreter with the clients or the gateway they measure.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from collections.abc import Callable

from demo.sources import source_configs
from demo.systems.in_thread import SystemsInThread
from demo.systems.server import SimulatedSystem


def serve_until_stopped(
    description: str, prepare: Callable[[SimulatedSystem], None] | None = None
) -> None:
    """Start the systems (each given `--delay`, then `prepare`), print their source
    configurations as one line of JSON, and serve until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with SystemsInThread() as systems:
        for system in systems.systems.values():
            system.behaviour.delay = args.delay
            if prepare is not None and isinstance(system, SimulatedSystem):
                prepare(system)
        print(json.dumps(source_configs(systems.systems)), flush=True)
        stop.wait()


def main() -> None:
    serve_until_stopped(__doc__.split("\n")[0])


if __name__ == "__main__":
    main()
