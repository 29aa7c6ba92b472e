"""The unit a source returns: one case, benefit, intervention, plan, … about one citizen."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from schemas.cpr import Cpr
from schemas.slugs import Slug
from schemas.times import in_utc


class FragmentKind(StrEnum):
    CASE = "case"
    BENEFIT = "benefit"
    INTERVENTION = "intervention"
    PLAN = "plan"
    GOAL = "goal"
    CONTACT = "contact"
    NOTE = "note"
    DOCUMENT_REFERENCE = "document-reference"


class Period(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: date | None = None
    end: date | None = None

    @model_validator(mode="after")
    def _end_not_before_start(self) -> Period:
        if self.start and self.end and self.end < self.start:
            raise ValueError("period.end is before period.start")
        return self

    def overlaps(self, other: Period) -> bool:
        """Open ends count as ongoing; a period without a start began at an unknown time."""
        own_start, other_start = self.start or date.min, other.start or date.min
        own_end, other_end = self.end or date.max, other.end or date.max
        return own_start <= other_end and other_start <= own_end


class Responsible(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    phone: str | None = None
    email: str | None = None


class Fragment(BaseModel):
    """Validated on the way in from every adapter; one that fails is dropped, never passed on."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=300, description="Stable id: `source:record-id`")
    citizen: Cpr
    source: Slug
    department: Slug
    category: Slug
    kind: FragmentKind
    title: str = Field(min_length=1, max_length=500)
    status: str | None = Field(default=None, max_length=100)
    period: Period = Field(default_factory=Period)
    responsible: Responsible | None = None
    legal_basis: str | None = Field(default=None, max_length=300)
    summary: str | None = Field(default=None, max_length=5000)
    attributes: dict[str, Any] = Field(default_factory=dict)
    # An Instant (schemas/times.py), made so by the one validator below: a Python call less
    # for each of the fragments a view validates.
    updated_at: datetime | None = Field(default=None, description="In UTC")

    @field_validator("updated_at")
    @classmethod
    def _in_utc(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        """A time without an offset is the source's local time: the mapping passes the source's
        zone as `zone` in the validation context, and every time becomes comparable, in UTC.
        Without a zone, a naive time is left to its reader, as `Instant` leaves it."""
        if value is None:
            return value
        if value.tzinfo is not None:
            return in_utc(value)
        zone = (info.context or {}).get("zone")
        if zone is None:
            return value
        try:
            return value.replace(tzinfo=zone).astimezone(UTC)
        except OverflowError:
            # The first hour of year 1 in Copenhagen is before year 1 in UTC: one bad record,
            # rejected alone, not an error that fails the whole answer or import.
            raise PydanticCustomError("time_out_of_range", "The time is out of range") from None
