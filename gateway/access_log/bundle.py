"""Proof bundles: one entry, its inclusion proof, the signed checkpoint and the public keys,
in one JSON document that anyone can check offline (`helhed audit check`)."""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, Field, StrictInt, StrictStr, ValidationError

from gateway.access_log import merkle, signed_note

FORMAT = "helhed-proof-bundle/1"


class _Proof(BaseModel):
    leaf_index: StrictInt = Field(ge=0)
    tree_size: StrictInt = Field(ge=1)
    leaf_hash: StrictStr
    hashes: list[StrictStr]
    entry: StrictStr | None = None


class _KeySet(BaseModel):
    keys: list[dict[str, Any]]


class _Bundle(BaseModel):
    """The bundle's shape; anything else in a document handed to `audit check` is malformed."""

    format: StrictStr
    proof: _Proof
    checkpoint: StrictStr
    keys: _KeySet


def public_key_from_jwk(jwk: dict[str, Any]) -> Ed25519PublicKey:
    raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
    return Ed25519PublicKey.from_public_bytes(raw)


def check_bundle(text: str) -> tuple[bool, str]:
    """(ok, what was checked or what failed)."""
    try:
        document = json.loads(text)
    except ValueError as error:
        return False, f"malformed bundle: {error}"
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return False, f"not a {FORMAT} document"
    try:
        bundle = _Bundle.model_validate(document)
        note = signed_note.parse(bundle.checkpoint)
        keys = [public_key_from_jwk(k) for k in bundle.keys.keys if k.get("kty") == "OKP"]
        proof = bundle.proof
        leaf = base64.b64decode(proof.leaf_hash, validate=True)
        hashes = [base64.b64decode(h, validate=True) for h in proof.hashes]
        entry = base64.b64decode(proof.entry, validate=True) if proof.entry else None
    except ValidationError as error:
        return False, f"malformed bundle: {describe(error)}"
    except (ValueError, KeyError, TypeError) as error:
        return False, f"malformed bundle: {error}"
    if not signed_note.verified_by(note, note.origin, keys):
        return False, "the checkpoint's signature does not verify with the given keys"
    if note.size != proof.tree_size:
        return False, "the proof is for another tree size than the checkpoint"
    if entry is not None and merkle.leaf_hash(entry) != leaf:
        return False, "the entry does not hash to the leaf"
    if not merkle.verify_inclusion(
        index=proof.leaf_index, size=note.size, leaf=leaf, proof=hashes, root=note.root
    ):
        return False, "the inclusion proof does not lead to the checkpoint's root"
    return True, (
        f"OK: entry {proof.leaf_index + 1} is in {note.origin}'s tree of {note.size} "
        "entries, whose root is signed"
    )


def describe(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
