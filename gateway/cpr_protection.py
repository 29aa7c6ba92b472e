"""CPR numbers at rest: AES-GCM ciphertext to read them back, a keyed hash to look them up.

The keyed hash (HMAC-SHA256) lets the database find every record about a citizen without ever
holding the CPR in the clear; without the key, the hash cannot be reversed by trying all
~3.6 million valid CPR numbers, as a plain hash could.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.keys import KeyFile, load_keyring, parse_symmetric, symmetric_keyring

_AAD = b"helhed:cpr:v1"


class CprProtector:
    def __init__(
        self,
        aead_keys: list[tuple[str, bytes]],
        lookup_key: bytes,
        source: Callable[[bool], str] | None = None,
    ) -> None:
        # After `helhed keys rotate` this instance encrypts with the new key once it sees the
        # keyring changed, and another instance may already have: `source` gives the keyring's
        # document now, and it is parsed again whenever it changes.
        self._source = source
        self._document: str | None = None
        if not aead_keys:
            raise ValueError("at least one AES key is required")
        self._by_kid: dict[str, AESGCM] = {}
        self._use(aead_keys)
        self._lookup_key = lookup_key

    @classmethod
    def from_keys_dir(cls, keys_dir: Path) -> CprProtector:
        aead: KeyFile = symmetric_keyring(keys_dir / "cpr-aes.json")
        # The look-up key never rotates: every stored hash would have to be recomputed.
        lookup = load_keyring(keys_dir / "cpr-lookup.json")[0][1]
        document = aead.read()
        protector = cls(parse_symmetric(document), lookup, source=aead.read)
        protector._document = document  # parsed above; parsed again only once it changes
        return protector

    def _use(self, keys: list[tuple[str, bytes]]) -> None:
        self._current_kid, current = keys[0]
        self._current = AESGCM(current)
        self._by_kid.update({kid: AESGCM(key) for kid, key in keys})

    def _refresh(self, fresh: bool = False) -> None:
        if self._source is None:
            return
        document = self._source(fresh)
        if document is not self._document:
            self._use(parse_symmetric(document))
            self._document = document

    def encrypt(self, cpr: str) -> str:
        self._refresh()
        nonce = secrets.token_bytes(12)
        sealed = self._current.encrypt(nonce, cpr.encode("ascii"), _AAD)
        return f"{self._current_kid}.{base64.b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, token: str) -> str:
        kid, _, payload = token.partition(".")
        aead = self._by_kid.get(kid)
        if aead is None:
            self._refresh(fresh=True)
            aead = self._by_kid.get(kid)
        if aead is None:
            raise ValueError(f"no key {kid!r} to decrypt with")
        raw = base64.b64decode(payload)
        try:
            return aead.decrypt(raw[:12], raw[12:], _AAD).decode("ascii")
        except InvalidTag:
            raise ValueError("ciphertext does not authenticate") from None

    def lookup_hash(self, cpr: str) -> str:
        return hmac.digest(self._lookup_key, cpr.encode("ascii"), "sha256").hex()  # C, one shot
