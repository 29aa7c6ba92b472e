"""Everything a running gateway holds, built once from Settings and kept on app.state."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from adapters.protocol import Adapter
from adapters.registry import build_adapters
from gateway.auth.dev_issuer import trusted_dev_issuer
from gateway.auth.tokens import TokenVerifier
from gateway.clock import Clock, SystemClock
from gateway.cpr_protection import CprProtector
from gateway.db import make_engine
from gateway.db_settings import PoolSettings
from gateway.in_place_reads import in_place_reader
from gateway.ops.metrics import Metrics
from gateway.pg_reads import EventLoopReader, is_postgresql
from gateway.settings import Settings
from gateway.signing.keys import SigningKeys
from gateway.sources.imports import attach_drop_store
from gateway.view_reads import ThreadReader, ViewReader
from schemas.catalog import Catalog


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    protector: CprProtector
    verifier: TokenVerifier
    adapters: dict[str, Adapter]
    clock: Clock
    catalog: Catalog
    signing_keys: SigningKeys
    # A view's reads: in place on SQLite, on the event loop on PostgreSQL.
    view_reader: ViewReader
    metrics: Metrics = field(default_factory=Metrics)


def _view_reader(engine: Engine, pool: PoolSettings) -> ViewReader:
    if is_postgresql(engine):
        return EventLoopReader(engine, pool)
    return in_place_reader(engine) or ThreadReader(engine)


def build_runtime(settings: Settings, *, clock: Clock | None = None) -> Runtime:
    # The data folder holds the database and the keys: personal data, for the owner only.
    settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    issuers = list(settings.issuers)
    if settings.dev_issuer:
        issuers.append(trusted_dev_issuer(settings))
    engine = make_engine(settings.sqlalchemy_url, settings.database)
    runtime = Runtime(
        settings=settings,
        engine=engine,
        protector=CprProtector.from_keys_dir(settings.keys_dir),
        verifier=TokenVerifier(issuers),
        adapters=build_adapters(settings.sources),
        clock=clock or SystemClock(),
        catalog=settings.catalog,
        signing_keys=SigningKeys(settings.keys_dir),
        view_reader=_view_reader(engine, settings.database),
    )
    attach_drop_store(runtime)  # csv_drop sources keep their imports in our database
    return runtime
