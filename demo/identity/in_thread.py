"""The provider served by uvicorn in a background thread, for tests and scripts."""

from __future__ import annotations

import threading
import time
from types import TracebackType

import uvicorn

from demo.identity.provider import IdentityProvider


class ProviderInThread:
    def __init__(self, provider: IdentityProvider, host: str = "127.0.0.1", port: int = 0) -> None:
        self.provider = provider
        self._server = uvicorn.Server(
            uvicorn.Config(provider.app, host=host, port=port, log_level="warning")
        )
        self._thread = threading.Thread(target=self._server.run, name="demo-idp", daemon=True)
        self.base_url = ""

    def __enter__(self) -> ProviderInThread:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the identity provider did not start")
            time.sleep(0.02)
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        self.base_url = f"http://{host}:{port}"
        self.provider.bind(self.base_url)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=20)
