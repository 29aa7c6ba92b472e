"""The controlled vocabulary: departments, categories and purposes (configured per municipality)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from schemas.slugs import Slug


def _names() -> Any:
    return Field(
        default_factory=dict,
        description="`name` is in the municipality's own language; this gives it in others, "
        'by language code, e.g. {en = "Jobcentre"}',
    )


class Department(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: Slug
    name: str
    names: dict[str, str] = _names()


class Category(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: Slug
    name: str
    names: dict[str, str] = _names()
    special: bool = Field(
        default=False,
        description="GDPR art. 9 data (health): opened only by a consent that names it",
    )
    description: str = ""


class Purpose(BaseModel):
    """A purpose is also a template: it may cap validity and limit categories and departments."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: Slug
    name: str
    names: dict[str, str] = _names()
    description: str = ""
    legal_basis: str = ""
    max_validity_days: int | None = Field(default=None, gt=0)
    categories: tuple[Slug, ...] | None = Field(
        default=None, description="Categories a consent for this purpose may open; None: any"
    )
    departments: tuple[Slug, ...] | None = Field(
        default=None, description="Departments a consent for this purpose may involve; None: any"
    )
    requires_case_ref: bool = Field(
        default=False, description="A consent for this purpose must name the case it is for"
    )


class Catalog(BaseModel):
    """The vocabulary one municipality has configured."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    departments: tuple[Department, ...]
    categories: tuple[Category, ...]
    purposes: tuple[Purpose, ...]

    def department(self, slug: str) -> Department | None:
        return next((d for d in self.departments if d.slug == slug), None)

    def category(self, slug: str) -> Category | None:
        return next((c for c in self.categories if c.slug == slug), None)

    def purpose(self, slug: str) -> Purpose | None:
        return next((p for p in self.purposes if p.slug == slug), None)

    @property
    def special_categories(self) -> frozenset[str]:
        return frozenset(c.slug for c in self.categories if c.special)
