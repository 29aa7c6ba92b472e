"""`helhed db backup` and `helhed db restore`: a consistent copy taken while the gateway serves,
and a restore into an empty database that ends with the access log's full verification.

SQLite: the sqlite3 online backup API, in one step, so the copy is one moment of the database
(writers wait for the few milliseconds it takes per megabyte). PostgreSQL: pg_dump in its
custom format, reading the snapshot of a transaction that also reads the log's head, so the
manifest names exactly the head the dump holds; pg_restore in one transaction.

Each backup FILE gets a manifest FILE.json beside it: when, from which backend, the log's size
and root, the newest signed checkpoint. Keys are not in the backup (see docs/operations.md).
"""

# No `from __future__ import annotations`: typer reads the commands' annotations, and the
# config option's type comes from gateway.cli as a value (see `register`).
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from gateway.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)

_SQLITE_MAGIC = b"SQLite format 3\x00"
_PG_DUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """Something the operator must fix; the message says what."""


@dataclass(frozen=True)
class Manifest:
    created_at: str
    backend: str
    log_entries: int
    log_root: str
    checkpoint_size: int
    format: str = "helhed-backup/1"

    @classmethod
    def read(cls, path: Path) -> "Manifest | None":
        sidecar = manifest_path(path)
        if not sidecar.exists():
            return None
        try:
            data = json.loads(sidecar.read_text(encoding="utf-8"))
            return cls(**{key: data[key] for key in cls.__dataclass_fields__})
        except (ValueError, KeyError, TypeError) as error:
            raise BackupError(f"{sidecar} is not a backup manifest ({error})") from None


def manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + ".json")


def _log_state(connection: "Connection", backend: str) -> Manifest:
    from sqlalchemy import text

    size, root = connection.execute(text("SELECT size, head_hash FROM log_head WHERE id = 1")).one()
    checkpoint = connection.execute(text("SELECT max(size) FROM log_checkpoint")).scalar()
    return Manifest(
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        backend=backend,
        log_entries=int(size),
        log_root=str(root),
        checkpoint_size=int(checkpoint or 0),
    )


def _read_only(path: Path) -> str:
    """A URI that opens the file read-only (quoted, so any file name works)."""
    return f"{path.resolve().as_uri()}?mode=ro"


def _sqlite_path(url: str) -> Path:
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(database)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL pg_dump understands, and the password for its environment (not its argv,
    which every user of the machine can read in `ps`)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    env = {**os.environ}
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not on PATH: install the PostgreSQL client tools of the server's "
            f"major version or newer (Debian: apt-get install postgresql-client)"
        )
    return found


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()}")


def backup(*, engine: "Engine", target: Path) -> Manifest:
    """Copy the database to `target` (which must not exist) while it serves."""
    if target.exists():
        raise BackupError(f"{target} exists already; a backup never overwrites one")
    backend = engine.dialect.name
    if backend == "sqlite":
        manifest = _backup_sqlite(_sqlite_path(str(engine.url)), target)
    elif backend == "postgresql":
        manifest = _backup_postgres(engine, target)
    else:
        raise BackupError(f"no backup for {backend} databases")
    manifest_path(target).write_text(json.dumps(asdict(manifest), indent=2), encoding="utf-8")
    return manifest


def _backup_sqlite(source: Path, target: Path) -> Manifest:
    if not source.exists():
        raise BackupError(f"no database at {source}")
    partial = target.with_name(target.name + ".partial")
    with sqlite3.connect(_read_only(source), uri=True) as live:
        copy = sqlite3.connect(partial)
        try:
            live.backup(copy)  # all pages in one step: one consistent moment
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            from gateway.db import make_engine

            engine = make_engine(f"sqlite:///{partial}")
            try:
                with engine.connect() as connection:
                    manifest = _log_state(connection, "sqlite")
            finally:
                engine.dispose()
        finally:
            copy.close()
    partial.rename(target)  # nothing half-written under the backup's name
    return manifest


def _backup_postgres(engine: "Engine", target: Path) -> Manifest:
    from sqlalchemy import text

    pg_dump = _tool("pg_dump")
    url, env = _libpq(str(engine.url))
    partial = target.with_name(target.name + ".partial")
    connect = engine.connect().execution_options(isolation_level="REPEATABLE READ")
    with connect as connection, connection.begin():
        # pg_dump reads this very snapshot: the manifest's head is the dump's head.
        snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        manifest = _log_state(connection, "postgresql")
        command = [pg_dump, "--format=custom", f"--snapshot={snapshot}", "--no-owner"]
        _run([*command, f"--file={partial}", f"--dbname={url}"], env)
    partial.rename(target)
    return manifest


def _kind_of(path: Path) -> str:
    with path.open("rb") as file:
        start = file.read(len(_SQLITE_MAGIC))
    if start.startswith(_SQLITE_MAGIC):
        return "sqlite"
    if start.startswith(_PG_DUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is neither a SQLite database nor a pg_dump archive")


def restore(*, engine: "Engine", source: Path) -> None:
    """Put a backup into the configured database, which must be empty."""
    from sqlalchemy import inspect

    if not source.is_file():
        raise BackupError(f"no backup at {source}")
    kind, backend = _kind_of(source), engine.dialect.name
    if kind != backend:
        raise BackupError(
            f"{source} is a {kind} backup and the configured database is {backend}: restore "
            "into a database of the kind it came from"
        )
    if tables := inspect(engine).get_table_names():
        raise BackupError(
            f"the configured database is not empty ({len(tables)} tables, e.g. {tables[0]}): "
            "restore into a new, empty database"
        )
    if backend == "sqlite":
        engine.dispose()  # no connection of ours open on the file while it is written
        _restore_sqlite(source, _sqlite_path(str(engine.url)))
    else:
        url, env = _libpq(str(engine.url))
        command = [_tool("pg_restore"), "--single-transaction", "--exit-on-error", "--no-owner"]
        _run([*command, f"--dbname={url}", str(source)], env)


def _restore_sqlite(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(_read_only(source), uri=True) as kept:
        live = sqlite3.connect(target)
        try:
            kept.backup(live)
        finally:
            live.close()


# --- the commands ----------------------------------------------------------------------------

BackupFile = Annotated[Path, typer.Argument(help="The backup file", dir_okay=False)]


def register(
    db_app: typer.Typer, settings_of: Callable[[Path | None], Settings], config_option: Any
) -> None:
    """Adds `backup` and `restore` to `helhed db`, with the CLI's own --config option."""

    @db_app.command("backup")
    def db_backup(target: BackupFile, config: config_option = None) -> None:
        """Copy the database to FILE while the gateway serves (FILE.json: the log's head)."""
        from gateway.db import make_engine

        settings = settings_of(config)
        engine = make_engine(settings.sqlalchemy_url)
        try:
            manifest = backup(engine=engine, target=target)
        except BackupError as error:
            errors.print(f"[red]Backup failed[/red]: {error}")
            raise typer.Exit(2) from None
        finally:
            engine.dispose()
        console.print(
            f"[green]Backed up[/green] to {target}: {manifest.log_entries} access-log entries, "
            f"root {manifest.log_root}, signed up to {manifest.checkpoint_size}. Keep the key "
            "folder's backup apart from this one."
        )

    @db_app.command("restore")
    def db_restore(source: BackupFile, config: config_option = None) -> None:
        """Restore FILE into the configured (empty) database and verify the access log."""
        from gateway.access_log.commands import verify_all
        from gateway.db import make_engine
        from gateway.migrate import upgrade

        settings = settings_of(config)
        engine = make_engine(settings.sqlalchemy_url)
        try:
            expected = Manifest.read(source)  # an unreadable manifest stops us before writing
            restore(engine=engine, source=source)
            upgrade(engine)  # a backup from an older version gets the newest schema
            with engine.connect() as connection:
                restored = _log_state(connection, engine.dialect.name)
        except BackupError as error:
            errors.print(f"[red]Restore failed[/red]: {error}")
            raise typer.Exit(2) from None
        finally:
            engine.dispose()
        report = verify_all(settings)
        if expected is not None and (expected.log_entries, expected.log_root) != (
            restored.log_entries,
            restored.log_root,
        ):
            errors.print(
                f"[red]FAILED[/red]: the backup's manifest names {expected.log_entries} entries "
                f"with root {expected.log_root}; the restored log has {restored.log_entries} "
                f"with root {restored.log_root}"
            )
            raise typer.Exit(1)
        if not report.ok:
            errors.print(
                f"[red]FAILED[/red]: restored, but the access log does not verify at entry "
                f"{report.first_bad}: {report.reason}"
            )
            raise typer.Exit(1)
        console.print(
            f"[green]Restored and verified[/green]: {report.entries} entries, "
            f"{report.checkpoints} signed checkpoints, root {report.head}"
        )
