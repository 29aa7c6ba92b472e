"""The decision: may this requester see this department's data of this category, right now?

A pure function of (consent records, request, time): no session, no clock, no HTTP. Whatever the
order of the records, the answer is the same; adding a consent never takes a permission away.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from schemas.consent import ConsentRead, ConsentRef, ConsentStatus, DataPeriod
from schemas.fragment import Period
from schemas.times import COPENHAGEN


class Reason(StrEnum):
    OWN_DEPARTMENT = "own-department"
    CONSENT = "consent"
    NO_CONSENT = "no-consent"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    NOT_YET_VALID = "not-yet-valid"
    PURPOSE_MISMATCH = "purpose-mismatch"
    CATEGORY_NOT_COVERED = "category-not-covered"
    SPECIAL_CATEGORY_NOT_NAMED = "special-category-not-named"
    OUTSIDE_DATA_PERIOD = "outside-data-period"  # per fragment, at release


# When no consent permits, the denial names the consent that came closest: one that would have
# opened the data but for its state beats one with the wrong category, then the wrong purpose.
_DENIAL_PRECEDENCE = (
    Reason.WITHDRAWN,
    Reason.EXPIRED,
    Reason.NOT_YET_VALID,
    Reason.SPECIAL_CATEGORY_NOT_NAMED,
    Reason.CATEGORY_NOT_COVERED,
    Reason.PURPOSE_MISMATCH,
)


@dataclass(frozen=True)
class AccessRequest:
    citizen: str
    requester_department: str
    purpose: str
    scopes: frozenset[tuple[str, str]]  # (source department, category)
    special_categories: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Ruling:
    department: str
    category: str
    permit: bool
    reason: Reason
    consents: tuple[ConsentRef, ...] = ()
    # For a permit by consent: the data periods of the permitting consents (None: unlimited).
    data_periods: tuple[DataPeriod | None, ...] = ()

    def release_reason(self, period: Period) -> Reason | None:
        """None if a fragment with this period may be released under the ruling, else why not."""
        if not self.permit:
            return self.reason
        if self.reason is Reason.OWN_DEPARTMENT or None in self.data_periods:
            return None
        # An undated fragment cannot be shown to fall inside a limited data period.
        if period.start is None and period.end is None:
            return Reason.OUTSIDE_DATA_PERIOD
        for limit in self.data_periods:
            assert limit is not None
            if period.overlaps(Period(start=limit.start, end=limit.end)):
                return None
        return Reason.OUTSIDE_DATA_PERIOD


@dataclass(frozen=True)
class Decision:
    rulings: tuple[Ruling, ...]
    _index: dict[tuple[str, str], Ruling] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {(r.department, r.category): r for r in self.rulings})

    def ruling(self, department: str, category: str) -> Ruling:
        return self._index[(department, category)]

    def permitted_categories(self, department: str) -> frozenset[str]:
        return frozenset(
            r.category for r in self.rulings if r.department == department and r.permit
        )

    def consents_relied_on(self) -> tuple[ConsentRef, ...]:
        refs = {ref for r in self.rulings if r.permit for ref in r.consents}
        return tuple(sorted(refs, key=lambda ref: (ref.id, ref.version)))


def local_day(now: datetime, zone: ZoneInfo = COPENHAGEN) -> date:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(zone).date()


@dataclass(frozen=True)
class _Candidate:
    """A consent that speaks to this requester about this citizen, with its lists as sets."""

    consent: ConsentRead
    from_departments: frozenset[str]
    categories: frozenset[str]
    ref: ConsentRef  # made once per decision, not once per scope it permits


def _candidates(consents: Iterable[ConsentRead], request: AccessRequest) -> list[_Candidate]:
    return [
        _Candidate(
            c,
            frozenset(c.from_departments),
            frozenset(c.categories),
            ConsentRef(id=c.id, version=c.version),
        )
        for c in consents
        if c.citizen == request.citizen
        and request.requester_department in c.to_departments
        and c.status not in (ConsentStatus.SUPERSEDED, ConsentStatus.ENTERED_IN_ERROR)
    ]


def _assess(
    candidate: _Candidate, request: AccessRequest, department: str, category: str, today: date
) -> Reason | None:
    """What this one consent says about one scope; None when it does not speak to it at all."""
    consent = candidate.consent
    if department not in candidate.from_departments:
        return None
    if consent.purpose != request.purpose:
        return Reason.PURPOSE_MISMATCH
    if category not in candidate.categories:
        if category in request.special_categories:
            return Reason.SPECIAL_CATEGORY_NOT_NAMED
        return Reason.CATEGORY_NOT_COVERED
    if consent.status is ConsentStatus.WITHDRAWN:
        return Reason.WITHDRAWN
    if consent.status is ConsentStatus.EXPIRED or today > consent.valid_until:
        return Reason.EXPIRED
    if today < consent.valid_from:
        return Reason.NOT_YET_VALID
    return Reason.CONSENT


def _refs(candidates: Iterable[_Candidate]) -> tuple[ConsentRef, ...]:
    refs = {c.ref for c in candidates}
    return tuple(sorted(refs, key=lambda ref: (ref.id, ref.version)))


def _data_periods(candidates: list[_Candidate]) -> tuple[DataPeriod | None, ...]:
    ordered = sorted(candidates, key=lambda c: (c.consent.id, c.consent.version))
    return tuple(c.consent.data_period for c in ordered)


# What a set of consents contributes to a ruling (their refs; their data periods, when they
# permit), by the set's candidates: a consent opens many scopes of one decision, and each of
# them would otherwise sort the same one or two consents again.
_Shares = dict[tuple[int, ...], tuple[tuple[ConsentRef, ...], tuple[DataPeriod | None, ...]]]


def _shared(
    group: list[_Candidate], shares: _Shares
) -> tuple[tuple[ConsentRef, ...], tuple[DataPeriod | None, ...]]:
    key = tuple(id(candidate) for candidate in group)
    found = shares.get(key)
    if found is None:
        found = shares[key] = (_refs(group), _data_periods(group))
    return found


def _rule(
    candidates: list[_Candidate],
    request: AccessRequest,
    department: str,
    category: str,
    today: date,
    shares: _Shares,
) -> Ruling:
    if department == request.requester_department:
        return Ruling(department, category, permit=True, reason=Reason.OWN_DEPARTMENT)
    by_reason: dict[Reason, list[_Candidate]] = {}
    for candidate in candidates:
        reason = _assess(candidate, request, department, category, today)
        if reason is not None:
            by_reason.setdefault(reason, []).append(candidate)
    if Reason.CONSENT in by_reason:
        refs, periods = _shared(by_reason[Reason.CONSENT], shares)
        return Ruling(department, category, True, Reason.CONSENT, refs, periods)
    for reason in _DENIAL_PRECEDENCE:
        if reason in by_reason:
            refs, _ = _shared(by_reason[reason], shares)
            return Ruling(department, category, False, reason, refs)
    return Ruling(department, category, permit=False, reason=Reason.NO_CONSENT)


def decide(
    request: AccessRequest,
    consents: Iterable[ConsentRead],
    now: datetime,
    zone: ZoneInfo = COPENHAGEN,
) -> Decision:
    """Rule on every (source department, category) in the request."""
    today = local_day(now, zone)
    candidates = _candidates(consents, request)
    shares: _Shares = {}
    return Decision(
        tuple(
            _rule(candidates, request, department, category, today, shares)
            for department, category in sorted(request.scopes)
        )
    )
