"""Group commit: many requests' entries made durable by one transaction, none answered before.

One committer thread per database engine (per gateway process) collects the events that
requests hand it, for at most a couple of milliseconds and only while more are expected, drafts
their entries and appends them all in one transaction on a connection it keeps (direct_append:
one guarded statement while the tree is as it left it, else under the tree head's lock), and
only after the commit wakes each request with its position. If the transaction fails, every
request in it gets AccessLogUnavailable and releases nothing. Other processes do the same on the
same head row, so positions stay consecutive.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime
from weakref import WeakKeyDictionary

from sqlalchemy import Engine

from gateway.access_log.checkpoints import CheckpointSigner
from gateway.access_log.direct_append import ConsentUses, DirectAppender
from gateway.access_log.entries import Draft
from schemas.consent import ConsentRef


class AccessLogUnavailable(Exception):
    """The entry could not be made durable; the request must release nothing."""


WINDOW_SECONDS = 0.002
MAX_BATCH = 500
IDLE_SECONDS = 5.0  # an idle committer thread ends; the next entry starts a new one


class _Waiting:
    """One request's entry, and the lock it waits on until the committer has its answer.

    A bare lock is the cheapest way to park a thread and wake it (one futex each way), which
    matters when every batch wakes every writer."""

    __slots__ = ("at", "error", "future", "lock", "make", "seq", "uses")

    def __init__(
        self,
        make: Callable[[], Draft],
        uses: Sequence[ConsentRef],
        at: datetime | None,
        future: asyncio.Future[int] | None = None,
    ) -> None:
        self.make = make
        self.uses, self.at = uses, at
        self.seq = 0
        self.error: Exception | None = None
        # A request on the event loop waits on a future instead: no worker thread parked.
        self.future = future
        self.lock = threading.Lock()
        if future is None:
            self.lock.acquire()

    def done(self, seq: int = 0, error: Exception | None = None) -> None:
        self.seq, self.error = seq, error
        if self.future is None:
            self.lock.release()
        else:
            self.future.get_loop().call_soon_threadsafe(_settle, self.future, seq, error)

    def result(self) -> int:
        self.lock.acquire()
        if self.error is not None:
            raise self.error
        return self.seq


def _settle(future: asyncio.Future[int], seq: int, error: Exception | None) -> None:
    if future.done():  # the request was cancelled (its client went away); the entry stands
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(seq)


class GroupCommitter:
    def __init__(self, engine: Engine) -> None:
        # Weak, so that the registry below does not keep every engine ever made alive.
        self._engine = weakref.ref(engine)
        self._cond = threading.Condition()
        self._pending: list[_Waiting] = []
        self._thread: threading.Thread | None = None
        self._expected = 1  # how many entries the last batch held: the concurrency seen
        self._closing = False
        self.checkpointer: CheckpointSigner | None = None
        self.batches = 0

    def submit(
        self,
        make: Callable[[], Draft],
        uses: Sequence[ConsentRef] = (),
        at: datetime | None = None,
    ) -> int:
        """Append the entry `make` drafts; returns its position once it is durable.

        `uses` are the consent versions the entry's view relied on: their use counts (and last
        use, `at`) change in the same transaction as the entry, so there is one write per view.

        The committer drafts the batch's entries itself, one after the other: in one thread
        that work costs what it costs anywhere, without eight threads handing the GIL to each
        other for it. A draft that fails (a malformed event) fails its own request only."""
        waiting = _Waiting(make, uses, at)
        self._enqueue(waiting)
        return waiting.result()

    async def submit_async(
        self,
        make: Callable[[], Draft],
        uses: Sequence[ConsentRef] = (),
        at: datetime | None = None,
    ) -> int:
        """`submit` for a coroutine: the event loop goes on serving while the batch commits,
        and no worker thread is taken to wait for it."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._enqueue(_Waiting(make, uses, at, future))
        return await future

    def _enqueue(self, waiting: _Waiting) -> None:
        with self._cond:
            self._pending.append(waiting)
            if self._thread is None:
                self._closing = False
                self._thread = threading.Thread(
                    target=self._run, name="helhed-group-commit", daemon=True
                )
                self._thread.start()
            # Wake the committer for the first entry (to open its window) and when the batch
            # it waits for is full, not for every entry in between.
            if len(self._pending) in (1, min(self._expected, MAX_BATCH)):
                self._cond.notify()

    def close(self, timeout: float = 10.0) -> None:
        """Commit what is pending, then end the thread and give its connection back."""
        with self._cond:
            thread, self._closing = self._thread, True
            self._cond.notify()
        if thread is not None:
            thread.join(timeout)

    def _next_batch(self) -> list[_Waiting] | None:
        with self._cond:
            if not self._pending and not self._closing:
                self._cond.wait(IDLE_SECONDS)
            if not self._pending:
                self._thread = None
                return None
            # Wait a moment for the others only when others have been seen lately, so a lone
            # request never pays for the window.
            deadline = time.monotonic() + WINDOW_SECONDS
            while len(self._pending) < min(self._expected, MAX_BATCH):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            self._expected = len(batch)
            return batch

    def _run(self) -> None:
        direct: DirectAppender | None = None
        try:
            while (waiting_batch := self._next_batch()) is not None:
                batch = self._drafted(waiting_batch)
                if not batch:
                    continue
                engine = self._engine()
                try:
                    if engine is None:
                        raise AccessLogUnavailable("the database engine is gone")
                    direct = direct or DirectAppender(engine)
                    drafts = [draft for _, draft in batch]
                    seqs = direct.append(drafts, self.checkpointer, _uses_of(batch)).seqs
                except Exception as error:  # whatever it was, nothing in this batch is durable
                    failure = AccessLogUnavailable(type(error).__name__)
                    for waiting, _ in batch:
                        waiting.done(error=failure)
                    continue
                finally:
                    del engine
                self.batches += 1
                for (waiting, _), seq in zip(batch, seqs, strict=True):
                    waiting.done(seq)
        finally:
            if direct is not None:
                direct.close()

    @staticmethod
    def _drafted(batch: list[_Waiting]) -> list[tuple[_Waiting, Draft]]:
        drafted = []
        for waiting in batch:
            try:
                drafted.append((waiting, waiting.make()))
            except Exception as error:  # this request's event is malformed: it alone fails
                waiting.done(error=error)
        return drafted


def _uses_of(batch: list[tuple[_Waiting, Draft]]) -> ConsentUses:
    uses = ConsentUses()
    for waiting, _ in batch:
        if waiting.uses and waiting.at is not None:
            uses.add(waiting.uses, waiting.at)
    return uses


_COMMITTERS: WeakKeyDictionary[Engine, GroupCommitter] = WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()


def committer_for(engine: Engine) -> GroupCommitter:
    with _REGISTRY_LOCK:
        committer = _COMMITTERS.get(engine)
        if committer is None:
            committer = _COMMITTERS[engine] = GroupCommitter(engine)
        return committer
