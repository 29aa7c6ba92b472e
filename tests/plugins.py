"""Install a throwaway adapter distribution for a test: a module and the dist-info whose
entry_points.txt makes `importlib.metadata` find it, exactly as `pip install` would."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def installed_distribution(
    folder: Path, monkeypatch: pytest.MonkeyPatch, *, module: str, code: str, entry_points: str
) -> Iterator[Path]:
    (folder / f"{module}.py").write_text(code, encoding="utf-8")
    dist_info = folder / f"{module}-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {module.replace('_', '-')}\nVersion: 0.1\n",
        encoding="utf-8",
    )
    (dist_info / "entry_points.txt").write_text(entry_points, encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    importlib.invalidate_caches()
    try:
        yield folder
    finally:
        sys.modules.pop(module, None)
