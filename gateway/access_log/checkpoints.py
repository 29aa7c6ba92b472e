"""Signed checkpoints of the tree: written under the head lock, so each size is signed once."""

from __future__ import annotations

from sqlalchemy import Engine, func, insert
from sqlmodel import Session, col, select

from gateway.access_log import signed_note, tree_store
from gateway.access_log.models import CheckpointRow
from gateway.clock import Clock
from gateway.db import write_session
from gateway.signing.keys import SigningKeys

_CHECKPOINTS = CheckpointRow.__table__  # type: ignore[attr-defined]


class CheckpointSigner:
    """Signs tree heads with the current checkpoint key under the log's origin."""

    def __init__(
        self, *, origin: str, signing_keys: SigningKeys, clock: Clock, every: int = 1000
    ) -> None:
        self.origin = origin
        self._keys = signing_keys
        self._clock = clock
        self._every = every

    def sign(self, size: int, root: bytes) -> CheckpointRow:
        key = self._keys.current("checkpoint")
        text = signed_note.checkpoint_text(self.origin, size, root)
        return CheckpointRow(
            size=size,
            root=root.hex(),
            at=self._clock.now(),
            key_id=str(key.kid),
            note=signed_note.sign(text, self.origin, key.private_key),
        )

    def write(self, session: Session, size: int, root: bytes) -> CheckpointRow:
        row = self.sign(size, root)
        session.execute(insert(_CHECKPOINTS).values(**row.model_dump()))
        return row

    def due(self, old_size: int, new_size: int) -> bool:
        """Whether growing from `old_size` to `new_size` passes a multiple of `every`."""
        return new_size // self._every > old_size // self._every

    def __call__(self, session: Session, old_size: int, new_size: int, root: bytes) -> None:
        """The group commit's hook: a checkpoint whenever a multiple of `every` is passed."""
        if self.due(old_size, new_size):
            self.write(session, new_size, root)

    def public_keys(self) -> list[object]:
        return [key.public_key for key in self._keys.keyring("checkpoint")]


def latest_size(session: Session) -> int:
    return int(session.exec(select(func.coalesce(func.max(CheckpointRow.size), 0))).one())


def checkpoint_now(*, engine: Engine, signer: CheckpointSigner) -> CheckpointRow | None:
    """Sign the current tree head if it has grown since the last checkpoint."""
    with write_session(engine) as session:
        head = tree_store.lock_head(session)
        if head.size == 0 or head.size <= latest_size(session):
            return None
        return signer.write(session, head.size, bytes.fromhex(head.root))


def latest(session: Session) -> CheckpointRow | None:
    query = select(CheckpointRow).order_by(col(CheckpointRow.size).desc()).limit(1)
    return session.exec(query).first()


def at_least(session: Session, size: int) -> CheckpointRow | None:
    """The smallest checkpoint that covers `size` entries."""
    query = (
        select(CheckpointRow)
        .where(col(CheckpointRow.size) >= size)
        .order_by(col(CheckpointRow.size))
        .limit(1)
    )
    return session.exec(query).first()
