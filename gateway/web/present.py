"""How the pages write dates, times, amounts and trend lines, in the page's language.

Every time a person reads is in Copenhagen time; the API keeps UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from gateway.web.i18n import language
from schemas.insights import ProgressionSeries
from schemas.times import COPENHAGEN


def day(value: date | datetime | str | None) -> str:
    """A date as Danes write it (2.12.2026), or ISO 8601 in English; a moment's Danish day."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = value.astimezone(COPENHAGEN).date() if value.tzinfo else value.date()
    return f"{value.day}.{value.month}.{value.year}" if language() == "da" else value.isoformat()


def moment(value: datetime | None) -> str:
    """A moment in Copenhagen time, to the minute."""
    if value is None:
        return ""
    local = value.astimezone(COPENHAGEN) if value.tzinfo else value.replace(tzinfo=COPENHAGEN)
    return f"{day(local.date())} {local:%H:%M}"


def money(amount: float | None, currency: str = "DKK") -> str:
    """894.600 kr. in Danish, DKK 894,600 in English."""
    if amount is None:
        return ""
    whole = f"{round(amount):,}"
    if language() == "da":
        return f"{whole.replace(',', '.')} kr." if currency == "DKK" else f"{whole} {currency}"
    return f"{currency} {whole}"


@dataclass(frozen=True)
class Chart:
    """A series drawn in a small SVG: its line, its dots and the scale's ends."""

    width: int
    height: int
    line: str
    dots: list[tuple[float, float, str]]
    low: float
    high: float


def chart(series: ProgressionSeries, width: int = 260, height: int = 90) -> Chart:
    pad = 10
    values = [p.value for p in series.points]
    low = series.scale_min if series.scale_min is not None else min(values)
    high = series.scale_max if series.scale_max is not None else max(values)
    span = (high - low) or 1
    first, last = series.points[0].date, series.points[-1].date
    days = (last - first).days or 1

    def at(index: int) -> tuple[float, float]:
        point = series.points[index]
        x = pad + (width - 2 * pad) * ((point.date - first).days / days if len(values) > 1 else 0.5)
        y = height - pad - (height - 2 * pad) * ((point.value - low) / span)
        return round(x, 1), round(y, 1)

    coordinates = [at(i) for i in range(len(values))]
    return Chart(
        width=width,
        height=height,
        line=" ".join(f"{x},{y}" for x, y in coordinates),
        dots=[
            (x, y, f"{day(p.date)}: {p.value:g}")
            for (x, y), p in zip(coordinates, series.points, strict=True)
        ],
        low=low,
        high=high,
    )
