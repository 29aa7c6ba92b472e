"""Turn configured sources into adapters, finding every kind through its entry point."""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import entry_points
from typing import Any

from pydantic import ValidationError

from adapters.protocol import (
    ENTRY_POINT_GROUP,
    PROTOCOL_VERSION,
    Adapter,
    AdapterKind,
    SourceConfig,
)
from adapters.resilience import Resilient


class SourceConfigError(ValueError):
    """A source's configuration is wrong; the message names the source and the field."""


def available_kinds() -> dict[str, AdapterKind]:
    """Every installed kind, loaded (a listing; starting the gateway loads only those in use)."""
    return {ep.name: ep.load() for ep in entry_points(group=ENTRY_POINT_GROUP)}


class _Installed(dict[str, AdapterKind]):
    """The installed kinds, each loaded the first time a source uses it: a broken plugin that
    no source uses cannot stop the gateway, and one that is used is named in the error."""

    def __init__(self) -> None:
        super().__init__()
        self._entry_points = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}

    def get(self, name: str, default: Any = None) -> Any:
        if name not in self and name in self._entry_points:
            try:
                self[name] = self._entry_points[name].load()
            except Exception as error:
                raise SourceConfigError(
                    f"kind {name!r} could not be loaded ({type(error).__name__}: {error})"
                ) from None
        return super().get(name, default)

    def names(self) -> list[str]:
        return sorted(self._entry_points)


def _field_errors(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(options)'}: "
        f"{e['msg'].removeprefix('Value error, ')}"
        for e in error.errors()
    )


def build_adapters(
    configs: Iterable[SourceConfig],
    kinds: dict[str, AdapterKind] | None = None,
    *,
    resilient: bool = True,
) -> dict[str, Adapter]:
    """Every source's adapter, wrapped in the shared resilience layer unless told not to."""
    kinds = _Installed() if kinds is None else kinds
    adapters: dict[str, Adapter] = {}
    for config in configs:
        where = f"source {config.name!r}"
        if config.name in adapters:
            raise SourceConfigError(f"{where}: the name is used twice")
        try:
            kind = kinds.get(config.kind)
        except SourceConfigError as error:
            raise SourceConfigError(f"{where}: {error}") from None
        if kind is None:
            names = kinds.names() if isinstance(kinds, _Installed) else sorted(kinds)
            known = ", ".join(names) or "none installed"
            raise SourceConfigError(f"{where}: unknown kind {config.kind!r} (known: {known})")
        version = getattr(kind, "protocol_version", None)
        if version != PROTOCOL_VERSION:
            raise SourceConfigError(
                f"{where}: kind {config.kind!r} implements adapter protocol {version}, "
                f"this gateway speaks {PROTOCOL_VERSION}"
            )
        try:
            adapter = kind(config)
        except ValidationError as error:
            raise SourceConfigError(f"{where}: {_field_errors(error)}") from None
        except ValueError as error:  # a kind's own cross-field check
            raise SourceConfigError(f"{where}: {error}") from None
        if not isinstance(adapter, Adapter):
            raise SourceConfigError(f"{where}: kind {config.kind!r} is not an Adapter")
        adapters[config.name] = Resilient(adapter) if resilient else adapter
    return adapters
