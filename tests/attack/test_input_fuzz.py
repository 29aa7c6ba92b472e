"""Input fuzzing with hypothesis: the parsers that meet hostile or broken input.

Threat: malformed input from a client, a legacy system or a file (a CPR, a consent body, a
source's records, a nightly CSV drop, a checkpoint or proof bundle handed to the DPO). The
controls: each parser fails only with its documented error type, never hangs (every example
has a deadline), and a rejected CSV export or consent leaves the database exactly as before.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import io
import json
import string
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError
from sqlalchemy import Engine, text

from adapters.csv_drop import CsvDropAdapter
from adapters.mapping import FragmentMapping
from adapters.protocol import SourceConfig
from demo.records import dubu
from demo.sources import _MOMENTUM_MAPPING, source_configs
from demo.systems.dubu import COLUMNS, FILE_DATE_FORMAT, DubuExport, export_row
from gateway.access_log import merkle, signed_note
from gateway.access_log.bundle import FORMAT, check_bundle
from gateway.db import make_engine
from gateway.migrate import upgrade
from gateway.sources.drop_store import FragmentSeal, SqlDropStore
from schemas.consent import ConsentCreate
from schemas.cpr import birth_date, normalize_cpr
from schemas.times import Day, Moment
from tests.attack import examples
from tests.builders import consent_body
from tests.conftest import fresh_cpr
from tests.fuzz_summary import record, target_of
from tests.support import LiveGateway


def fuzz_settings(short: int, long: int) -> Callable[[Any], Any]:
    """Bounded in `make test`, many more under `make fuzz`; a generous deadline catches hangs
    without failing on a busy machine."""
    return settings(
        max_examples=examples(short, long),
        deadline=timedelta(seconds=5),
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


class Counted:
    """Counts the examples a target ran, for `make fuzz`'s summary."""

    def __init__(self, target: str) -> None:
        self.target, self.examples = target, 0

    def __call__(self) -> None:
        self.examples += 1


@pytest.fixture
def counted(request: pytest.FixtureRequest) -> Iterator[Counted]:
    counter = Counted(target_of(request.node.nodeid))
    yield counter
    record(counter.target, examples=counter.examples)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["", " ", "\x00", "0101901234", "2026-02-30", "9" * 5000]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


MOMENT, DAY = TypeAdapter(Moment), TypeAdapter(Day)

# --- the CPR parser ----------------------------------------------------------------------------


@fuzz_settings(300, 20_000)
@given(value=JSON | st.binary() | st.from_regex(r"\A\s*[0-9\u0660-\u0669]{6}-?[0-9]{4}\s*\Z"))
def test_cpr_parser_answers_a_cpr_or_invalid_cpr(value: Any, counted: Counted) -> None:
    counted()
    try:
        cpr = normalize_cpr(value)
    except PydanticCustomError as error:
        assert error.type == "invalid_cpr"  # noqa: PT017 (any other error fails the test)
        return
    assert len(cpr) == 10
    assert cpr.isascii()
    assert cpr.isdigit()
    birth_date(cpr)  # a CPR that is accepted has a birth date


@fuzz_settings(200, 10_000)
@given(born=st.dates(date(1858, 1, 1), date(2057, 12, 31)), serial=st.integers(0, 9999))
def test_every_real_cpr_is_accepted_in_both_spellings(
    born: date, serial: int, counted: Counted
) -> None:
    counted()
    cpr = born.strftime("%d%m%y") + f"{serial:04d}"
    try:
        found = birth_date(cpr)
    except ValueError:
        return  # 29 February in the century this serial gives (CPR-kontoret's table)
    assert normalize_cpr(cpr) == normalize_cpr(f"{cpr[:6]}-{cpr[6:]}") == cpr
    # The serial's seventh digit picks the century; day, month and year in it are the date's.
    assert (found.day, found.month, found.year % 100) == (born.day, born.month, born.year % 100)


@fuzz_settings(60, 3_000)
@given(
    moment=st.one_of(
        st.datetimes(max_value=datetime(1, 1, 9)),  # the calendar's edges, then anywhere
        st.datetimes(min_value=datetime(9999, 12, 24)),
        st.datetimes(),
    ).flatmap(
        lambda naive: (
            st.sampled_from([naive]) | st.timezones().map(lambda zone: naive.replace(tzinfo=zone))
        )
    ),
    day=st.dates(max_value=date(1, 1, 9)) | st.dates(min_value=date(9999, 12, 24)) | st.dates(),
)
@example(moment=datetime(1, 1, 1), day=date(9999, 12, 31))
def test_an_accepted_time_can_be_counted_with_in_utc(
    moment: datetime, day: date, counted: Counted
) -> None:
    """Times and days from clients: refused (invalid_time), or safe to move by a year in UTC."""
    counted()
    for adapter, value in ((MOMENT, moment), (DAY, day)):
        try:
            accepted = adapter.validate_python(value)
        except ValidationError as error:
            assert {e["type"] for e in error.errors()} == {"invalid_time"}  # noqa: PT017
            continue
        if isinstance(accepted, datetime):
            accepted = accepted.astimezone(UTC)
        assert accepted - timedelta(days=366) < accepted + timedelta(days=366)


# --- the consent validator and consent recording -----------------------------------------------

VALID_CONSENT = consent_body("0101901234")


@st.composite
def consent_bodies(draw: st.DrawFn) -> Any:
    """A valid consent body with some fields broken, dropped or added; sometimes any JSON."""
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON)
    body = json.loads(json.dumps(VALID_CONSENT))
    for key in draw(st.lists(st.sampled_from([*body, "extra"]), max_size=3, unique=True)):
        action = draw(st.sampled_from(["drop", "json", "text", "date"]))
        if action == "drop":
            body.pop(key, None)
        elif action == "json":
            body[key] = draw(JSON)
        elif action == "text":
            body[key] = draw(st.text(max_size=400))
        else:
            body[key] = draw(st.dates(date(1, 1, 1), date(9999, 12, 31))).isoformat()
    return body


@fuzz_settings(300, 20_000)
@given(body=consent_bodies())
def test_consent_validator_accepts_or_raises_validation_error(body: Any, counted: Counted) -> None:
    counted()
    try:
        consent = ConsentCreate.model_validate(body)
    except ValidationError:
        return
    assert consent.valid_from <= consent.valid_until
    assert len(consent.citizen) == 10


def _rows(engine: Engine, *tables: str) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables
        }


@pytest.fixture
def consent_gateway(own_gateway: Callable[..., Any]) -> Iterator[LiveGateway]:
    # No scheduler: its expiry job would write consent events between two snapshots.
    with own_gateway(scheduler_enabled=False) as gateway:
        yield gateway


@fuzz_settings(20, 2_000)
@given(body=consent_bodies())
def test_a_refused_consent_writes_nothing(
    consent_gateway: LiveGateway, body: Any, counted: Counted
) -> None:
    counted()
    if isinstance(body, dict) and "citizen" in body and body["citizen"] == "0101901234":
        body["citizen"] = fresh_cpr()  # each example its own citizen
    engine = consent_gateway.runtime.engine
    before = _rows(engine, "consent", "consent_event", "consent_usage")
    answer = consent_gateway.post("/v1/consents", body)
    after = _rows(engine, "consent", "consent_event", "consent_usage")
    assert answer.status_code < 500, answer.text
    if answer.status_code == 201:
        assert after["consent"] == before["consent"] + 1
    else:
        assert answer.json()["code"], answer.text
        assert after == before, f"{answer.status_code} {answer.text}"


# --- the mapping engine ------------------------------------------------------------------------

MOMENTUM = FragmentMapping.model_validate(_MOMENTUM_MAPPING)
MOMENTUM_KEYS = sorted({path.split(".")[0] for path in _MOMENTUM_MAPPING["fields"].values()})
MOMENTUM_KEYS = [k for k in MOMENTUM_KEYS if k.isidentifier()]
FIRST_HOUR = {"engagementId": "1", "personNumber": "0101901234", "type": "CASE", "title": "t"}
LEGACY_VALUES = (
    JSON
    | st.datetimes().map(datetime.isoformat)
    | st.datetimes(timezones=st.timezones()).map(datetime.isoformat)
    | st.sampled_from(["CASE", "BENEFIT", "MENTOR", "ACTIVE", "ENDED", "0101901234"])
)


@st.composite
def legacy_records(draw: st.DrawFn) -> Any:
    """A jobcenter record with any of its fields replaced by what a legacy system might send."""
    record_ = {
        "engagementId": draw(st.text(max_size=8) | st.integers()),
        "personNumber": "0101901234",
        "type": "CASE",
        "title": "Sag",
        "status": "ACTIVE",
        "lastModified": "2026-11-01T10:00:00",
    }
    for key in draw(st.lists(st.sampled_from(MOMENTUM_KEYS), max_size=5)):
        record_[key] = draw(LEGACY_VALUES)
    return record_ if draw(st.integers(0, 9)) else draw(JSON)


@fuzz_settings(60, 5_000)
@given(records=st.lists(legacy_records(), max_size=5), wrap=st.booleans())
# A time in the first hours of year 1, local time: in UTC it is before year 1.
@example(records=[{**FIRST_HOUR, "lastModified": "0001-01-01T00:00:00"}], wrap=True)
def test_mapping_maps_or_rejects_each_record_alone(
    records: list[Any], wrap: bool, counted: Counted
) -> None:
    counted()
    document = {"data": {"engagements": records}} if wrap else records
    result = MOMENTUM.map_document(document, source="jobcenter-momentum", department="jobcenter")
    if wrap:
        assert len(result.fragments) + len(result.rejected) == len(records)
    for fragment in result.fragments:
        assert (fragment.source, fragment.department) == ("jobcenter-momentum", "jobcenter")
        assert fragment.id.startswith("jobcenter-momentum:")
        assert normalize_cpr(fragment.citizen) == fragment.citizen


# --- the CSV importer --------------------------------------------------------------------------


def _valid_line(delimiter: str, **changes: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    row = export_row(dubu.RECORDS["0409144321"][0]) | changes
    writer.writerow(row[c] for c in COLUMNS)
    return buffer.getvalue()


@st.composite
def csv_exports(draw: st.DrawFn) -> bytes:
    """A DUBU export as it might arrive: BOMs, wrong delimiters, huge fields, stray quotes,
    NULs, cut lines, another encoding, or no CSV at all."""
    if draw(st.integers(0, 7)) == 0:
        return draw(st.binary(max_size=2000))
    delimiter = draw(st.sampled_from([";", ";", ",", "\t", "|"]))
    lines = [delimiter.join(COLUMNS) + "\r\n"]
    for _ in range(draw(st.integers(0, 6))):
        line = _valid_line(";").replace(";", delimiter)
        damage = draw(st.sampled_from(["none", "none", "cut", "quote", "huge", "junk", "nul"]))
        if damage == "cut":
            line = line[: draw(st.integers(0, len(line)))]
        elif damage == "quote":
            at = draw(st.integers(0, len(line)))
            line = line[:at] + '"' + line[at:]
        elif damage == "huge":
            line = line.replace(
                "Familiebehandling", "x" * draw(st.sampled_from([10**4, 2 * 10**5]))
            )
        elif damage == "junk":
            line = draw(st.text(string.printable + "æøå\x85\u2028", max_size=200)) + "\r\n"
        elif damage == "nul":
            line = line.replace("Aktiv", "Ak\x00tiv")
        lines.append(line)
    body = "".join(lines)
    bom = draw(st.sampled_from([b"\xef\xbb\xbf", b"", b"\xef\xbb\xbf\xef\xbb\xbf", b"\xff\xfe"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "latin-1", "utf-16"]))
    return bom + body.encode(encoding, errors="replace")


@pytest.fixture
def drop_source(tmp_path: Path, new_database: Callable[[], str]) -> Iterator[Any]:
    """The DUBU csv_drop source on the gateway's own store, in a real database of the backend."""
    export = DubuExport(tmp_path / "drop")
    asyncio.run(export.start())
    (config,) = source_configs({"children-family": export})  # type: ignore[dict-item]
    adapter = CsvDropAdapter(SourceConfig.model_validate(config))
    engine = make_engine(new_database())
    upgrade(engine)
    adapter.store = SqlDropStore(
        engine=engine,
        seal=FragmentSeal([("fuzz", AESGCM.generate_key(bit_length=256))]),
        lookup_hash=lambda cpr: hashlib.sha256(cpr.encode()).hexdigest(),
        now=lambda: datetime.now(UTC),
    )
    first = adapter.import_newest()  # the good export of today is in service
    assert first.skipped is None
    assert first.imported > 0
    days = iter(range(1, 100_000))
    yield adapter, engine, lambda: date.today() + timedelta(days=next(days))
    engine.dispose()


def _stored(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        exports = connection.execute(text("SELECT * FROM drop_export ORDER BY source")).all()
        fragments = connection.execute(text("SELECT * FROM drop_fragment ORDER BY id")).all()
    return [list(map(tuple, exports)), list(map(tuple, fragments))]


@fuzz_settings(40, 3_000)
@given(content=csv_exports())
def test_a_csv_export_is_imported_row_by_row_or_not_at_all(
    drop_source: Any, content: bytes, counted: Counted
) -> None:
    counted()
    adapter, engine, next_day = drop_source
    before = _stored(engine)
    path = adapter.options.folder / next_day().strftime(FILE_DATE_FORMAT)
    path.write_bytes(content)
    report = adapter.import_newest()
    if report.skipped is not None:
        assert _stored(engine) == before, report.skipped  # the previous export stays as it was
    else:
        assert report.imported + len(report.rejected) == report.rows
        assert adapter.store.current(adapter.config.name).file_name == path.name


def test_a_row_changed_in_the_first_hour_of_year_one_is_rejected_alone(drop_source: Any) -> None:
    """Found by the mapping fuzzer: its time in UTC is before year 1, an OverflowError that
    failed the whole import (and, from a REST source, the whole answer) instead of one row."""
    adapter, _engine, next_day = drop_source
    header = ";".join(COLUMNS) + "\r\n"
    rows = _valid_line(";") + _valid_line(";", sidst_aendret="01-01-0001 00:10:00")
    path = adapter.options.folder / next_day().strftime(FILE_DATE_FORMAT)
    path.write_bytes((header + rows).encode())
    report = adapter.import_newest()
    assert report.skipped is None
    assert (report.rows, report.imported, [r.record for r in report.rejected]) == (2, 1, [3])


# --- checkpoints and proofs --------------------------------------------------------------------

KEY = Ed25519PrivateKey.generate()
LEAVES = [merkle.leaf_hash(f"entry {i}".encode()) for i in range(13)]


def _root(size: int) -> bytes:
    tree = merkle.CompactRange()
    for leaf in LEAVES[:size]:
        tree.append(leaf)
    return tree.root()


NOTE = signed_note.sign(
    signed_note.checkpoint_text("helhed.test/log", 13, _root(13)), "helhed.test/log", KEY
)


@st.composite
def damaged_notes(draw: st.DrawFn) -> str:
    """The real checkpoint with lines replaced, cut, or made of anything; or any text."""
    if draw(st.integers(0, 5)) == 0:
        return draw(st.text(max_size=300))
    lines = NOTE.split("\n")
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(lines) - 1))
        lines[at] = draw(
            st.text(max_size=80)
            | st.sampled_from(["", "9" * 5000, "-1", "01", "\u2014 ", "\u2014 x !!", "=="])
        )
    return "\n".join(lines)


@fuzz_settings(200, 20_000)
@given(note=damaged_notes())
# Found by this fuzzer: a tree size of 5000 digits was int()'s ValueError, not a NoteError.
@example(note=NOTE.replace("\n13\n", "\n" + "9" * 5000 + "\n"))
def test_checkpoint_parser_parses_or_raises_note_error(note: str, counted: Counted) -> None:
    counted()
    try:
        parsed = signed_note.parse(note)
    except signed_note.NoteError:
        return
    public = KEY.public_key()
    if signed_note.verified_by(parsed, "helhed.test/log", [public]):
        assert parsed.text == signed_note.checkpoint_text(parsed.origin, 13, _root(13))


def _bundle(index: int) -> dict[str, Any]:
    raw = KEY.public_key().public_bytes_raw()
    return {
        "format": FORMAT,
        "proof": {
            "leaf_index": index,
            "tree_size": 13,
            "leaf_hash": base64.b64encode(LEAVES[index]).decode(),
            "hashes": [
                base64.b64encode(h).decode()
                for h in merkle.resolve(merkle.inclusion_parts(index, 13), _node)
            ],
            "entry": base64.b64encode(f"entry {index}".encode()).decode(),
        },
        "checkpoint": NOTE,
        "keys": {
            "keys": [
                {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": base64.urlsafe_b64encode(raw).decode().rstrip("="),
                }
            ]
        },
    }


def _node(node: tuple[int, int]) -> bytes:
    """The hash of a perfect subtree (level, index) of the test tree."""
    level, index = node
    tree = merkle.CompactRange()
    for leaf in LEAVES[index << level : (index + 1) << level]:
        tree.append(leaf)
    return tree.root()


def test_a_real_bundle_checks_out() -> None:
    for index in range(13):
        ok, message = check_bundle(json.dumps(_bundle(index)))
        assert ok, message


@st.composite
def damaged_bundles(draw: st.DrawFn) -> str:
    """A real proof bundle with members replaced by any JSON; or any JSON; or any text."""
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return draw(st.text(max_size=200))
    if choice == 1:
        return json.dumps(draw(JSON))
    bundle = _bundle(draw(st.integers(0, 12)))
    paths = [("format",), ("checkpoint",), ("keys",), ("keys", "keys"), ("proof",)]
    paths += [("proof", key) for key in bundle["proof"]]
    for path in draw(st.lists(st.sampled_from(paths), min_size=1, max_size=3)):
        target = bundle
        for key in path[:-1]:
            target = target[key] if isinstance(target, dict) else {}
        if isinstance(target, dict):
            target[path[-1]] = draw(JSON | st.sampled_from([[1, "x"], "AAAA", -1, 10**30, 2.5]))
    return json.dumps(bundle)


@fuzz_settings(150, 5_000)
@given(bundle=damaged_bundles())
# Found by this fuzzer: JSON that is not an object, a checkpoint that is not text, a leaf index
# that is not a number each crashed `helhed audit check` with a traceback.
@example(bundle="[]")
@example(bundle=json.dumps({**_bundle(0), "checkpoint": ["not", "text"]}))
@example(bundle=json.dumps({**_bundle(0), "proof": {**_bundle(0)["proof"], "leaf_index": "0"}}))
def test_a_damaged_bundle_is_refused_never_a_crash(bundle: str, counted: Counted) -> None:
    counted()
    ok, message = check_bundle(bundle)
    assert isinstance(message, str)
    if ok:  # only an unchanged bundle (or one changed in what is not checked) passes
        assert json.loads(bundle)["checkpoint"] == NOTE


@fuzz_settings(200, 20_000)
@given(
    index=st.integers(-(2**70), 2**70),
    size=st.integers(-(2**70), 2**70),
    first=st.integers(-(2**70), 2**70),
    proof=st.lists(st.binary(min_size=32, max_size=32), max_size=70),
)
def test_proof_checks_answer_true_or_false_without_hanging(
    index: int, size: int, first: int, proof: list[bytes], counted: Counted
) -> None:
    counted()
    leaf, root = LEAVES[0], _root(13)
    assert merkle.verify_inclusion(index=index, size=size, leaf=leaf, proof=proof, root=root) in {
        True,
        False,
    }
    assert merkle.verify_consistency(
        first=first, second=size, first_root=root, second_root=root, proof=proof
    ) in {True, False}
