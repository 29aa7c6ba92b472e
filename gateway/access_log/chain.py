"""The hash chain, as plain functions: canonical bytes in, hashes out.

entry hash = SHA-256(previous entry's hash || canonical JSON of the entry); the first entry's
previous hash is 32 zero bytes. Canonical JSON: keys sorted, no insignificant whitespace,
ASCII only, so the bytes never depend on the platform or the database's text encoding.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from schemas.access import AccessEntryBody


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def canonical_body(body: AccessEntryBody) -> str:
    return canonical_json(body.model_dump(mode="json"))


def chain_hash(previous_hex: str, canonical: str) -> str:
    return hashlib.sha256(bytes.fromhex(previous_hex) + canonical.encode("ascii")).hexdigest()
