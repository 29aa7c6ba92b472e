"""Times as people in a Danish municipality give them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

# Consent validity is counted in Danish calendar days; a time typed without an offset is meant
# as Danish time.
COPENHAGEN = ZoneInfo("Europe/Copenhagen")


# Far enough from datetime's ends (years 1 and 9999) that a moment converted to UTC, or moved by
# the reports' days and weeks, stays a datetime: 0001-01-01T00:00+23:59 in UTC is before year 1,
# and was a 500, a 503 or an export cut off mid-stream (found by the attack suite, issue 12).
FIRST_YEAR, LAST_YEAR = 1900, 8999


def assume_danish_time(value: datetime) -> datetime:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise PydanticCustomError(
            "invalid_time", f"A time must lie in the years {FIRST_YEAR} to {LAST_YEAR}"
        )
    return value if value.tzinfo is not None else value.replace(tzinfo=COPENHAGEN)


# A moment given in a query or a body: always timezone-aware once validated, and in range.
Moment = Annotated[datetime, AfterValidator(assume_danish_time)]


def in_calendar_range(value: date) -> date:
    """A consent's day: the engine counts days from it (9999-12-31 plus one was a 500)."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise PydanticCustomError(
            "invalid_time", f"A day must lie in the years {FIRST_YEAR} to {LAST_YEAR}"
        )
    return value


# A calendar day given in a body (a consent's validity, its data period).
Day = Annotated[date, AfterValidator(in_calendar_range)]


def in_utc(value: datetime) -> datetime:
    """One convention for times the API gives: UTC (`Z`). A naive time is left to its reader
    (a mapping gives it its source's zone first)."""
    return value.astimezone(UTC) if value.tzinfo is not None else value


# A moment the API gives out: in UTC, whichever offset the source used.
Instant = Annotated[datetime, AfterValidator(in_utc)]
