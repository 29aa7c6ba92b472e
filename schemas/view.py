"""The citizen view: what one caseworker may see about one citizen, merged across departments."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from schemas.consent import ConsentRef
from schemas.cpr import Cpr
from schemas.fragment import Fragment
from schemas.insights import (
    Contradiction,
    CostSummary,
    Overlap,
    ProgressionSeries,
    TimelineItem,
)
from schemas.slugs import Slug
from schemas.times import Instant


class ViewRequest(BaseModel):
    """The citizen travels in the body, never in the URL, where proxies and browsers log it."""

    model_config = ConfigDict(extra="forbid")

    citizen: Cpr
    purpose: Slug


class CoverageStatus(StrEnum):
    INCLUDED = "included"
    NOT_COVERED = "not-covered"  # no consent: the source was not asked at all
    UNAVAILABLE = "unavailable"  # asked, but failed or missed the deadline


class ConsentNeeded(BaseModel):
    """The consent that would open what a source was not asked for (§ 11 b: the caseworker
    tells the citizen which consent would add what is missing)."""

    from_departments: list[Slug]
    to_departments: list[Slug]
    purpose: Slug
    categories: list[Slug] = Field(description="What a consent for this purpose would open")
    special: list[Slug] = Field(
        default_factory=list,
        description="Special categories among them (GDPR art. 9): the consent must name each",
    )
    outside_purpose: list[Slug] = Field(
        default_factory=list,
        description="Categories no consent for this purpose can open (the purpose's template)",
    )
    reasons: dict[str, str] = Field(
        default_factory=dict,
        description="Per category, why it is closed now: no-consent, withdrawn, expired, …",
    )


class Coverage(BaseModel):
    source: str
    department: str
    status: CoverageStatus
    categories: list[str] = Field(description="Categories asked for and released")
    needs_consent_for: list[str] = Field(
        default_factory=list,
        description="Categories this source offers that a consent would have to name; says "
        "nothing about whether the source holds data on the citizen",
    )
    consent_needed: ConsentNeeded | None = Field(
        default=None,
        description="Which consent would open `needs_consent_for`: from which department, to "
        "which, for which purpose",
    )
    fragments: int = 0
    problem: str | None = Field(default=None, description="Why the source is unavailable")
    as_of: Instant | None = Field(
        default=None,
        description="For a source served from a copy (a nightly export): when the copy was made "
        "(UTC)",
    )
    export_date: date | None = Field(
        default=None,
        description="That copy's date in Copenhagen time, as the fragments' "
        "`attributes.export_date` and the sources name it",
    )


class DepartmentFragments(BaseModel):
    department: str
    name: str
    fragments: list[Fragment]


class CitizenView(BaseModel):
    citizen: str
    purpose: str
    generated_at: Instant
    departments: list[DepartmentFragments]
    timeline: list[TimelineItem] = Field(
        description="Every released fragment across departments, newest first, with who to "
        "call about it and how fresh it is"
    )
    overlaps: list[Overlap] = Field(
        default_factory=list,
        description="Help of one configured support group from two departments at once",
    )
    cost: CostSummary = Field(description="The yearly cost across budgets, as far as seen")
    progression: list[ProgressionSeries] = Field(
        default_factory=list, description="Score series per instrument, oldest score first"
    )
    contradictions: list[Contradiction] = Field(
        default_factory=list, description="Facts two departments give differently"
    )
    coverage: list[Coverage]
    consents: list[ConsentRef]
    access_entry: int
