"""A TCP proxy on loopback that a test can cut, restore and make misbehave.

It sits between the gateway and a dependency (PostgreSQL, a department system) and forwards
bytes both ways. A test switches its `mode` at any moment, from any thread:

- `pass`: forward everything, as if the proxy were not there;
- `reset`: every open connection is closed with a TCP reset, and new ones are reset at once
  (the dependency has gone away, or a firewall dropped the connection);
- `hang`: new connections are accepted and then never answered (a black hole: the classic
  half-dead server that only a timeout gets you out of); open ones stop forwarding;
- `drip`: the dependency's answers are forwarded one byte at a time, `drip_seconds` apart
  (slowloris in reverse: every byte is on time, the whole answer never is);
- `truncate`: the first `truncate_after` bytes of an answer are forwarded, then the connection
  is reset (the system crashed half-way through its answer).

Written with asyncio in a thread of its own, so synchronous tests and a gateway in another
thread or process can all use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from typing import Literal

Mode = Literal["pass", "reset", "hang", "drip", "truncate"]


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST instead of FIN: SO_LINGER with a zero timeout."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class TcpProxy:
    def __init__(
        self,
        target_host: str,
        target_port: int,
        *,
        drip_seconds: float = 0.05,
        truncate_after: int = 200,
    ) -> None:
        self.target = (target_host, target_port)
        self.mode: Mode = "pass"
        self.drip_seconds = drip_seconds
        self.truncate_after = truncate_after
        self.connections = 0  # accepted since start: a test can see whether anyone came
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    # --- control, from any thread -------------------------------------------------------

    def set_mode(self, mode: Mode) -> None:
        """Switch behaviour; `reset` also kills every connection that is open right now."""
        self.mode = mode
        if mode == "reset" and self._loop is not None:
            asyncio.run_coroutine_threadsafe(self._reset_all(), self._loop).result(10)

    def cut(self) -> None:
        self.set_mode("reset")

    def restore(self) -> None:
        self.set_mode("pass")

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> TcpProxy:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="tcp-proxy", daemon=True)
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._client, "127.0.0.1", 0), loop
        ).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop.close()
        self._loop = None

    # --- the proxy itself, on its own loop ----------------------------------------------

    async def _shutdown(self) -> None:
        await self._reset_all()
        if self._server is not None:
            self._server.close()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    async def _reset_all(self) -> None:
        for writer in list(self._open):
            _reset(writer)
        self._open.clear()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.mode == "reset":
            _reset(writer)
            return
        self._open.add(writer)
        if self.mode == "hang":
            await self._hold(reader)
            _reset(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            self._open.discard(writer)
            _reset(writer)
            return
        self._open.add(up_writer)
        pumps = [
            asyncio.ensure_future(self._pump(reader, up_writer, upstream=True)),
            asyncio.ensure_future(self._pump(up_reader, writer, upstream=False)),
        ]
        # When either side ends, both do: the other pump would wait for bytes forever.
        _done, pending = await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        for pump in pending:
            pump.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
        for end in (writer, up_writer):
            self._open.discard(end)
            _reset(end)

    async def _hold(self, reader: asyncio.StreamReader) -> None:
        """Swallow what the client sends and answer nothing, until the client gives up or the
        mode changes."""
        while self.mode == "hang":
            try:
                data = await asyncio.wait_for(reader.read(65536), 0.1)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, upstream: bool
    ) -> None:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            while self.mode == "hang":  # noqa: ASYNC110 (the mode is set from another thread)
                await asyncio.sleep(0.05)
            if self.mode == "reset":
                break
            if self.mode == "truncate" and not upstream:
                writer.write(data[: self.truncate_after])
                await writer.drain()
                break
            if self.mode == "drip" and not upstream:
                for i in range(len(data)):
                    writer.write(data[i : i + 1])
                    await writer.drain()
                    await asyncio.sleep(self.drip_seconds)
                    if self.mode != "drip":
                        writer.write(data[i + 1 :])
                        break
            else:
                writer.write(data)
            await writer.drain()


@contextlib.contextmanager
def proxy_to(host: str, port: int, **options: float) -> Iterator[TcpProxy]:
    proxy = TcpProxy(host, port, **options).start()
    try:
        yield proxy
    finally:
        proxy.stop()
