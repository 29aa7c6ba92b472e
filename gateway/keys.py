"""Key material: each keyring is one JSON document, found in the environment or in the key folder.

For a keyring whose file is `<key folder>/cpr-aes.json` (say), in this order:
- `HELHED_KEY_CPR_AES`: the document itself (a secret injected by the platform);
- `HELHED_KEY_CPR_AES_FILE`: the path of a file holding it (a mounted secret);
- the file in the key folder, created with owner-only permissions on first use.

A running gateway looks at most once a second whether a keyring's file has changed, so
`helhed keys rotate` takes effect without a restart. A document given inline in the environment
cannot change while the process runs; rotating it means setting the variable anew.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import json
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

ENV_PREFIX = "HELHED_KEY_"
RECHECK_SECONDS = 1.0


def env_name(path: Path) -> str:
    """The environment variable that may hold the keyring kept at `path`."""
    return ENV_PREFIX + path.stem.upper().replace("-", "_")


def _write_temporary(path: Path, content: str) -> Path:
    """The content, whole and on disk (fsync), in a new owner-only file of its own beside
    `path`; on a full disk nothing is left behind (found by the full-disk fault test: a key
    file written in place was left empty, and no later start could read it)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _write_private(path: Path, content: str) -> None:
    """Create the file, whole, or raise FileExistsError: two processes starting at once (several
    instances on one key folder) must not each write a different key, nor read one half-written."""
    temporary = _write_temporary(path, content)
    try:
        os.link(temporary, path)  # appears with all its content at once, or not at all
    finally:
        temporary.unlink()


def replace_whole(path: Path, content: str) -> None:
    """Write a new version whole: readers see the old file or the new one, never half (a
    temporary file of its own per writer, so concurrent writers never share one)."""
    _write_temporary(path, content).replace(path)


class KeyFile:
    """One keyring document and where it comes from (see the module's docstring)."""

    def __init__(
        self,
        path: Path,
        create: Callable[[], str],
        environ: Mapping[str, str] | None = None,
    ) -> None:
        environ = os.environ if environ is None else environ
        self._name = name = env_name(path)
        self.inline = environ.get(name)
        given = environ.get(f"{name}_FILE")
        self.path = Path(given) if given else path
        self.source = f"${name}" if self.inline is not None else str(self.path)
        self._create = create if not given else None  # a mounted secret is never made up
        self._lock = threading.Lock()
        self._document: str | None = None
        self._stamp: tuple[int, int, int] | None = None
        self._checked = 0.0

    def read(self, fresh: bool = False) -> str:
        """The document now; a file that has changed since the last read is read again.

        The file is looked at at most once a second, unless `fresh` (a key id nobody here knows
        has turned up)."""
        if self.inline is not None:
            return self.inline
        with self._lock:
            now = time.monotonic()
            recent = now - self._checked < RECHECK_SECONDS
            if self._document is not None and recent and not fresh:
                return self._document
            self._checked = now
            stamp = self._stat()
            if self._document is None or stamp != self._stamp:
                self._document = self._load()
                self._stamp = self._stat()
            return self._document

    def write(self, content: str) -> None:
        if self.inline is not None:
            raise PermissionError(
                errno.EACCES, f"the keyring comes from {self.source} and cannot be written"
            )
        replace_whole(self.path, content)
        with self._lock:
            self._document, self._stamp = content, self._stat()

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime_ns, stat.st_size, stat.st_ino

    def _load(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            if self._create is None:
                raise FileNotFoundError(
                    f"{self.path}: no such key file (named by ${self._name}_FILE)"
                ) from None
        with contextlib.suppress(FileExistsError):  # another process won the race: use its key
            _write_private(self.path, self._create())
        return self.path.read_text(encoding="utf-8")


def load_or_create(path: Path, create: Callable[[], str]) -> str:
    """The keyring's document, from the environment or the file; created there on first use."""
    return KeyFile(path, create).read()


def new_symmetric_keyring() -> str:
    key = secrets.token_bytes(32)
    kid = secrets.token_hex(4)
    return json.dumps({"keys": [{"kid": kid, "key": base64.b64encode(key).decode()}]}, indent=2)


def symmetric_keyring(path: Path) -> KeyFile:
    return KeyFile(path, new_symmetric_keyring)


def parse_symmetric(document: str) -> list[tuple[str, bytes]]:
    """(key id, key) pairs, newest first: the first encrypts, all decrypt."""
    return [(item["kid"], base64.b64decode(item["key"])) for item in json.loads(document)["keys"]]


def load_keyring(path: Path) -> list[tuple[str, bytes]]:
    return parse_symmetric(symmetric_keyring(path).read())


def rotated_symmetric(document: str) -> tuple[str, str]:
    """A new key in front of the keyring (it encrypts from now on); the old ones stay, so
    everything they encrypted can still be read. Returns the new key's id and document."""
    rotated = json.loads(document)
    new = json.loads(new_symmetric_keyring())["keys"][0]
    rotated["keys"].insert(0, new)
    return str(new["kid"]), json.dumps(rotated, indent=2)
