"""The Danish personal identification number (CPR) as a validated type.

A CPR is ten digits, DDMMYY-SSSS, accepted with or without the hyphen and always returned without
it. The modulus-11 check was abandoned in 2007, so only the date part is checked: the seventh digit
together with the year gives the century (CPR-kontoret's rules), and the date must exist.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, ValidationInfo
from pydantic_core import PydanticCustomError

# ASCII digits only: `\d` also matches Arabic-Indic and other Unicode digits, which int() reads
# happily and which are never a CPR (issue 13: they reached the keyed hash and failed there).
_CPR_SHAPE = re.compile(r"^([0-9]{6})-?([0-9]{4})$")


def _century(year_2d: int, seventh_digit: int) -> int:
    if seventh_digit <= 3:
        return 1900
    if seventh_digit in (4, 9):
        return 2000 if year_2d <= 36 else 1900
    return 2000 if year_2d <= 57 else 1800


def birth_date(cpr: str) -> date:
    """The birth date encoded in a normalised CPR; raises ValueError when there is none."""
    day, month, year_2d = int(cpr[0:2]), int(cpr[2:4]), int(cpr[4:6])
    return date(_century(year_2d, int(cpr[6])) + year_2d, month, day)


def normalize_cpr(value: object) -> str:
    """Return the ten-digit form of a CPR, or raise the `invalid_cpr` validation error."""
    if not isinstance(value, str):
        raise PydanticCustomError("invalid_cpr", "A CPR number must be a string of ten digits")
    return _normalized(value)


# Every fragment of a view names the same citizen: a CPR is checked once, not once per fragment.
# (Only valid ones are kept: an exception is not cached.)
@lru_cache(maxsize=4096)
def _normalized(value: str) -> str:
    match = _CPR_SHAPE.match(value.strip())
    if match is None:
        raise PydanticCustomError(
            "invalid_cpr", "A CPR number is ten digits, DDMMYYSSSS or DDMMYY-SSSS"
        )
    cpr = match.group(1) + match.group(2)
    try:
        birth_date(cpr)
    except ValueError:
        raise PydanticCustomError(
            "invalid_cpr", "The first six digits of a CPR number must be a date (DDMMYY)"
        ) from None
    return cpr


def mask_cpr(cpr: str) -> str:
    """What may be shown where a CPR must not be: the birth date only (DDMMYY-xxxx)."""
    return f"{cpr[:6]}-xxxx"


Cpr = Annotated[str, BeforeValidator(normalize_cpr)]


# A CPR-shaped run inside free text: ten digits, the hyphen optional, not part of a longer number.
_CPR_INSIDE = re.compile(r"(?<![0-9])([0-9]{6})-?([0-9]{4})(?![0-9])")
# Validation context for data read back from the database: it was checked when written, and a
# row written before a rule existed must still be readable.
STORED = {"stored": True}


def holds_cpr(text: str) -> bool:
    """Whether the text contains something that reads as a CPR (a real date and four digits)."""
    for match in _CPR_INSIDE.finditer(text):
        try:
            birth_date(match.group(1) + match.group(2))
        except ValueError:
            continue
        return True
    return False


def _no_cpr_inside(value: str | None, info: ValidationInfo) -> str | None:
    """Free text is stored and logged as typed, so a CPR in it would sit in plain text in the
    database and the access log (rule 5): it is refused, and the citizen named by the body's
    `citizen` field instead."""
    if value is None or (info.context or {}).get("stored"):
        return value
    if holds_cpr(value):
        raise PydanticCustomError(
            "cpr_in_free_text",
            "Free text may not contain a CPR number; the citizen is already named by the consent",
        )
    return value


FreeText = Annotated[str, AfterValidator(_no_cpr_inside)]
