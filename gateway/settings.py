"""One documented settings class: a TOML file, overridden by HELHED_* environment variables.

Precedence, lowest first: defaults, the TOML file, the environment, explicit arguments.
"""

from __future__ import annotations

import os
import socket
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict

from adapters.protocol import SourceConfig
from gateway import catalog_defaults
from gateway.access_log.config import AuditSettings
from schemas.catalog import Catalog, Category, Department, Purpose

DEV_ISSUER = "urn:helhed:dev-issuer"
DEFAULT_AUDIENCE = "helhed"


class TrustedIssuer(BaseModel):
    """An identity provider whose tokens the gateway accepts."""

    model_config = ConfigDict(extra="forbid")

    issuer: str = Field(description="Exact `iss` value")
    audience: str = Field(default=DEFAULT_AUDIENCE, description="Required `aud` value")
    jwks_file: Path | None = Field(default=None, description="Public keys as a JWKS file")
    algorithms: list[str] = Field(
        default=["ES256"], min_length=1, description="Allowed signature algorithms"
    )
    leeway_seconds: int = Field(default=60, ge=0, le=300, description="Allowed clock skew")

    @model_validator(mode="after")
    def _safe_algorithms(self) -> TrustedIssuer:
        unsafe = {"none", "HS256", "HS384", "HS512"} & set(self.algorithms)
        if unsafe:
            raise ValueError(f"algorithms may not include {sorted(unsafe)}: public keys only")
        if self.jwks_file is None:
            raise ValueError("jwks_file is required")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HELHED_", env_nested_delimiter="__", extra="forbid"
    )

    home: Path = Field(
        default=Path(".helhed"), description="Data folder: SQLite file, keys (HELHED_HOME)"
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: a SQLite file in the data folder"
    )
    instance: str = Field(
        default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}",
        description="Names this gateway process in the access log",
    )
    view_deadline_seconds: float = Field(
        default=2.5, gt=0, le=60, description="One overall deadline for a view's fan-out"
    )
    source_timeout_seconds: float = Field(
        default=2.0, gt=0, le=60, description="Default per-source timeout, within the deadline"
    )
    dev_issuer: bool = Field(
        default=True,
        description="Trust the development issuer whose key lives in the data folder "
        "(`helhed token`); switch off in production",
    )
    dev_token_ttl_minutes: int = Field(default=480, gt=0, le=7 * 24 * 60)
    scheduler_enabled: bool = Field(
        default=True, description="Run scheduled jobs in this process (each run takes a lease)"
    )
    issuers: list[TrustedIssuer] = Field(default_factory=list)
    departments: list[Department] = Field(
        default_factory=lambda: list(catalog_defaults.DEPARTMENTS)
    )
    categories: list[Category] = Field(default_factory=lambda: list(catalog_defaults.CATEGORIES))
    purposes: list[Purpose] = Field(default_factory=lambda: list(catalog_defaults.PURPOSES))
    sources: list[SourceConfig] = Field(default_factory=list)
    key_folder: Path | None = Field(
        default=None,
        description="Where the keyrings live (e.g. a mounted secret volume; HELHED_KEY_FOLDER); "
        "default: the data folder's keys/",
    )
    audit: AuditSettings = Field(
        default_factory=AuditSettings, description="The access log: checkpoints, retention"
    )

    @model_validator(mode="after")
    def _sources_use_known_vocabulary(self) -> Settings:
        departments = {d.slug for d in self.departments}
        categories = {c.slug for c in self.categories}
        for source in self.sources:
            if source.department not in departments:
                raise ValueError(
                    f"sources[{source.name}].department: unknown department {source.department!r}"
                )
            for category in source.categories:
                if category not in categories:
                    raise ValueError(
                        f"sources[{source.name}].categories: unknown category {category!r}"
                    )
        return self

    @property
    def keys_dir(self) -> Path:
        return self.key_folder or self.home / "keys"

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return normalize_database_url(self.database_url)
        return f"sqlite:///{(self.home / 'helhed.db').resolve()}"

    @property
    def catalog(self) -> Catalog:
        return Catalog(
            departments=tuple(self.departments),
            categories=tuple(self.categories),
            purposes=tuple(self.purposes),
        )


def normalize_database_url(url: str) -> str:
    """Accept plain postgresql:// URLs and use psycopg 3 for them."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class ConfigError(ValueError):
    """The configuration is wrong; the message names the file, the item and the field."""


def _describe(error: ValidationError, origin: str, data: dict[str, Any]) -> str:
    lines = []
    for item in error.errors():
        loc = list(item["loc"])
        # Name a source by its name, not its index: "sources[jobcenter].mapping.fields".
        if len(loc) >= 2 and loc[0] == "sources" and isinstance(loc[1], int):
            sources = data.get("sources") or []
            index = loc[1]
            name = sources[index].get("name") if index < len(sources) else None
            loc = [f"sources[{name or index}]", *loc[2:]]
        message = item["msg"].removeprefix("Value error, ")
        where = ".".join(str(part) for part in loc)
        lines.append(f"{origin}: {where}: {message}" if where else f"{origin}: {message}")
    return "\n".join(lines)


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    file_values: dict[str, Any] = {}
    origin = "environment"
    if config_file is not None:
        origin = str(config_file)
        try:
            file_values = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{config_file}: no such file") from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{config_file}: not valid TOML: {error}") from None
    env_values = EnvSettingsSource(Settings)()
    merged = {**file_values, **env_values, **overrides}
    try:
        return Settings(**merged)
    except ValidationError as error:
        raise ConfigError(_describe(error, origin, merged)) from None
