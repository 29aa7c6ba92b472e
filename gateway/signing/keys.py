"""Ed25519 signing keys, one keyring per use, and their public JWKS.

Uses: `receipt` (the compact JWS a citizen keeps for a consent) and `checkpoint` (the access
log's signed checkpoints). A keyring lists its keys newest first: the first signs, all verify,
so a rotated key keeps old receipts and checkpoints verifiable. Where a keyring comes from, and
how a rotation reaches running gateways, is `gateway.keys`'s business.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from joserfc.jwk import OKPKey

from gateway.keys import KeyFile

USES = ("receipt", "checkpoint")


def _new_keyring() -> str:
    key = OKPKey.generate_key("Ed25519", auto_kid=True)
    return json.dumps({"keys": [key.as_dict(private=True)]}, indent=2)


class SigningKeys:
    def __init__(self, keys_dir: Path, environ: Mapping[str, str] | None = None) -> None:
        self._files = {
            use: KeyFile(keys_dir / f"{use}-ed25519.json", _new_keyring, environ) for use in USES
        }
        self._rings: dict[str, tuple[str, list[OKPKey]]] = {}

    def file(self, use: str) -> KeyFile:
        if use not in USES:
            raise ValueError(f"unknown key use {use!r}")
        return self._files[use]

    def keyring(self, use: str) -> list[OKPKey]:
        document = self.file(use).read()
        parsed = self._rings.get(use)
        if parsed is None or parsed[0] is not document:
            keys = [OKPKey.import_key(item) for item in json.loads(document)["keys"]]
            self._rings[use] = parsed = (document, keys)
        return parsed[1]

    def current(self, use: str) -> OKPKey:
        """The key that signs from now on."""
        return self.keyring(use)[0]

    def rotated(self, use: str) -> tuple[OKPKey, str]:
        """A new signing key in front of the keyring, and the keyring's new document; older
        keys stay for verification."""
        new = OKPKey.generate_key("Ed25519", auto_kid=True)
        ring = [new, *self.keyring(use)]
        return new, json.dumps({"keys": [key.as_dict(private=True) for key in ring]}, indent=2)

    def rotate(self, use: str) -> OKPKey:
        """Rotate and store the keyring (a keyring given inline in the environment cannot be)."""
        new, document = self.rotated(use)
        self.file(use).write(document)
        return new

    def jwks(self) -> dict[str, Any]:
        """Every public key of every use, for anyone to verify receipts and checkpoints."""
        keys = []
        for use in USES:
            for key in self.keyring(use):
                public = key.as_dict(private=False)
                keys.append(
                    {
                        **public,
                        "use": "sig",
                        "alg": "EdDSA",
                        "key_ops": ["verify"],
                        "helhed_use": use,
                    }
                )
        return {"keys": keys}
