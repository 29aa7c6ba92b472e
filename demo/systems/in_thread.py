"""Run the simulated systems in a background thread's own event loop.

Synchronous pytest fixtures, benchmarks and a gateway served by uvicorn in another thread all
need the systems answering while their own thread blocks; a private loop in a daemon thread
gives them that. Behaviour changes made from any thread apply from the next request on.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Mapping
from types import TracebackType
from typing import Any, TypeVar

from demo.systems.catalog import make_systems
from demo.systems.server import DepartmentSystem

T = TypeVar("T")


class SystemsInThread:
    """Context manager: starts every system on entry, stops them and the loop on exit."""

    def __init__(
        self,
        systems: dict[str, DepartmentSystem] | None = None,
        *,
        host: str = "127.0.0.1",
        ports: Mapping[str, int] | None = None,
    ) -> None:
        self.systems = make_systems() if systems is None else systems
        self._host = host
        self._ports = dict(ports or {})
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> SystemsInThread:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="demo-systems", daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread
        try:
            self.run(self._start_all())
        except BaseException:
            self._close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._close()

    def __getitem__(self, department: str) -> DepartmentSystem:
        return self.systems[department]

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run a coroutine on the systems' loop and wait for it, e.g. one system's stop()."""
        if self._loop is None:
            coroutine.close()
            raise RuntimeError("the systems are not running; use `with SystemsInThread()`")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def reset(self) -> None:
        for system in self.systems.values():
            system.reset()

    async def _start_all(self) -> None:
        for department, system in self.systems.items():
            await system.start(self._host, self._ports.get(department, 0))

    async def _stop_all(self) -> None:
        await asyncio.gather(*(system.stop() for system in self.systems.values()))
        # Whatever the servers left behind (a cancelled handler) must end before the loop does.
        leftovers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)
        await asyncio.get_running_loop().shutdown_asyncgens()

    def _close(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            self.run(self._stop_all())
        finally:
            self._loop = self._thread = None
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()
