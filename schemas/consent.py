"""Consent as recorded, read and searched through the API."""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from schemas.cpr import Cpr, FreeText
from schemas.slugs import Slug
from schemas.times import Day

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


class GivenByKind(StrEnum):
    SELF = "self"
    GUARDIAN = "guardian"
    REPRESENTATIVE = "representative"


class GivenBy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: GivenByKind
    name: FreeText | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _name_for_someone_else(self) -> GivenBy:
        if self.kind is not GivenByKind.SELF and not (self.name and self.name.strip()):
            raise PydanticCustomError(
                "given_by_name_required",
                "A consent given by a guardian or representative must name that person",
            )
        return self


class EvidenceKind(StrEnum):
    SIGNED_FORM = "signed-form"
    DIGITAL_SIGNATURE = "digital-signature"
    VERBAL_NOTED = "verbal-noted"


class Evidence(BaseModel):
    """GDPR art. 7(1): the municipality must be able to demonstrate the consent."""

    model_config = ConfigDict(extra="forbid")

    kind: EvidenceKind
    reference: FreeText = Field(min_length=1, max_length=300)
    sha256: str | None = Field(default=None, description="SHA-256 of the attached document")

    @field_validator("sha256")
    @classmethod
    def _hex_digest(cls, value: str | None) -> str | None:
        if value is not None and not _SHA256_HEX.match(value.lower()):
            raise PydanticCustomError(
                "invalid_evidence_hash", "evidence.sha256 must be 64 hexadecimal digits"
            )
        return value.lower() if value else value


def _unique_slugs(values: list[str]) -> list[str]:
    if not values:
        raise PydanticCustomError("empty_list", "At least one value is required")
    if len(set(values)) != len(values):
        raise PydanticCustomError("duplicate_value", "Values must not repeat")
    return values


class DataPeriod(BaseModel):
    """Only fragments whose own period overlaps this one are released under the consent."""

    model_config = ConfigDict(extra="forbid")

    start: Day | None = None
    end: Day | None = None

    @model_validator(mode="after")
    def _bounded_and_ordered(self) -> DataPeriod:
        if self.start is None and self.end is None:
            raise PydanticCustomError(
                "invalid_data_period", "data_period needs a start, an end or both"
            )
        if self.start and self.end and self.end < self.start:
            raise PydanticCustomError(
                "invalid_data_period", "data_period.end must be on or after data_period.start"
            )
        return self


class ConsentTerms(BaseModel):
    """What the citizen agreed to: from which departments, to which, what, why and how long."""

    model_config = ConfigDict(extra="forbid")

    from_departments: list[Slug] = Field(max_length=50)
    to_departments: list[Slug] = Field(max_length=50)
    categories: list[Slug] = Field(max_length=50)
    purpose: Slug
    valid_from: Day
    valid_until: Day = Field(description="Inclusive; an end is required (no open-ended consent)")
    case_ref: FreeText | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="The case the consent is for (retssikkerhedsloven § 11 a); required by "
        "purposes that say so",
    )
    data_period: DataPeriod | None = Field(
        default=None, description="Only data about this period is released; none: any period"
    )
    legal_basis: FreeText | None = Field(
        default=None, max_length=300, description="Default: the purpose's legal basis"
    )
    notice_version: FreeText | None = Field(
        default=None, max_length=50, description="Which information text the citizen was shown"
    )

    @field_validator("from_departments", "to_departments", "categories")
    @classmethod
    def _non_empty_and_unique(cls, values: list[str]) -> list[str]:
        return _unique_slugs(values)

    @model_validator(mode="after")
    def _validity_in_order(self) -> ConsentTerms:
        if self.valid_until < self.valid_from:
            raise PydanticCustomError(
                "invalid_validity", "valid_until must be on or after valid_from"
            )
        return self


class ConsentCreate(ConsentTerms):
    citizen: Cpr
    given_by: GivenBy
    evidence: Evidence


class ConsentStatus(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    ENTERED_IN_ERROR = "entered-in-error"


class StaffRef(BaseModel):
    """A member of staff as the token named them."""

    model_config = ConfigDict(extra="forbid")

    subject: str
    name: str | None = None
    department: str | None = None


class Withdrawal(BaseModel):
    at: datetime
    by: StaffRef
    reason: str


class ConsentRead(ConsentCreate):
    model_config = ConfigDict(extra="forbid")

    id: str
    version: int = 1
    status: ConsentStatus
    recorded_by: StaffRef
    recorded_at: datetime
    withdrawal: Withdrawal | None = None
    version_reason: str | None = Field(default=None, description="Why this version was made")
    use_count: int = Field(default=0, description="Views that relied on this version")
    last_used_at: datetime | None = None


class ConsentEvent(BaseModel):
    """One lifecycle transition: kept forever, and written to the access log too."""

    event: str
    version: int
    at: datetime
    by: StaffRef
    reason: str | None = None
    access_entry: int | None = None


class ConsentDetail(ConsentRead):
    """A consent's newest version with every earlier version and every event."""

    versions: list[ConsentRead] = Field(description="All versions, oldest first")
    events: list[ConsentEvent]


class ConsentChange(BaseModel):
    """A new version: the fields that change, and why. Everything else carries over."""

    model_config = ConfigDict(extra="forbid")

    reason: FreeText = Field(min_length=1, max_length=1000)
    given_by: GivenBy | None = None
    from_departments: list[Slug] | None = None
    to_departments: list[Slug] | None = None
    categories: list[Slug] | None = None
    purpose: Slug | None = None
    valid_from: Day | None = None
    valid_until: Day | None = None
    case_ref: FreeText | None = None
    data_period: DataPeriod | None = None
    legal_basis: FreeText | None = None
    notice_version: FreeText | None = None
    evidence: Evidence | None = None


class ConsentRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    version: int


class ConsentWithdraw(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: FreeText = Field(min_length=1, max_length=1000)


class ConsentPreviewLine(BaseModel):
    """Per recipient, source and category: what the draft would open, and why or why not."""

    recipient: str
    source: str
    department: str
    category: str
    permit: bool
    reason: str


class ConsentPreview(BaseModel):
    evaluated_on: date = Field(description="The day the draft was judged for (its first day)")
    opens: list[ConsentPreviewLine]


class ConsentSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    citizen: Cpr
    status: ConsentStatus | None = None


class ConsentList(BaseModel):
    consents: list[ConsentRead]
