"""The contract between the gateway and every adapter kind, built-in or third-party.

A kind is anything callable as `kind(config: SourceConfig) -> Adapter` that declares the protocol
version it was written for; it is registered under the entry point group `helhed.adapters`.
Adapters meet `Adapter` structurally: nothing to inherit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from adapters.policy import ResiliencePolicy
from schemas.cpr import Cpr
from schemas.fragment import Fragment
from schemas.slugs import Slug

# Bump when the Adapter protocol changes incompatibly; the registry refuses kinds written for
# another version instead of letting them break at the first view (datasette issues #2516, #2638).
PROTOCOL_VERSION = 1
ENTRY_POINT_GROUP = "helhed.adapters"


class SourceConfig(BaseModel):
    """One configured source; kind-specific options are the extra keys, validated by the kind."""

    model_config = ConfigDict(extra="allow")

    name: Slug
    kind: str
    department: Slug
    categories: list[Slug] = Field(min_length=1, description="What this source can deliver")
    timeout: float | None = Field(
        default=None, gt=0, description="Seconds; capped by what is left of the view's deadline"
    )
    test_citizens: list[Cpr] = Field(
        default_factory=list,
        description="Synthetic CPRs this source holds test records for: the only citizens IT "
        "operations may name in a source check (they never see a real person's case)",
    )
    resilience: ResiliencePolicy = Field(
        default_factory=ResiliencePolicy,
        description="Retries, circuit breaker and concurrency limit, the same for every kind",
    )

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


@dataclass(frozen=True)
class FetchRequest:
    citizen: str
    categories: frozenset[str]
    timeout: float  # seconds the adapter may take; the gateway cancels it after that anyway


@dataclass(frozen=True)
class Rejection:
    """A record the source sent that could not become a valid Fragment.

    `record` counts from 0 in the answer; a file-based kind gives the file's line number.
    """

    record: int
    problem: str


@dataclass
class FetchResult:
    fragments: list[Fragment] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    # When the data was true: set by kinds that serve a copy (a nightly export), None when live.
    as_of: datetime | None = None


class SourceUnavailable(Exception):
    """The source could not answer usefully. `code` is machine-readable; no citizen data in it.

    `retryable` marks a failure that may pass on another attempt (connection refused, 503):
    the shared resilience layer retries only those, and only for idempotent reads.
    """

    def __init__(self, code: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable


@dataclass(frozen=True)
class Health:
    healthy: bool
    detail: str = ""
    latency_ms: float | None = None


@runtime_checkable
class Adapter(Protocol):
    """What the gateway calls. An adapter may also say `idempotent = True` (reads that are
    safe to repeat); the resilience layer retries only such adapters."""

    config: SourceConfig

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """Fragments about request.citizen in request.categories; raise SourceUnavailable."""
        ...

    async def check_health(self) -> Health: ...

    async def aclose(self) -> None: ...


class AdapterKind(Protocol):
    protocol_version: ClassVar[int]

    def __call__(self, config: SourceConfig) -> Adapter: ...
