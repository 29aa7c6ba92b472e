"""The access log: tamper evidence, 'no log, no data', who may read it, and CPRs at rest."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from gateway.access_log.verify import verify_log
from gateway.cli import app as cli
from gateway.db import read_session
from tests.builders import consent_body
from tests.support import LiveGateway


def _sql(gateway: LiveGateway, *statements: str) -> None:
    with gateway.runtime.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


def _lift_append_only_guard(gateway: LiveGateway) -> None:
    """What an intruder with database rights would do first."""
    if gateway.runtime.engine.dialect.name == "sqlite":
        _sql(
            gateway,
            "DROP TRIGGER access_entry_no_update",
            "DROP TRIGGER access_entry_no_delete",
        )
    else:
        _sql(gateway, "ALTER TABLE access_entry DISABLE TRIGGER access_entry_append_only")


def _lift_node_guard(gateway: LiveGateway) -> None:
    if gateway.runtime.engine.dialect.name == "sqlite":
        _sql(gateway, "DROP TRIGGER merkle_node_no_update", "DROP TRIGGER merkle_node_no_delete")
    else:
        _sql(gateway, "ALTER TABLE merkle_node DISABLE TRIGGER merkle_node_append_only")


def _cli_verify(gateway: LiveGateway) -> Any:
    env = {
        "HELHED_HOME": str(gateway.settings.home),
        "HELHED_DATABASE_URL": gateway.settings.sqlalchemy_url,
    }
    return CliRunner().invoke(cli, ["audit", "verify"], env=env)


def _some_traffic(gateway: LiveGateway, citizen: str) -> None:
    consent_id = gateway.post("/v1/consents", consent_body(citizen)).json()["id"]
    gateway.view(citizen)
    gateway.post(f"/v1/consents/{consent_id}/withdraw", {"reason": "Changed her mind"})
    gateway.view(citizen)


def test_changing_one_stored_entry_is_detected_at_that_entry(
    own_gateway: Callable[..., Any], twin_of: Callable[[str], str]
) -> None:
    with own_gateway() as gateway:
        _some_traffic(gateway, twin_of("Sara Holm"))
        assert gateway.verify()["ok"] is True
        assert _cli_verify(gateway).exit_code == 0
        _lift_append_only_guard(gateway)
        _sql(
            gateway,
            "UPDATE access_entry SET body = replace(body, '\"success\"', '\"denied\"') "
            "WHERE seq = 2",
        )
        report = gateway.verify()
        assert report["ok"] is False
        assert report["first_bad"] == 2
        result = _cli_verify(gateway)
        assert result.exit_code == 1
        assert "entry 2" in result.output
        # The same with the entries checked in two other processes, a few at a time.
        keys = [k.public_key for k in gateway.runtime.signing_keys.keyring("checkpoint")]
        with read_session(gateway.runtime.engine) as session:
            parallel = verify_log(
                session=session,
                keys=keys,
                chunk_level=1,
                workers=2,
                database_url=gateway.settings.sqlalchemy_url,
            )
        assert (parallel.ok, parallel.first_bad) == (False, 2)


def test_deleting_an_entry_is_detected_and_named(
    own_gateway: Callable[..., Any], twin_of: Callable[[str], str]
) -> None:
    with own_gateway() as gateway:
        _some_traffic(gateway, twin_of("Sara Holm"))
        _lift_append_only_guard(gateway)
        _sql(gateway, "DELETE FROM access_entry WHERE seq = 3")
        report = gateway.verify()
        assert (report["ok"], report["first_bad"]) == (False, 3)
        assert "missing" in report["reason"]


def test_an_index_column_that_disagrees_with_its_entry_is_detected(
    own_gateway: Callable[..., Any], twin_of: Callable[[str], str]
) -> None:
    with own_gateway() as gateway:
        _some_traffic(gateway, twin_of("Sara Holm"))
        _lift_append_only_guard(gateway)
        # Hiding an entry from the DPO's filters without touching the hashed body.
        _sql(gateway, "UPDATE access_entry SET actor_subject = 'someone-else' WHERE seq = 1")
        report = gateway.verify()
        assert (report["ok"], report["first_bad"]) == (False, 1)


def test_a_changed_or_missing_tree_node_is_detected_at_the_last_entry_it_covers(
    own_gateway: Callable[..., Any], twin_of: Callable[[str], str]
) -> None:
    with own_gateway(scheduler_enabled=False) as gateway:
        _some_traffic(gateway, twin_of("Sara Holm"))
        _lift_node_guard(gateway)
        keys = [k.public_key for k in gateway.runtime.signing_keys.keyring("checkpoint")]

        def verify(chunk_level: int) -> tuple[bool, int | None, str | None]:
            with read_session(gateway.runtime.engine) as session:
                report = verify_log(session=session, keys=keys, chunk_level=chunk_level)
            return report.ok, report.first_bad, report.reason

        sqlite = gateway.runtime.engine.dialect.name == "sqlite"
        forged = "zeroblob(32)" if sqlite else "'\\x" + "00" * 32 + "'"  # 32 zero bytes
        # Level 1 node 1 covers entries 3-4; level 2 node 0 covers 1-4. With runs of 2 entries
        # the first is checked inside a run, the second above the runs.
        for level, index in ((1, 1), (2, 0)):
            where = f"WHERE level = {level} AND idx = {index}"
            (kept,) = _rows_of(gateway, f"SELECT hash FROM merkle_node {where}")
            for change in (f"UPDATE merkle_node SET hash = {forged} {where}",
                           f"DELETE FROM merkle_node {where}"):  # fmt: skip
                _sql(gateway, change)
                for chunk_level in (14, 1):
                    ok, first_bad, reason = verify(chunk_level)
                    assert (ok, first_bad) == (False, 4), (change, chunk_level, reason)
                    assert f"node at level {level}" in (reason or ""), reason
                _sql(gateway, f"DELETE FROM merkle_node {where}")
                with gateway.runtime.engine.begin() as connection:
                    connection.execute(
                        text("INSERT INTO merkle_node (level, idx, hash) VALUES (:l, :i, :h)"),
                        {"l": level, "i": index, "h": kept[0]},
                    )
                assert verify(14)[0] is True


def _rows_of(gateway: LiveGateway, query: str) -> list[Any]:
    with gateway.runtime.engine.connect() as connection:
        return list(connection.execute(text(query)))


def test_the_database_itself_refuses_to_change_or_delete_entries(gateway: LiveGateway) -> None:
    gateway.view("0101901234")
    for statement in (
        "UPDATE access_entry SET outcome = 'denied'",
        "DELETE FROM access_entry",
    ):
        with pytest.raises(Exception, match="append-only"):
            _sql(gateway, statement)
    assert gateway.verify()["ok"] is True


def test_a_log_that_cannot_be_written_gives_503_and_releases_nothing(
    own_gateway: Callable[..., Any], twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Sara Holm")
    with own_gateway() as gateway:
        gateway.post("/v1/consents", consent_body(citizen)).raise_for_status()
        _sql(gateway, "ALTER TABLE access_entry RENAME TO access_entry_gone")
        view = gateway.view(citizen)
        assert view.status_code == 503
        assert view.headers["content-type"] == "application/problem+json"
        assert view.json()["code"] == "access_log_unavailable"
        assert citizen not in view.text
        assert "timeline" not in view.json()

        other = twin_of("Henrik Madsen")
        recorded = gateway.post("/v1/consents", consent_body(other))
        assert recorded.status_code == 503
        _sql(gateway, "ALTER TABLE access_entry_gone RENAME TO access_entry")
        found = gateway.post("/v1/consents/search", {"citizen": other}).json()
        assert found["consents"] == [], "a consent without its log entry must not exist"
        assert gateway.verify()["ok"] is True
        # Once the log can be written again, so can views: the committer does not stay broken.
        assert gateway.view(citizen).status_code == 200
        assert gateway.verify()["ok"] is True


@pytest.mark.parametrize(
    ("role", "department"),
    [("caseworker", "children-family"), ("itops", None), ("citizen", None)],
)
def test_only_the_dpo_reads_and_verifies_the_log(
    gateway: LiveGateway, role: str, department: str | None
) -> None:
    assert gateway.http is not None
    headers = gateway.headers(role, department)
    for path in ("/v1/audit/entries", "/v1/audit/verify"):
        response = gateway.http.get(path, headers=headers)
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
    # A citizen token's subject would be a CPR: the log never names a citizen actor by it.
    logged_as = "citizen" if role == "citizen" else f"{role}-{department or 'none'}"
    refused = gateway.audit_entries(outcome="denied", actor=logged_as)
    assert {e["action"] for e in refused} >= {"audit.query", "audit.verify"}


def test_the_dpo_filters_and_pages_and_each_read_is_logged(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Sara Holm")
    for _ in range(3):
        gateway.view(citizen, as_="jobcenter")
    assert gateway.http is not None
    dpo = gateway.headers("dpo", None)
    params = {"action": "view", "department": "jobcenter", "limit": "2"}
    first = gateway.http.get("/v1/audit/entries", params=params, headers=dpo).json()
    assert len(first["entries"]) == 2
    assert first["next_cursor"]
    second = gateway.http.get(
        "/v1/audit/entries", params={**params, "cursor": first["next_cursor"]}, headers=dpo
    ).json()
    seqs = [e["seq"] for e in first["entries"] + second["entries"]]
    assert seqs == sorted(seqs, reverse=True)
    assert len(set(seqs)) == len(seqs)
    assert all(e["actor"]["department"] == "jobcenter" for e in second["entries"])
    reads = gateway.audit_entries(action="audit.query", actor="dpo-none")
    assert any(e["detail"].get("filters", {}).get("department") == "jobcenter" for e in reads)
    # Times without an offset are Danish time; with one, as given.
    for since in ("2000-01-01T00:00:00", "2000-01-01T00:00:00+00:00"):
        page = gateway.http.get(
            "/v1/audit/entries", params={"since": since, "limit": "1"}, headers=dpo
        )
        assert page.status_code == 200
        assert len(page.json()["entries"]) == 1
    future = gateway.http.get(
        "/v1/audit/entries", params={"since": "2999-01-01T00:00:00"}, headers=dpo
    )
    assert future.json()["entries"] == []
    bad = gateway.http.get("/v1/audit/entries", params={"cursor": "x"}, headers=dpo)
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_cursor")


def _stored_text(gateway: LiveGateway) -> str:
    tables = ("access_entry", "consent", "consent_event", "log_head")
    with gateway.runtime.engine.connect() as connection:
        rows = [connection.execute(text(f"SELECT * FROM {table}")).fetchall() for table in tables]
    return repr(rows)


def test_cprs_are_never_stored_in_plain_text(
    own_gateway: Callable[..., Any], twin_of: Callable[[str], str]
) -> None:
    citizen = twin_of("Sara Holm")
    with own_gateway() as gateway:
        _some_traffic(gateway, citizen)
        gateway.view(f"{citizen[:6]}-{citizen[6:]}")
        stored = _stored_text(gateway)
        assert citizen not in stored
        assert f"{citizen[:6]}-{citizen[6:]}" not in stored
        # ... and yet the DPO can read the citizen back and find every entry by it.
        entries = [e for e in gateway.audit_entries() if e["citizen"] == citizen]
        assert len(entries) == 5
        url = gateway.settings.sqlalchemy_url
        if url.startswith("sqlite"):
            gateway.runtime.engine.dispose()
            database = url.removeprefix("sqlite:///")
            for path in (Path(database), Path(database + "-wal")):
                if path.exists():
                    assert citizen.encode() not in path.read_bytes()


def _checkpoint(gateway: LiveGateway) -> None:
    import asyncio

    asyncio.run(gateway.app.state.jobs.run_once("audit-checkpoint"))


def _rows(gateway: LiveGateway) -> list[dict[str, Any]]:
    with gateway.runtime.engine.connect() as connection:
        result = connection.execute(text("SELECT * FROM access_entry ORDER BY seq"))
        return [dict(row._mapping) for row in result]


def _insert(gateway: LiveGateway, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    statement = text(
        f"INSERT INTO access_entry ({', '.join(columns)}) "
        f"VALUES ({', '.join(':' + c for c in columns)})"
    )
    with gateway.runtime.engine.begin() as connection:
        for row in rows:
            connection.execute(statement, row)


def test_reordering_two_entries_is_detected_and_named(
    own_gateway: Callable[..., Any], twin_of: Callable[[str], str]
) -> None:
    with own_gateway(scheduler_enabled=False) as gateway:
        _some_traffic(gateway, twin_of("Sara Holm"))
        _lift_append_only_guard(gateway)
        rows = {row["seq"]: row for row in _rows(gateway)}
        _sql(gateway, "DELETE FROM access_entry WHERE seq IN (2, 3)")
        _insert(gateway, [{**rows[3], "seq": 2}, {**rows[2], "seq": 3}])
        report = gateway.verify()
        assert (report["ok"], report["first_bad"]) == (False, 2)
        assert "out of place" in report["reason"]


def test_inserting_an_entry_is_detected_and_named(
    own_gateway: Callable[..., Any], twin_of: Callable[[str], str]
) -> None:
    """A forged entry at position 3, well formed and correctly hashed, the rest moved up."""
    with own_gateway(scheduler_enabled=False) as gateway:
        _some_traffic(gateway, twin_of("Sara Holm"))
        _lift_append_only_guard(gateway)
        rows = _rows(gateway)
        forged_body = rows[2]["body"].replace('"outcome":"success"', '"outcome":"denied"')
        forged = {
            **rows[2],
            "outcome": "denied",
            "body": forged_body,
            "hash": hashlib.sha256(b"\x00" + forged_body.encode()).hexdigest(),
        }
        _sql(gateway, "DELETE FROM access_entry WHERE seq >= 3")
        _insert(gateway, [forged] + [{**row, "seq": row["seq"] + 1} for row in rows[2:]])
        _sql(gateway, f"UPDATE log_head SET size = {len(rows) + 1}")
        report = gateway.verify()
        assert (report["ok"], report["first_bad"]) == (False, 3)


def test_an_intruder_who_recomputes_every_hash_is_caught_by_the_signed_checkpoint(
    own_gateway: Callable[..., Any], twin_of: Callable[[str], str]
) -> None:
    with own_gateway(scheduler_enabled=False) as gateway:
        _some_traffic(gateway, twin_of("Sara Holm"))
        _checkpoint(gateway)
        assert gateway.verify()["ok"] is True
        size = len(_rows(gateway))
        # Rewrite entry 2 and rebuild everything derived from it: leaf, nodes, head.
        _lift_append_only_guard(gateway)
        _lift_node_guard(gateway)
        _sql(
            gateway,
            "UPDATE access_entry SET body = replace(body, '\"success\"', '\"denied\"'), "
            "outcome = 'denied' WHERE seq = 2",
        )
        from gateway.access_log import merkle

        leaves = [merkle.leaf_hash(row["body"].encode()) for row in _rows(gateway)]
        tree, completed = merkle.CompactRange(), []
        for leaf in leaves:
            tree.append(leaf, completed)
        with gateway.runtime.engine.begin() as connection:
            connection.execute(text("DELETE FROM merkle_node"))
            for level, idx, digest in completed:
                connection.execute(
                    text("INSERT INTO merkle_node (level, idx, hash) VALUES (:l, :i, :h)"),
                    {"l": level, "i": idx, "h": digest},
                )
            connection.execute(
                text("UPDATE access_entry SET hash = :h WHERE seq = 2"), {"h": leaves[1].hex()}
            )
            connection.execute(text("UPDATE log_head SET head_hash = :h"), {"h": tree.root().hex()})
        report = gateway.verify()
        assert report["ok"] is False
        assert "checkpoint" in report["reason"]
        assert report["first_bad"] <= size
