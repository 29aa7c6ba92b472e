"""One documented settings class: a TOML file, overridden by HELHED_* environment variables.

Precedence, lowest first: defaults, the TOML file, the environment, explicit arguments.
"""

from __future__ import annotations

import os
import socket
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict

from adapters.protocol import SourceConfig
from gateway import catalog_defaults
from gateway.access_log.config import AuditSettings
from gateway.db_settings import PoolSettings
from gateway.scheduler_settings import SchedulerSettings
from gateway.views.insights.config import InsightSettings
from schemas.catalog import Catalog, Category, Department, Purpose

DEV_ISSUER = "urn:helhed:dev-issuer"
DEFAULT_AUDIENCE = "helhed"


class ClaimMapping(BaseModel):
    """Which claims of an issuer's tokens say who the user is (providers name them differently).

    A name is looked up as it stands first, then as a dotted path into nested claims, so both
    `https://data.gov.dk/model/core/eid/cprNumber` and Keycloak's `realm_access.roles` work.
    """

    model_config = ConfigDict(extra="forbid")

    subject: str = Field(default="sub", description="The user's stable id")
    name: str | None = Field(default="name", description="Display name")
    department: str | None = Field(
        default="department", description="Department slug; else derived from `groups`"
    )
    roles: str | None = Field(
        default="roles", description="A list (or space-separated string) of role names"
    )
    groups: str | None = Field(default=None, description="Group memberships, e.g. Entra's `groups`")
    cpr: str | None = Field(
        default=None, description="A citizen's CPR number (citizens' login only)"
    )


_ALL_ROLES = ["caseworker", "dpo", "itops", "citizen"]


def _is_loopback_or_https(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and parts.hostname in {"localhost", "127.0.0.1", "::1"}


class TrustedIssuer(BaseModel):
    """An identity provider whose tokens the gateway accepts.

    Its keys come from `jwks_file` (static), else `jwks_uri`, else OpenID Connect discovery at
    `<issuer>/.well-known/openid-configuration`; fetched keys are cached and fetched again when
    a token names a key id the cache does not hold, so key rotation needs no restart.
    """

    model_config = ConfigDict(extra="forbid")

    issuer: str = Field(description="Exact `iss` value")
    audience: str = Field(default=DEFAULT_AUDIENCE, description="Required `aud` value")
    jwks_file: Path | None = Field(default=None, description="Public keys as a JWKS file")
    algorithms: list[str] = Field(
        default=["ES256"], min_length=1, description="Allowed signature algorithms"
    )
    leeway_seconds: int = Field(default=60, ge=0, le=300, description="Allowed clock skew")
    jwks_uri: str | None = Field(
        default=None, description="Where the public keys are published; default: discovery"
    )
    jwks_cache_seconds: int = Field(
        default=3600, ge=10, le=86400, description="How long fetched keys are trusted"
    )
    jwks_refresh_min_seconds: float = Field(
        default=30,
        ge=0,
        le=3600,
        description="At most one fetch per this many seconds on an unknown key id, so forged "
        "key ids cannot make the gateway hammer the provider",
    )
    claims: ClaimMapping = Field(default_factory=ClaimMapping)
    role_names: dict[str, str] = Field(
        default_factory=dict,
        description="A provider's role or group value -> a Helhed role, e.g. "
        '{"Helhed.Caseworker" = "caseworker"}',
    )
    group_departments: dict[str, str] = Field(
        default_factory=dict, description="A group value -> a department slug"
    )
    fixed_roles: list[str] = Field(
        default_factory=list,
        description="Roles every user of this issuer has (the national login: citizen)",
    )
    allowed_roles: list[str] = Field(
        default_factory=lambda: list(_ALL_ROLES),
        description="Roles this issuer may grant at all; a citizens' login grants no staff role",
    )
    # The web pages' sign-in (authorization-code flow with PKCE); API-only issuers leave it out.
    name: str | None = Field(
        default=None, pattern=r"^[a-z0-9-]{1,40}$", description="Slug for /signin/<name>"
    )
    label: str | None = Field(default=None, description="Button text on the sign-in page")
    client_id: str | None = Field(default=None, description="The pages' client id")
    client_secret: SecretStr | None = Field(
        default=None, description="Confidential client secret; none for a public client"
    )
    scopes: list[str] = Field(default=["openid", "profile"], description="Scopes requested")

    @model_validator(mode="after")
    def _safe_algorithms(self) -> TrustedIssuer:
        unsafe = {"none", "HS256", "HS384", "HS512"} & set(self.algorithms)
        if unsafe:
            raise ValueError(f"algorithms may not include {sorted(unsafe)}: public keys only")
        if self.jwks_file is None and self.jwks_uri is None and not self.discovers:
            raise ValueError("jwks_file, jwks_uri or an http(s) issuer URL (discovery) is required")
        for url in (self.jwks_uri, self.issuer if self.discovers else None):
            if url is not None and not _is_loopback_or_https(url):
                raise ValueError(f"{url}: keys are fetched over https only (http on loopback)")
        unknown = set(self.allowed_roles + self.fixed_roles + list(self.role_names.values()))
        unknown -= set(_ALL_ROLES)
        if unknown:
            raise ValueError(f"unknown roles {sorted(unknown)}; roles are {_ALL_ROLES}")
        if self.client_id is not None and self.name is None:
            raise ValueError("an issuer the pages sign in with (client_id) needs a name")
        return self

    @property
    def discovers(self) -> bool:
        """Keys and endpoints come from OpenID Connect discovery."""
        return self.jwks_file is None and self.issuer.startswith(("https://", "http://"))

    @property
    def signs_in_pages(self) -> bool:
        return self.client_id is not None


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
    database: PoolSettings = Field(
        default_factory=PoolSettings, description="The connection pool of each process"
    )
    instance: str = Field(
        default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}",
        description="Names this gateway process in the access log",
    )
    log_format: Literal["json", "text"] = Field(
        default="json",
        description="Application logs on stderr: one JSON object per line, or plain text",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="The least severe log level written"
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
    scheduler: SchedulerSettings = Field(
        default_factory=SchedulerSettings, description="Job leases and periods"
    )
    issuers: list[TrustedIssuer] = Field(default_factory=list)
    departments: list[Department] = Field(
        default_factory=lambda: list(catalog_defaults.DEPARTMENTS)
    )
    categories: list[Category] = Field(default_factory=lambda: list(catalog_defaults.CATEGORIES))
    purposes: list[Purpose] = Field(default_factory=lambda: list(catalog_defaults.PURPOSES))
    sources: list[SourceConfig] = Field(default_factory=list)
    public_url: str | None = Field(
        default=None,
        description="The gateway's external base URL (sign-in redirects); https means Secure "
        "cookies and HSTS",
    )
    web_session_minutes: int = Field(
        default=480, gt=0, le=24 * 60, description="Longest a web page session lasts"
    )
    views_per_minute: int = Field(
        default=30, gt=0, description="Citizen views one user may ask for per minute"
    )
    distinct_citizens_alert: int = Field(
        default=25,
        gt=0,
        description="Views of more distinct citizens than this by one user within the window "
        "are flagged in the access log",
    )
    distinct_citizens_window_minutes: int = Field(default=60, gt=0, le=24 * 60)
    max_request_bytes: int = Field(
        default=1_000_000, ge=1024, description="Larger request bodies are refused (413)"
    )
    key_folder: Path | None = Field(
        default=None,
        description="Where the keyrings live (e.g. a mounted secret volume; HELHED_KEY_FOLDER); "
        "default: the data folder's keys/",
    )
    audit: AuditSettings = Field(
        default_factory=AuditSettings, description="The access log: checkpoints, retention"
    )
    insights: InsightSettings = Field(
        default_factory=InsightSettings,
        description="The view's insights: support groups, the cost threshold, score "
        "instruments, the facts compared across departments",
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

    @model_validator(mode="after")
    def _issuers_use_known_departments(self) -> Settings:
        departments = {d.slug for d in self.departments}
        names = [i.name for i in self.issuers if i.name is not None]
        if len(names) != len(set(names)):
            raise ValueError("issuers: two issuers have the same name")
        for issuer in self.issuers:
            for group, department in issuer.group_departments.items():
                if department not in departments:
                    raise ValueError(
                        f"issuers[{issuer.issuer}].group_departments[{group}]: "
                        f"unknown department {department!r}"
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


CONFIG_FILE_NAME = "helhed.toml"


def found_config_file() -> Path | None:
    """The data folder's own configuration file, when no --config names one: `helhed demo`
    writes the configuration it runs with there, so commands run in the demo's folder know the
    demo's sources (HELHED_HOME, default ./.helhed)."""
    home = Path(os.environ.get("HELHED_HOME") or Settings.model_fields["home"].default)
    candidate = home / CONFIG_FILE_NAME
    return candidate if candidate.is_file() else None


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
