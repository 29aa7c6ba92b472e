"""Turn configured sources into adapters, finding every kind through its entry point."""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import entry_points

from pydantic import ValidationError

from adapters.protocol import (
    ENTRY_POINT_GROUP,
    PROTOCOL_VERSION,
    Adapter,
    AdapterKind,
    SourceConfig,
)


class SourceConfigError(ValueError):
    """A source's configuration is wrong; the message names the source and the field."""


def available_kinds() -> dict[str, AdapterKind]:
    return {ep.name: ep.load() for ep in entry_points(group=ENTRY_POINT_GROUP)}


def _field_errors(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(options)'}: {e['msg']}" for e in error.errors()
    )


def build_adapters(
    configs: Iterable[SourceConfig], kinds: dict[str, AdapterKind] | None = None
) -> dict[str, Adapter]:
    kinds = available_kinds() if kinds is None else kinds
    adapters: dict[str, Adapter] = {}
    for config in configs:
        where = f"source {config.name!r}"
        if config.name in adapters:
            raise SourceConfigError(f"{where}: the name is used twice")
        kind = kinds.get(config.kind)
        if kind is None:
            known = ", ".join(sorted(kinds)) or "none installed"
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
        if not isinstance(adapter, Adapter):
            raise SourceConfigError(f"{where}: kind {config.kind!r} is not an Adapter")
        adapters[config.name] = adapter
    return adapters
