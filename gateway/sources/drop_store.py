"""The gateway's DropStore: imported exports in its own database, every fragment sealed.

Each fragment is AES-256-GCM ciphertext under the data folder's `keys/drop-aes.json` (newest
key encrypts, all decrypt), bound by its associated data to the source and the citizen's keyed
hash, so a sealed row moved to another citizen or source no longer opens. Rows are found by the
same keyed hash of the CPR the access log uses; the CPR itself is stored only inside the seal.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, delete, select

from adapters.csv_drop import ParsedExport, StoredExport
from adapters.protocol import Rejection
from gateway.db import read_session, write_session
from gateway.keys import load_keyring
from gateway.sources.models import DropExportRow, DropFragmentRow
from schemas.fragment import Fragment


class FragmentSeal:
    def __init__(self, keys: list[tuple[str, bytes]]) -> None:
        self._kid, current = keys[0]
        self._current = AESGCM(current)
        self._by_kid = {kid: AESGCM(key) for kid, key in keys}

    @classmethod
    def from_keys_dir(cls, keys_dir: Path) -> FragmentSeal:
        return cls(load_keyring(keys_dir / "drop-aes.json"))

    @staticmethod
    def _aad(source: str, citizen_hash: str) -> bytes:
        return f"helhed:drop:v1:{source}:{citizen_hash}".encode()

    def seal(self, fragment: Fragment, citizen_hash: str) -> str:
        nonce = secrets.token_bytes(12)
        plain = fragment.model_dump_json().encode()
        sealed = self._current.encrypt(nonce, plain, self._aad(fragment.source, citizen_hash))
        return f"{self._kid}.{base64.b64encode(nonce + sealed).decode('ascii')}"

    def open(self, token: str, source: str, citizen_hash: str) -> Fragment:
        kid, _, payload = token.partition(".")
        aead = self._by_kid.get(kid)
        if aead is None:
            raise ValueError(f"no key {kid!r} to open a stored fragment with")
        raw = base64.b64decode(payload)
        try:
            plain = aead.decrypt(raw[:12], raw[12:], self._aad(source, citizen_hash))
        except InvalidTag:
            raise ValueError("a stored fragment does not authenticate") from None
        return Fragment.model_validate_json(plain)


class SqlDropStore:
    def __init__(
        self,
        *,
        engine: Engine,
        seal: FragmentSeal,
        lookup_hash: Callable[[str], str],
        now: Callable[[], datetime],
    ) -> None:
        self._engine = engine
        self._seal = seal
        self._lookup = lookup_hash
        self._now = now

    def current(self, source: str) -> StoredExport | None:
        with read_session(self._engine) as session:
            row = session.get(DropExportRow, source)
            if row is None:
                return None
            return StoredExport(
                file_name=row.file_name,
                exported_at=_aware(row.exported_at),
                sha256=row.sha256,
                imported_at=_aware(row.imported_at),
                rows=row.rows,
                imported=row.imported,
                rejected=[Rejection(r["line"], r["problem"]) for r in json.loads(row.rejected)],
            )

    def replace(self, source: str, export: ParsedExport) -> None:
        # Sealed before the transaction: the write lock is held only for the inserts.
        rows = []
        for fragment in export.fragments:
            citizen_hash = self._lookup(fragment.citizen)
            rows.append(
                DropFragmentRow(
                    source=source,
                    citizen_hash=citizen_hash,
                    category=fragment.category,
                    sealed=self._seal.seal(fragment, citizen_hash),
                )
            )
        report = json.dumps([{"line": r.record, "problem": r.problem} for r in export.rejected])
        with write_session(self._engine) as session:
            session.execute(delete(DropFragmentRow).where(DropFragmentRow.source == source))
            session.execute(delete(DropExportRow).where(DropExportRow.source == source))
            session.add_all(rows)
            session.add(
                DropExportRow(
                    source=source,
                    file_name=export.file.path.name,
                    sha256=export.file.sha256,
                    exported_at=export.file.exported_at.astimezone(UTC),
                    imported_at=self._now().astimezone(UTC),
                    rows=export.rows,
                    imported=len(export.fragments),
                    rejected=report,
                )
            )

    def fragments(self, source: str, citizen: str, categories: frozenset[str]) -> list[Fragment]:
        citizen_hash = self._lookup(citizen)
        with read_session(self._engine) as session:
            sealed = session.scalars(
                select(DropFragmentRow.sealed)
                .where(DropFragmentRow.source == source)
                .where(DropFragmentRow.citizen_hash == citizen_hash)
                .where(DropFragmentRow.category.in_(sorted(categories)))  # type: ignore[attr-defined]
                .order_by(DropFragmentRow.id)  # type: ignore[arg-type]
            ).all()
        return [self._seal.open(token, source, citizen_hash) for token in sealed]


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything is stored in UTC, so they are UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
