"""What `helhed audit …` does, against the database and keys a configuration names."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlmodel import Session

from gateway.access_log import checkpoints, merkle, proofs, signed_note, tree_store
from gateway.access_log.bundle import FORMAT
from gateway.access_log.verify import verify_log
from gateway.db import make_engine, read_session
from gateway.settings import Settings
from gateway.signing.keys import SigningKeys
from schemas.access import VerifyReport


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with read_session(engine) as session:
            yield session
    finally:
        engine.dispose()


def _public_keys(settings: Settings) -> list[object]:
    return [key.public_key for key in SigningKeys(settings.keys_dir).keyring("checkpoint")]


AUTO_WORKERS_FROM = 1 << 17  # below that, starting worker processes costs more than it saves


def verify_all(
    settings: Settings, progress: Callable[[int, int], None] | None = None, workers: int = 0
) -> VerifyReport:
    """`workers` 0: one per core for a large log, none for a small one."""
    with _session(settings) as session:
        if workers == 0:
            large = tree_store.read_head(session).size >= AUTO_WORKERS_FROM
            workers = (os.cpu_count() or 1) if large else 1
        return verify_log(
            session=session,
            keys=_public_keys(settings),
            progress=progress,
            workers=workers,
            database_url=settings.sqlalchemy_url,
        )


def verify_since(settings: Settings, kept: str) -> tuple[bool, str]:
    """Did the log grow, unchanged, from the checkpoint the DPO kept to the latest one?"""
    try:
        old = signed_note.parse(kept)
    except signed_note.NoteError as error:
        return False, f"The kept checkpoint is not a signed note: {error}"
    keys = _public_keys(settings)
    if not signed_note.verified_by(old, old.origin, keys):
        return False, "The kept checkpoint's signature does not verify with the log's keys"
    with _session(settings) as session:
        row = checkpoints.latest(session)
        if row is None or row.size < old.size:
            return False, f"The log has no checkpoint of {old.size} entries or more"
        new = signed_note.parse(row.note)
        if not signed_note.verified_by(new, new.origin, keys):
            return False, f"The latest checkpoint ({new.size}) has a bad signature"
        proof = tree_store.consistency_proof(session, first=old.size, second=new.size)
    if not merkle.verify_consistency(
        first=old.size, second=new.size, first_root=old.root, second_root=new.root, proof=proof
    ):
        return False, (
            f"FAILED: the log of {new.size} entries does not extend the kept checkpoint of "
            f"{old.size}: entries up to {old.size} have been changed"
        )
    return True, f"OK: the log grew from {old.size} to {new.size} entries without changing any"


def proof_bundle(settings: Settings, seq: int) -> str:
    with _session(settings) as session:
        row = checkpoints.at_least(session, seq)
        if row is None:
            raise LookupError(f"No signed checkpoint covers entry {seq} yet")
        proof = proofs.inclusion(session=session, seq=seq, tree_size=row.size)
    keys = SigningKeys(settings.keys_dir).jwks()
    bundle = {
        "format": FORMAT,
        "proof": proof.model_dump(mode="json"),
        "checkpoint": row.note,
        "keys": {"keys": [k for k in keys["keys"] if k["helhed_use"] == "checkpoint"]},
    }
    return json.dumps(bundle, indent=2)
