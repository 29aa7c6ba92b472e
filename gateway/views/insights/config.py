"""What the view's insights are judged by (`[insights]` in the TOML file): which help counts as
the same help, the yearly cost that marks a citizen, the score instruments, the facts compared.

Each municipality decides these for itself; the defaults follow DOMAIN.md's examples.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from schemas.slugs import Slug


class SupportGroup(BaseModel):
    """Help types that are the same help when two departments give them at once."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: Slug
    name: str
    name_en: str | None = None
    help_types: tuple[Slug, ...] = Field(
        min_length=1, description="`attributes.help_type` values the sources' mappings give"
    )


class Instrument(BaseModel):
    """A scoring tool whose measurements fragments carry in `attributes.scores`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: Slug
    name: str
    scale_min: float
    scale_max: float
    higher_is_better: bool = True


class FactKind(BaseModel):
    """A fact two departments may both record, compared across them (`attributes.<attribute>`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: Slug
    name: str
    name_en: str | None = None
    attribute: str = Field(pattern=r"^[a-z_][a-z0-9_]{0,40}$")


class CostSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: str = Field(default="DKK", pattern=r"^[A-Z]{3}$")
    yearly_threshold: float | None = Field(
        default=150_000,
        gt=0,
        description="Citizens whose yearly cost across budgets exceeds this are marked "
        "(Høje-Taastrup's 150,000 DKK); none: no mark",
    )


DEFAULT_SUPPORT_GROUPS = (
    SupportGroup(
        slug="personal-support",
        name="Personlig støtte (mentor, kontaktperson, § 85)",
        name_en="Personal support (mentor, contact person, § 85)",
        help_types=("mentor", "contact-person", "socio-pedagogical-support", "personal-support"),
    ),
    SupportGroup(
        slug="family-support",
        name="Støtte til familien",
        name_en="Family support",
        help_types=("family-treatment", "family-support", "home-visits"),
    ),
    SupportGroup(
        slug="treatment",
        name="Behandling",
        name_en="Treatment",
        help_types=("substance-abuse-treatment", "psychological-treatment", "treatment"),
    ),
)

DEFAULT_INSTRUMENTS = (
    Instrument(slug="udviklingskompasset", name="Udviklingskompasset", scale_min=1, scale_max=10),
    Instrument(slug="fit-ors", name="FIT, Outcome Rating Scale", scale_min=0, scale_max=40),
    Instrument(slug="fit-srs", name="FIT, Session Rating Scale", scale_min=0, scale_max=40),
)

DEFAULT_FACTS = (
    FactKind(slug="address", name="Adresse", name_en="Address", attribute="address"),
    FactKind(slug="custody", name="Forældremyndighed", name_en="Custody", attribute="custody"),
    FactKind(slug="main-goal", name="Hovedmål", name_en="Main goal", attribute="main_goal"),
)


class InsightSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    support_groups: tuple[SupportGroup, ...] = Field(default=DEFAULT_SUPPORT_GROUPS)
    cost: CostSettings = Field(default_factory=CostSettings)
    instruments: tuple[Instrument, ...] = Field(default=DEFAULT_INSTRUMENTS)
    facts: tuple[FactKind, ...] = Field(default=DEFAULT_FACTS)

    def group_of(self, help_type: str) -> SupportGroup | None:
        return next((g for g in self.support_groups if help_type in g.help_types), None)

    def instrument(self, slug: str) -> Instrument | None:
        return next((i for i in self.instruments if i.slug == slug), None)
