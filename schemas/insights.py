"""What the citizen view adds to the released fragments: one timeline with contacts and
freshness, help given twice, the cost across budgets, progression and contradictions.

Every insight is computed from the released fragments alone, so it can show nothing that the
consent did not already release.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field

from schemas.fragment import Fragment, Responsible
from schemas.slugs import Slug
from schemas.times import Instant


class Freshness(BaseModel):
    """How current an item is: read live from the department's system, or from a copy."""

    live: bool = Field(description="Read from the department's system during this request")
    as_of: Instant = Field(description="When the data was true (UTC): now, or the copy's time")
    export_date: date | None = Field(
        default=None,
        description="For a copy (a nightly export): its date, in Copenhagen time, the same date "
        "that the coverage line, the fragment's `attributes.export_date` and the sources name",
    )


class TimelineItem(Fragment):
    """A fragment on the one timeline: who to call about it and how fresh it is."""

    department_name: str = Field(description="The department as people name it")
    contact: Responsible | None = Field(
        default=None,
        description="Who to call about this item: its responsible colleague, or else the "
        "caseworker responsible for the case it belongs to in the same system",
    )
    freshness: Freshness


class Overlap(BaseModel):
    """Help of one configured support group from two departments in overlapping periods: a
    *dobbeltindsats*, worth a call between the caseworkers."""

    help_type: str = Field(description="The support group's slug (e.g. `personal-support`)")
    support_group: str = Field(description="The support group's name")
    departments: list[Slug]
    fragments: list[str] = Field(description="The two fragments' ids")
    items: list[Fragment] = Field(description="Both fragments, in full")
    period: dict[str, date | None] = Field(description="When both run at once")


class CostLine(BaseModel):
    fragment: str
    title: str
    kind: str
    rate: float = Field(description="The amount as the source gives it")
    rate_unit: str = Field(description="day, week, month, quarter or year")
    yearly: float = Field(description="The rate over a year")


class DepartmentCost(BaseModel):
    department: Slug
    name: str
    yearly: float
    lines: list[CostLine]


class CostSummary(BaseModel):
    """What the municipality spends on this citizen a year, per budget: the yearly rate of the
    benefits and interventions running on `as_of`, as far as the consent lets the view see."""

    currency: str = "DKK"
    as_of: date = Field(description="The day the running amounts were taken (Copenhagen)")
    departments: list[DepartmentCost]
    total: float
    threshold: float | None = Field(description="The configured yearly threshold, if any")
    above_threshold: bool
    partial: bool = Field(
        description="Some department's benefits or interventions were not seen (no consent, or "
        "the source was unavailable): the total is a lower bound"
    )
    not_seen: list[Slug] = Field(
        default_factory=list, description="Departments whose amounts the view could not see"
    )
    uncounted: list[str] = Field(
        default_factory=list,
        description="Running items with an amount that could not be made yearly (unknown unit or "
        "another currency)",
    )


class ScorePoint(BaseModel):
    date: date
    value: float


class Direction(StrEnum):
    BETTER = "better"
    WORSE = "worse"
    UNCHANGED = "unchanged"


class ProgressionSeries(BaseModel):
    """Scores of one instrument (and theme) over time, from one fragment's measurements."""

    instrument: str
    name: str
    dimension: str | None = Field(default=None, description="The theme scored, if any")
    department: Slug
    fragment: str
    title: str = Field(description="The fragment the scores belong to")
    scale_min: float | None = None
    scale_max: float | None = None
    higher_is_better: bool = True
    points: list[ScorePoint] = Field(description="Oldest first")
    change: float | None = Field(default=None, description="Last score minus the first")
    direction: Direction | None = Field(default=None, description="None with a single score")


class FactValue(BaseModel):
    department: Slug
    value: str
    fragment: str
    updated_at: Instant | None = None


class Contradiction(BaseModel):
    """The same kind of fact given differently by two departments: flagged, never merged."""

    fact: str
    name: str
    values: list[FactValue] = Field(description="Each department's newest value")


class Insights(BaseModel):
    """The computed parts of a view, built together (gateway/views/insights)."""

    timeline: list[TimelineItem]
    overlaps: list[Overlap]
    cost: CostSummary
    progression: list[ProgressionSeries]
    contradictions: list[Contradiction]


__all__ = [
    "Contradiction",
    "CostLine",
    "CostSummary",
    "DepartmentCost",
    "Direction",
    "FactValue",
    "Freshness",
    "Insights",
    "Overlap",
    "ProgressionSeries",
    "ScorePoint",
    "TimelineItem",
]
