"""Times as people in a Danish municipality give them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator

# Consent validity is counted in Danish calendar days; a time typed without an offset is meant
# as Danish time.
COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def assume_danish_time(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=COPENHAGEN)


# A moment given in a query or a body: always timezone-aware once validated.
Moment = Annotated[datetime, AfterValidator(assume_danish_time)]


def in_utc(value: datetime) -> datetime:
    """One convention for times the API gives: UTC (`Z`). A naive time is left to its reader
    (a mapping gives it its source's zone first)."""
    return value.astimezone(UTC) if value.tzinfo is not None else value


# A moment the API gives out: in UTC, whichever offset the source used.
Instant = Annotated[datetime, AfterValidator(in_utc)]
