"""Slugs name departments, sources, categories and purposes in URLs, config and JSON."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
