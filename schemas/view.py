"""The citizen view: what one caseworker may see about one citizen, merged across departments."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from schemas.consent import ConsentRef
from schemas.cpr import Cpr
from schemas.fragment import Fragment
from schemas.slugs import Slug


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
    as_of: datetime | None = Field(
        default=None,
        description="For a source served from a copy (a nightly export): when the copy was made",
    )


class DepartmentFragments(BaseModel):
    department: str
    name: str
    fragments: list[Fragment]


class Overlap(BaseModel):
    """The same kind of help from two departments in overlapping periods (a *dobbeltindsats*)."""

    help_type: str
    departments: list[Slug]
    fragments: list[str]
    period: dict[str, date | None]


class CitizenView(BaseModel):
    citizen: str
    purpose: str
    generated_at: datetime
    departments: list[DepartmentFragments]
    timeline: list[Fragment]
    overlaps: list[Overlap] = Field(default_factory=list)
    coverage: list[Coverage]
    consents: list[ConsentRef]
    access_entry: int
