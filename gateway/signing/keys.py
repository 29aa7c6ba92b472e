"""Ed25519 signing keys in the data folder, one keyring per use, and their public JWKS.

Uses: `receipt` (the compact JWS a citizen keeps for a consent) and `checkpoint` (the access
log's signed checkpoints). A keyring lists its keys newest first: the first signs, all verify,
so a rotated key keeps old receipts and checkpoints verifiable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from joserfc.jwk import OKPKey

from gateway.keys import load_or_create

USES = ("receipt", "checkpoint")


def _new_keyring() -> str:
    key = OKPKey.generate_key("Ed25519", auto_kid=True)
    return json.dumps({"keys": [key.as_dict(private=True)]}, indent=2)


class SigningKeys:
    def __init__(self, keys_dir: Path) -> None:
        self._keys_dir = keys_dir
        self._rings: dict[str, list[OKPKey]] = {}

    def _path(self, use: str) -> Path:
        if use not in USES:
            raise ValueError(f"unknown key use {use!r}")
        return self._keys_dir / f"{use}-ed25519.json"

    def keyring(self, use: str) -> list[OKPKey]:
        if use not in self._rings:
            document = json.loads(load_or_create(self._path(use), _new_keyring))
            self._rings[use] = [OKPKey.import_key(item) for item in document["keys"]]
        return self._rings[use]

    def current(self, use: str) -> OKPKey:
        """The key that signs from now on."""
        return self.keyring(use)[0]

    def rotate(self, use: str) -> OKPKey:
        """Add a new signing key in front; older keys stay for verification."""
        ring = self.keyring(use)
        new = OKPKey.generate_key("Ed25519", auto_kid=True)
        document = {"keys": [key.as_dict(private=True) for key in [new, *ring]]}
        path = self._path(use)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(document, indent=2), encoding="utf-8")
        temporary.chmod(0o600)
        temporary.replace(path)
        self._rings[use] = [new, *ring]
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
