"""The `helhed` command: serve, demo, token, db upgrade, audit verify."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from gateway.backup import register as register_backup
from gateway.settings import ConfigError, Settings, found_config_file, load_settings

app = typer.Typer(
    help="Helhed: consent-aware data sharing between municipal departments.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
audit_app = typer.Typer(help="The access log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
sources_app = typer.Typer(help="The department systems.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
keys_app = typer.Typer(help="Signing and encryption keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

console = Console()
errors = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        envvar="HELHED_CONFIG",
        help="TOML configuration file; HELHED_* environment variables override it",
        dir_okay=False,
    ),
]


def _settings(config: Path | None, **overrides: object) -> Settings:
    if config is None and (config := found_config_file()) is not None:
        errors.print(f"Configuration: {config}", highlight=False)
    try:
        return load_settings(config, **overrides)
    except ConfigError as error:
        errors.print(f"[red]Configuration error[/red]\n{escape(str(error))}", highlight=False)
        raise typer.Exit(2) from None


register_backup(db_app, _settings, ConfigOption)  # `helhed db backup` and `db restore`


@app.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Worker processes sharing the port; each has its own connection pool "
            "(several instances on one PostgreSQL: see docs/configuration.md)",
        ),
    ] = 1,
) -> None:
    """Run the gateway (the database is upgraded first)."""
    import os

    import uvicorn

    from adapters.registry import SourceConfigError
    from gateway.app import create_app
    from gateway.logging_setup import install_cpr_redaction, logging_config
    from gateway.migrate import upgrade
    from gateway.ops.heap import settle_after_start_up
    from gateway.ops.metrics import prepare_multiprocess_dir
    from gateway.runtime import build_runtime
    from gateway.serve_worker import CONFIG_ENV

    settings = _settings(config)
    if config is None:
        config = found_config_file()
    origin = config or "environment"
    try:
        runtime = build_runtime(settings)
        app = create_app(runtime)  # also checks the [scheduler] periods name known jobs
    except (SourceConfigError, ConfigError) as error:  # names the item; we add the file
        errors.print(
            f"[red]Configuration error[/red]\n{escape(f'{origin}: {error}')}", highlight=False
        )
        raise typer.Exit(2) from None
    upgrade(runtime.engine)
    log_config = logging_config(settings.log_format, settings.log_level)
    if workers > 1:
        # Each worker builds its own runtime from the same configuration, in its own process.
        runtime.engine.dispose()
        os.environ[CONFIG_ENV] = str(config or "")
        prepare_multiprocess_dir(settings.home)  # /metrics sums every worker's counters
        uvicorn.run(
            "gateway.serve_worker:worker_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=log_config,
        )
        return
    server_config = uvicorn.Config(app, host=host, port=port, log_config=log_config)
    install_cpr_redaction()  # after uvicorn has made its log handlers
    settle_after_start_up()
    uvicorn.Server(server_config).run()


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port for the gateway")] = 8000,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
) -> None:
    """The gateway, four simulated department systems and sample citizens, on loopback."""
    from demo.run import run_demo

    run_demo(host=host, port=port)


@app.command()
def token(
    subject: Annotated[str, typer.Option(help="The user's id (sub)")],
    role: Annotated[list[str], typer.Option(help="caseworker, dpo, itops or citizen; repeatable")],
    name: Annotated[str | None, typer.Option(help="Display name")] = None,
    department: Annotated[str | None, typer.Option(help="Department slug")] = None,
    ttl_minutes: Annotated[int | None, typer.Option(help="Lifetime in minutes")] = None,
    config: ConfigOption = None,
    cpr: Annotated[str | None, typer.Option(help="A citizen's own CPR (role citizen)")] = None,
) -> None:
    """Print a token from the development issuer in the data folder."""
    from gateway.auth.dev_issuer import mint_token

    settings = _settings(config)
    if not settings.dev_issuer:
        errors.print("The development issuer is switched off (dev_issuer = false).")
        raise typer.Exit(2)
    ttl = ttl_minutes * 60 if ttl_minutes is not None else None
    print(
        mint_token(
            settings,
            subject=subject,
            roles=role,
            name=name,
            department=department,
            ttl_seconds=ttl,
            extra_claims={"cpr": cpr} if cpr else None,
        )
    )


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Bring the database to the newest schema."""
    from gateway.db import make_engine
    from gateway.migrate import upgrade

    engine = make_engine(_settings(config).sqlalchemy_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    console.print("[green]The database is up to date.[/green]")


@audit_app.command("verify")
def audit_verify(
    config: ConfigOption = None,
    since: Annotated[
        Path | None,
        typer.Option(
            help="A checkpoint you kept (a signed note): check only that the log grew from it",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(min=0, help="Processes that check entries; 0: one per core for large logs"),
    ] = 0,
) -> None:
    """Recompute the access log's Merkle tree and check every signed checkpoint; exit 1 naming
    the first bad position."""
    from gateway.access_log.commands import verify_all, verify_since

    settings = _settings(config)
    if since is not None:
        ok, message = verify_since(settings, since.read_text(encoding="utf-8"))
        (console if ok else errors).print(message, highlight=False)
        if not ok:
            raise typer.Exit(1)
        return
    columns = (
        TextColumn("Verifying"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("verify", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        report = verify_all(settings, progress=advance, workers=workers)
    if report.ok:
        console.print(
            f"[green]OK[/green]: {report.entries} entries, {report.checkpoints} signed "
            f"checkpoints, root {report.head}"
        )
        return
    errors.print(
        f"[red]FAILED[/red] at entry {report.first_bad}: {report.reason} "
        f"({report.entries} entries stored)"
    )
    raise typer.Exit(1)


@sources_app.command("check")
def sources_check(
    name: Annotated[str | None, typer.Argument(help="One source; default: every source")] = None,
    citizen: Annotated[
        str | None,
        typer.Option(
            help="Also fetch this test citizen's records (one of the source's configured "
            "test_citizens; any other CPR is refused); the access log records it"
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Connect, run the mapping on real records, print the fragments and every problem."""
    import asyncio

    from adapters.registry import SourceConfigError
    from gateway.migrate import upgrade
    from gateway.runtime import build_runtime
    from gateway.settings import CONFIG_FILE_NAME
    from gateway.sources.cli_check import run_checks
    from gateway.sources.service import NotATestCitizen
    from schemas.cpr import normalize_cpr

    settings = _settings(config)
    if citizen is not None:
        try:
            citizen = normalize_cpr(citizen)
        except ValueError:
            errors.print("--citizen: a CPR number is ten digits, DDMMYYSSSS or DDMMYY-SSSS")
            raise typer.Exit(2) from None
    try:
        runtime = build_runtime(settings)
    except SourceConfigError as error:
        origin = config or "environment"
        errors.print(
            f"[red]Configuration error[/red]\n{escape(f'{origin}: {error}')}", highlight=False
        )
        raise typer.Exit(2) from None
    if not runtime.adapters:
        # Nothing checked is not "all well": say where sources come from.
        errors.print(
            "[red]No sources are configured.[/red] Pass --config FILE (or set HELHED_CONFIG "
            "or HELHED_SOURCES); `helhed demo` writes its configuration to "
            f"{settings.home / CONFIG_FILE_NAME}, found by itself in the demo's folder."
        )
        raise typer.Exit(2)
    if name is not None and name not in runtime.adapters:
        errors.print(f"No source is named {name!r} (known: {', '.join(runtime.adapters)})")
        raise typer.Exit(2)
    upgrade(runtime.engine)  # a check with a citizen writes an access-log entry
    try:
        problems = asyncio.run(run_checks(runtime, name, citizen, console))
    except NotATestCitizen as refused:
        errors.print(f"[red]Refused[/red]: {escape(refused.detail or refused.code)}")
        raise typer.Exit(2) from None
    finally:
        runtime.engine.dispose()
    raise typer.Exit(1 if problems else 0)


@audit_app.command("prove")
def audit_prove(
    seq: Annotated[int, typer.Argument(help="The entry's position")],
    config: ConfigOption = None,
) -> None:
    """Print a self-contained proof bundle (JSON) for one entry: the entry, its inclusion proof,
    the signed checkpoint and the log's public keys; `helhed audit check` checks it offline."""
    from gateway.access_log.commands import proof_bundle

    try:
        bundle = proof_bundle(_settings(config), seq)
    except LookupError as error:
        errors.print(str(error))
        raise typer.Exit(1) from None
    print(bundle)


@audit_app.command("check")
def audit_check(
    bundle: Annotated[Path, typer.Argument(help="A proof bundle from `helhed audit prove`")],
) -> None:
    """Check a proof bundle offline: signature, inclusion, and that the entry is the leaf."""
    from gateway.access_log.bundle import check_bundle

    ok, message = check_bundle(bundle.read_text(encoding="utf-8"))
    (console if ok else errors).print(message, highlight=False)
    if not ok:
        raise typer.Exit(1)


@keys_app.command("rotate")
def keys_rotate(
    use: Annotated[
        str, typer.Option(help="checkpoint (the log's Ed25519 key), receipt, or cpr (AES)")
    ] = "checkpoint",
    config: ConfigOption = None,
) -> None:
    """Add a new key in front of a keyring; the old keys stay, to verify and to decrypt.
    Running gateways sign and encrypt with the new key within a second, without a restart.

    A keyring given inline in the environment (HELHED_KEY_…) cannot be written: the rotated
    document is printed on stdout instead, to put into the secret store."""
    from gateway.keys import rotated_symmetric, symmetric_keyring
    from gateway.signing.keys import USES, SigningKeys

    settings = _settings(config)
    if use == "cpr":
        keyfile = symmetric_keyring(settings.keys_dir / "cpr-aes.json")
        kid, document = rotated_symmetric(keyfile.read())
    elif use in USES:
        signing = SigningKeys(settings.keys_dir)
        keyfile = signing.file(use)
        new, document = signing.rotated(use)
        kid = str(new.kid)
    else:
        errors.print(f"Unknown key use {use!r}: checkpoint, receipt or cpr")
        raise typer.Exit(2)
    try:
        keyfile.write(document)
    except OSError as error:  # inline in the environment, or a read-only mounted secret
        print(document)  # the document alone on stdout, for the secret store
        errors.print(
            f"New {use} key {kid}: the keyring comes from {keyfile.source}, which cannot be "
            f"written ({error.strerror or error}). Put the document above in its place (older "
            "keys are kept in it); gateways reading a file take it up within a second, those "
            "given it in the environment at their restart.",
            highlight=False,
        )
        return
    console.print(f"New {use} key [bold]{kid}[/bold] in {keyfile.path}; the older ones are kept.")
