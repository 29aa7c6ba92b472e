"""Key material in the data folder, created on first use with owner-only permissions."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path


def _write_private(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # O_EXCL: two processes starting at once must not each write a different key.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)


def load_or_create(path: Path, create: Callable[[], str]) -> str:
    """The file's content; on first use, `create()` is written there, exactly once."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        pass
    with contextlib.suppress(FileExistsError):  # another process won the race: use its key
        _write_private(path, create())
    return path.read_text(encoding="utf-8")


def new_symmetric_keyring() -> str:
    key = secrets.token_bytes(32)
    kid = secrets.token_hex(4)
    return json.dumps({"keys": [{"kid": kid, "key": base64.b64encode(key).decode()}]}, indent=2)


def load_keyring(path: Path) -> list[tuple[str, bytes]]:
    """(key id, key) pairs, newest first: the first encrypts, all decrypt."""
    document = json.loads(load_or_create(path, new_symmetric_keyring))
    return [(item["kid"], base64.b64decode(item["key"])) for item in document["keys"]]


def rotate_symmetric_keyring(path: Path) -> str:
    """Put a new key in front of the keyring (it encrypts from now on); the old ones stay, so
    everything they encrypted can still be read. Returns the new key's id."""
    document = json.loads(load_or_create(path, new_symmetric_keyring))
    new = json.loads(new_symmetric_keyring())["keys"][0]
    document["keys"].insert(0, new)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(document, indent=2))
    temporary.replace(path)
    return str(new["kid"])
