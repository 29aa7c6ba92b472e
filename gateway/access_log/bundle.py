"""Proof bundles: one entry, its inclusion proof, the signed checkpoint and the public keys,
in one JSON document that anyone can check offline (`helhed audit check`)."""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.access_log import merkle, signed_note

FORMAT = "helhed-proof-bundle/1"


def public_key_from_jwk(jwk: dict[str, Any]) -> Ed25519PublicKey:
    raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
    return Ed25519PublicKey.from_public_bytes(raw)


def check_bundle(text: str) -> tuple[bool, str]:
    """(ok, what was checked or what failed)."""
    try:
        bundle = json.loads(text)
        if bundle.get("format") != FORMAT:
            return False, f"not a {FORMAT} document"
        note = signed_note.parse(bundle["checkpoint"])
        keys = [public_key_from_jwk(k) for k in bundle["keys"]["keys"] if k.get("kty") == "OKP"]
        proof = bundle["proof"]
        leaf = base64.b64decode(proof["leaf_hash"])
        hashes = [base64.b64decode(h) for h in proof["hashes"]]
        entry = base64.b64decode(proof["entry"]) if proof.get("entry") else None
    except (ValueError, KeyError, TypeError) as error:
        return False, f"malformed bundle: {error}"
    if not signed_note.verified_by(note, note.origin, keys):
        return False, "the checkpoint's signature does not verify with the given keys"
    if note.size != proof["tree_size"]:
        return False, "the proof is for another tree size than the checkpoint"
    if entry is not None and merkle.leaf_hash(entry) != leaf:
        return False, "the entry does not hash to the leaf"
    if not merkle.verify_inclusion(
        index=proof["leaf_index"], size=note.size, leaf=leaf, proof=hashes, root=note.root
    ):
        return False, "the inclusion proof does not lead to the checkpoint's root"
    return True, (
        f"OK: entry {proof['leaf_index'] + 1} is in {note.origin}'s tree of {note.size} "
        "entries, whose root is signed"
    )
