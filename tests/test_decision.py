"""The decision engine: plain asserts and hypothesis properties, no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from consent.decision import AccessRequest, Reason, decide
from schemas.consent import ConsentRead, ConsentStatus
from schemas.fragment import Period

DEPARTMENTS = ["children-family", "jobcenter", "adult-social", "health"]
CATEGORIES = ["case-overview", "interventions", "benefits", "health"]
SPECIAL = frozenset({"health"})
PURPOSES = ["coordinated-plan", "case-assessment"]
CITIZENS = ["0101901234", "0202852345"]
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)


def consent(**changes: object) -> ConsentRead:
    fields: dict[str, object] = {
        "id": "c1",
        "version": 1,
        "status": "active",
        "citizen": CITIZENS[0],
        "given_by": {"kind": "self"},
        "from_departments": ["jobcenter"],
        "to_departments": ["children-family"],
        "categories": ["case-overview", "benefits"],
        "purpose": "coordinated-plan",
        "valid_from": TODAY - timedelta(days=10),
        "valid_until": TODAY + timedelta(days=100),
        "evidence": {"kind": "signed-form", "reference": "J.nr. 1"},
        "recorded_by": {"subject": "u1", "department": "children-family"},
        "recorded_at": NOW - timedelta(days=10),
    }
    fields.update(changes)
    return ConsentRead.model_validate(fields)


def request(**changes: object) -> AccessRequest:
    fields: dict[str, object] = {
        "citizen": CITIZENS[0],
        "requester_department": "children-family",
        "purpose": "coordinated-plan",
        "scopes": frozenset((d, c) for d in DEPARTMENTS for c in CATEGORIES),
        "special_categories": SPECIAL,
    }
    fields.update(changes)
    return AccessRequest(**fields)  # type: ignore[arg-type]


def reason_for(department: str, category: str, *consents: ConsentRead, **req: object) -> Reason:
    return decide(request(**req), consents, NOW).ruling(department, category).reason


def test_own_department_is_permitted_without_consent() -> None:
    decision = decide(request(), [], NOW)
    assert decision.permitted_categories("children-family") == frozenset(CATEGORIES)
    assert decision.ruling("children-family", "health").reason is Reason.OWN_DEPARTMENT
    assert decision.permitted_categories("jobcenter") == frozenset()
    assert decision.ruling("jobcenter", "benefits").reason is Reason.NO_CONSENT


def test_consent_opens_exactly_its_scope() -> None:
    decision = decide(request(), [consent()], NOW)
    assert decision.permitted_categories("jobcenter") == {"case-overview", "benefits"}
    ruling = decision.ruling("jobcenter", "benefits")
    assert ruling.permit
    assert ruling.reason is Reason.CONSENT
    assert [(r.id, r.version) for r in ruling.consents] == [("c1", 1)]
    assert decision.ruling("jobcenter", "interventions").reason is Reason.CATEGORY_NOT_COVERED
    assert decision.permitted_categories("adult-social") == frozenset()
    assert [(r.id, r.version) for r in decision.consents_relied_on()] == [("c1", 1)]


def test_each_denial_names_its_reason() -> None:
    yesterday, tomorrow = TODAY - timedelta(days=1), TODAY + timedelta(days=1)
    cases = {
        Reason.WITHDRAWN: consent(status="withdrawn"),
        Reason.EXPIRED: consent(valid_from=TODAY - timedelta(days=30), valid_until=yesterday),
        Reason.NOT_YET_VALID: consent(valid_from=tomorrow),
        Reason.PURPOSE_MISMATCH: consent(purpose="case-assessment"),
    }
    for expected, record in cases.items():
        assert reason_for("jobcenter", "benefits", record) is expected
    assert reason_for("jobcenter", "benefits", consent(status="expired")) is Reason.EXPIRED
    assert reason_for("jobcenter", "health", consent()) is Reason.SPECIAL_CATEGORY_NOT_NAMED


def test_validity_days_are_inclusive_in_danish_time() -> None:
    last_day = consent(valid_until=TODAY)
    assert reason_for("jobcenter", "benefits", last_day) is Reason.CONSENT
    # 23:30 UTC on the last day is already the next day in Copenhagen.
    late = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)
    assert decide(request(), [last_day], late).ruling("jobcenter", "benefits").reason is (
        Reason.EXPIRED
    )


def test_consent_for_another_recipient_or_citizen_opens_nothing() -> None:
    for record in (consent(to_departments=["adult-social"]), consent(citizen=CITIZENS[1])):
        assert reason_for("jobcenter", "benefits", record) is Reason.NO_CONSENT


def test_superseded_and_entered_in_error_are_ignored() -> None:
    for status in ("superseded", "entered-in-error"):
        assert reason_for("jobcenter", "benefits", consent(status=status)) is Reason.NO_CONSENT


def test_a_closer_denial_wins_over_a_farther_one() -> None:
    withdrawn = consent(id="a", status="withdrawn")
    other_purpose = consent(id="b", purpose="case-assessment")
    for order in ((withdrawn, other_purpose), (other_purpose, withdrawn)):
        ruling = decide(request(), order, NOW).ruling("jobcenter", "benefits")
        assert ruling.reason is Reason.WITHDRAWN
        assert [r.id for r in ruling.consents] == ["a"]


# --- properties ----------------------------------------------------------------------------

dates = st.dates(min_value=TODAY - timedelta(days=400), max_value=TODAY + timedelta(days=400))


@st.composite
def data_periods(draw: st.DrawFn) -> dict[str, str] | None:
    start, end = draw(st.one_of(st.none(), dates)), draw(st.one_of(st.none(), dates))
    if start is None and end is None:
        return None
    if start and end and end < start:
        start, end = end, start
    return {k: v.isoformat() for k, v in (("start", start), ("end", end)) if v is not None}


@st.composite
def consents(draw: st.DrawFn) -> ConsentRead:
    start = draw(dates)
    return consent(
        data_period=draw(data_periods()),
        id=draw(st.sampled_from(["a", "b", "c", "d", "e", "f"])),
        version=draw(st.integers(1, 3)),
        status=draw(st.sampled_from(list(ConsentStatus))),
        citizen=draw(st.sampled_from(CITIZENS)),
        from_departments=draw(st.lists(st.sampled_from(DEPARTMENTS), min_size=1, unique=True)),
        to_departments=draw(st.lists(st.sampled_from(DEPARTMENTS), min_size=1, unique=True)),
        categories=draw(st.lists(st.sampled_from(CATEGORIES), min_size=1, unique=True)),
        purpose=draw(st.sampled_from(PURPOSES)),
        valid_from=start,
        valid_until=start + timedelta(days=draw(st.integers(0, 400))),
    )


# Distinct (id, version) pairs, as the database guarantees.
record_lists = st.lists(consents(), max_size=6, unique_by=lambda c: (c.id, c.version))

requests = st.builds(
    request,
    citizen=st.sampled_from(CITIZENS),
    requester_department=st.sampled_from(DEPARTMENTS),
    purpose=st.sampled_from(PURPOSES),
)


def _in_scope(c: ConsentRead, req: AccessRequest, department: str, category: str) -> bool:
    return (
        c.status is ConsentStatus.ACTIVE
        and c.citizen == req.citizen
        and req.requester_department in c.to_departments
        and department in c.from_departments
        and category in c.categories
        and c.purpose == req.purpose
        and c.valid_from <= TODAY <= c.valid_until
    )


@settings(max_examples=300)
@given(record_lists, requests)
def test_nothing_outside_an_active_consents_scope_is_permitted(records, req) -> None:
    for ruling in decide(req, records, NOW).rulings:
        if not ruling.permit:
            continue
        if ruling.department == req.requester_department:
            assert ruling.reason is Reason.OWN_DEPARTMENT
            continue
        assert ruling.consents, "a permit across departments must name its consents"
        relied = {(r.id, r.version) for r in ruling.consents}
        supporting = [c for c in records if (c.id, c.version) in relied]
        assert all(_in_scope(c, req, ruling.department, ruling.category) for c in supporting)


@settings(max_examples=300)
@given(record_lists, requests)
def test_withdrawn_and_expired_consents_never_permit(records, req) -> None:
    closed = [
        c
        for c in records
        if c.status in (ConsentStatus.WITHDRAWN, ConsentStatus.EXPIRED) or c.valid_until < TODAY
    ]
    for ruling in decide(req, closed, NOW).rulings:
        assert ruling.permit == (ruling.department == req.requester_department)


@settings(max_examples=300)
@given(record_lists, consents(), requests)
def test_adding_a_consent_never_removes_a_permission(records, extra, req) -> None:
    before = {(r.department, r.category) for r in decide(req, records, NOW).rulings if r.permit}
    after = {
        (r.department, r.category) for r in decide(req, [*records, extra], NOW).rulings if r.permit
    }
    assert before <= after


@settings(max_examples=300)
@given(record_lists, requests, st.randoms())
def test_the_order_of_the_records_does_not_matter(records, req, rng) -> None:
    shuffled = list(records)
    rng.shuffle(shuffled)
    assert decide(req, records, NOW) == decide(req, shuffled, NOW)


fragment_periods = st.builds(
    lambda a, b: Period(start=min(a, b) if a and b else a, end=max(a, b) if a and b else b),
    st.one_of(st.none(), dates),
    st.one_of(st.none(), dates),
)


@settings(max_examples=300)
@given(record_lists, requests, fragment_periods)
def test_a_fragment_is_released_only_within_a_permitting_consents_data_period(
    records, req, period
) -> None:
    for ruling in decide(req, records, NOW).rulings:
        verdict = ruling.release_reason(period)
        if not ruling.permit:
            assert verdict is ruling.reason
            continue
        if ruling.reason is Reason.OWN_DEPARTMENT:
            assert verdict is None
            continue
        relied = {(r.id, r.version) for r in ruling.consents}
        limits = [c.data_period for c in records if (c.id, c.version) in relied]
        undated = period.start is None and period.end is None
        inside = any(
            limit is None
            or (not undated and period.overlaps(Period(start=limit.start, end=limit.end)))
            for limit in limits
        )
        assert (verdict is None) == inside
        if verdict is not None:
            assert verdict is Reason.OUTSIDE_DATA_PERIOD


def test_data_period_edges() -> None:
    limited = consent(data_period={"start": "2025-01-01", "end": "2025-12-31"})
    ruling = decide(request(), [limited], NOW).ruling("jobcenter", "benefits")
    inside = Period(start=date(2025, 12, 31), end=date(2026, 3, 1))
    before = Period(start=date(2024, 1, 1), end=date(2024, 12, 31))
    assert ruling.release_reason(inside) is None, "touching the last day counts"
    assert ruling.release_reason(before) is Reason.OUTSIDE_DATA_PERIOD
    assert ruling.release_reason(Period()) is Reason.OUTSIDE_DATA_PERIOD, "undated: not provable"
    unlimited = decide(request(), [limited, consent(id="c2")], NOW).ruling("jobcenter", "benefits")
    assert unlimited.release_reason(Period()) is None


@settings(max_examples=200)
@given(record_lists, requests)
def test_special_categories_open_only_when_named(records, req) -> None:
    decision = decide(req, records, NOW)
    for ruling in decision.rulings:
        if ruling.category in SPECIAL and ruling.permit and ruling.reason is Reason.CONSENT:
            relied = {(r.id, r.version) for r in ruling.consents}
            assert all("health" in c.categories for c in records if (c.id, c.version) in relied)
