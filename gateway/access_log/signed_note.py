"""C2SP signed notes and checkpoints (c2sp.org/signed-note, c2sp.org/tlog-checkpoint).

A checkpoint is the text "<origin>\\n<tree size>\\n<base64 root>\\n", then a blank line, then one
line per signature: "— <key name> <base64(key hash[4] || Ed25519 signature[64])>". The key hash
is SHA-256(key name || "\\n" || 0x01 || public key)[:4]; the signature covers the text.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

_ED25519 = b"\x01"
_DASH = "\u2014 "


class NoteError(ValueError):
    """The text is not a well-formed checkpoint."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    text: str  # the signed part
    signatures: tuple[tuple[str, bytes, bytes], ...]  # (key name, key hash, signature)


def key_hash(name: str, public_key: Ed25519PublicKey) -> bytes:
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(name.encode("utf-8") + b"\n" + _ED25519 + raw).digest()[:4]


def checkpoint_text(origin: str, size: int, root: bytes) -> str:
    return f"{origin}\n{size}\n{base64.b64encode(root).decode('ascii')}\n"


def sign(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    signature = private_key.sign(text.encode("utf-8"))
    blob = key_hash(name, private_key.public_key()) + signature
    return f"{text}\n{_DASH}{name} {base64.b64encode(blob).decode('ascii')}\n"


def parse(note: str) -> Checkpoint:
    text, separator, signature_block = note.partition("\n\n")
    if not separator or not text:
        raise NoteError("a signed note has its text, a blank line and signature lines")
    text += "\n"
    lines = text.split("\n")[:-1]
    if len(lines) < 3:
        raise NoteError("a checkpoint has an origin, a tree size and a root hash")
    origin, size_line, root_line = lines[:3]
    decimal = size_line.isascii() and size_line.isdigit()
    if not decimal or (size_line != "0" and size_line.startswith("0")):
        raise NoteError("the tree size is not a decimal number")
    # A tree size is a uint64 (c2sp.org/tlog-checkpoint); int() of thousands of digits would
    # raise a ValueError of its own, not this parser's NoteError.
    if len(size_line) > 20 or int(size_line) >= 2**64:
        raise NoteError("the tree size is larger than 64 bits")
    try:
        root = base64.b64decode(root_line, validate=True)
    except ValueError:
        raise NoteError("the root hash is not base64") from None
    if len(root) != 32:
        raise NoteError("the root hash is not 32 bytes")
    signatures = []
    for line in signature_block.rstrip("\n").split("\n"):
        if not line.startswith(_DASH):
            raise NoteError("a signature line starts with an em dash")
        name, _, encoded = line[len(_DASH) :].rpartition(" ")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise NoteError("a signature is not base64") from None
        if len(blob) != 4 + 64:
            raise NoteError("an Ed25519 signature line holds 68 bytes")
        signatures.append((name, blob[:4], blob[4:]))
    return Checkpoint(origin, int(size_line), root, text, tuple(signatures))


def verified_by(checkpoint: Checkpoint, name: str, keys: list[Ed25519PublicKey]) -> bool:
    """True when one of the keys, under `name`, has signed the checkpoint."""
    by_hash = {key_hash(name, key): key for key in keys}
    for signer, hash_, signature in checkpoint.signatures:
        key = by_hash.get(hash_) if signer == name else None
        if key is None:
            continue
        try:
            key.verify(signature, checkpoint.text.encode("utf-8"))
        except InvalidSignature:
            return False
        return True
    return False
