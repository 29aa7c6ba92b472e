"""CPR numbers at rest: AES-GCM ciphertext to read them back, a keyed hash to look them up.

The keyed hash (HMAC-SHA256) lets the database find every record about a citizen without ever
holding the CPR in the clear; without the key, the hash cannot be reversed by trying all
~3.6 million valid CPR numbers, as a plain hash could.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.keys import load_keyring

_AAD = b"helhed:cpr:v1"


class CprProtector:
    def __init__(
        self,
        aead_keys: list[tuple[str, bytes]],
        lookup_key: bytes,
        reload: Callable[[], list[tuple[str, bytes]]] | None = None,
    ) -> None:
        # After `helhed keys rotate` another instance may encrypt with a key this one has not
        # read yet: on an unknown key id the keyring is read again.
        self._reload = reload
        if not aead_keys:
            raise ValueError("at least one AES key is required")
        self._current_kid, current = aead_keys[0]
        self._current = AESGCM(current)
        self._by_kid = {kid: AESGCM(key) for kid, key in aead_keys}
        self._lookup_key = lookup_key

    @classmethod
    def from_keys_dir(cls, keys_dir: Path) -> CprProtector:
        path = keys_dir / "cpr-aes.json"
        aead = load_keyring(path)
        # The look-up key never rotates: every stored hash would have to be recomputed.
        lookup = load_keyring(keys_dir / "cpr-lookup.json")[0][1]
        return cls(aead, lookup, reload=lambda: load_keyring(path))

    def encrypt(self, cpr: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._current.encrypt(nonce, cpr.encode("ascii"), _AAD)
        return f"{self._current_kid}.{base64.b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, token: str) -> str:
        kid, _, payload = token.partition(".")
        aead = self._by_kid.get(kid)
        if aead is None and self._reload is not None:
            self._by_kid.update({k: AESGCM(key) for k, key in self._reload()})
            aead = self._by_kid.get(kid)
        if aead is None:
            raise ValueError(f"no key {kid!r} to decrypt with")
        raw = base64.b64decode(payload)
        try:
            return aead.decrypt(raw[:12], raw[12:], _AAD).decode("ascii")
        except InvalidTag:
            raise ValueError("ciphertext does not authenticate") from None

    def lookup_hash(self, cpr: str) -> str:
        return hmac.new(self._lookup_key, cpr.encode("ascii"), hashlib.sha256).hexdigest()
