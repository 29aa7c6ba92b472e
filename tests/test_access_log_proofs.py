"""The log's proofs and checkpoints, checked by a verifier written here from RFC 6962's
definitions and the C2SP signed-note spec, not from the product's code."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from typer.testing import CliRunner

from gateway.cli import app as cli
from tests.support import LiveGateway

# --- the independent verifier ------------------------------------------------------------


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _leaf(entry: bytes) -> bytes:
    return _h(b"\x00" + entry)


def _node(left: bytes, right: bytes) -> bytes:
    return _h(b"\x01" + left + right)


def _k(n: int) -> int:
    """RFC 6962: the largest power of two smaller than n."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _root_from_path(m: int, n: int, leaf: bytes, path: list[bytes]) -> bytes:
    """Undo PATH(m, D[n]) (RFC 6962 §2.1.1): its last element is the sibling at the top."""
    if n == 1:
        if path:
            raise ValueError("proof too long")
        return leaf
    if not path:
        raise ValueError("proof too short")
    k, rest, last = _k(n), path[:-1], path[-1]
    if m < k:
        return _node(_root_from_path(m, k, leaf, rest), last)
    return _node(last, _root_from_path(m - k, n - k, leaf, rest))


def _roots_from_subproof(
    m: int, n: int, whole: bool, proof: list[bytes], first_root: bytes
) -> tuple[bytes, bytes]:
    """Undo SUBPROOF(m, D[n], b) (RFC 6962 §2.1.2): (MTH of the old part, MTH of D[n])."""
    if m == n:
        if whole:
            if proof:
                raise ValueError("proof too long")
            return first_root, first_root
        if len(proof) != 1:
            raise ValueError("proof of the wrong length")
        return proof[0], proof[0]
    if not proof:
        raise ValueError("proof too short")
    k, rest, last = _k(n), proof[:-1], proof[-1]
    if m <= k:
        old, new = _roots_from_subproof(m, k, whole, rest, first_root)
        return old, _node(new, last)
    old, new = _roots_from_subproof(m - k, n - k, False, rest, first_root)
    return _node(last, old), _node(last, new)


def inclusion_ok(proof: dict[str, Any], root: bytes, size: int) -> bool:
    """Against a signed root of `size` entries: the proof must be for that tree."""
    if proof["tree_size"] != size:
        return False
    try:
        leaf = base64.b64decode(proof["leaf_hash"])
        if proof.get("entry") is not None and _leaf(base64.b64decode(proof["entry"])) != leaf:
            return False
        path = [base64.b64decode(h) for h in proof["hashes"]]
        if not 0 <= proof["leaf_index"] < proof["tree_size"]:
            return False
        return _root_from_path(proof["leaf_index"], proof["tree_size"], leaf, path) == root
    except ValueError:
        return False


def consistency_ok(proof: dict[str, Any], first_root: bytes, second_root: bytes) -> bool:
    try:
        path = [base64.b64decode(h) for h in proof["hashes"]]
        old, new = _roots_from_subproof(proof["first"], proof["second"], True, path, first_root)
    except ValueError:
        return False
    return old == first_root and new == second_root


def note_ok(note: str, jwks: dict[str, Any]) -> tuple[bool, int, bytes]:
    """C2SP signed note with an Ed25519 signature by one of the published checkpoint keys."""
    text, _, signatures = note.partition("\n\n")
    text += "\n"
    origin, size, root = text.split("\n")[:3]
    for line in signatures.strip("\n").split("\n"):
        assert line.startswith("\u2014 ")
        name, encoded = line[2:].rsplit(" ", 1)
        blob = base64.b64decode(encoded)
        for jwk in jwks["keys"]:
            if jwk["helhed_use"] != "checkpoint":
                continue
            raw = base64.urlsafe_b64decode(jwk["x"] + "==")
            key_id = _h(name.encode() + b"\n\x01" + raw)[:4]
            if name != origin or key_id != blob[:4]:
                continue
            try:
                Ed25519PublicKey.from_public_bytes(raw).verify(blob[4:], text.encode())
            except InvalidSignature:
                return False, 0, b""
            return True, int(size), base64.b64decode(root)
    return False, 0, b""


# --- helpers -------------------------------------------------------------------------------


def _entries(gateway: LiveGateway, count: int) -> None:
    """Log reads are entries too: the cheapest way to grow the log."""
    assert gateway.http is not None
    for _ in range(count):
        gateway.http.get("/v1/audit/entries?limit=1", headers=gateway.headers("dpo", None))


def checkpoint(gateway: LiveGateway) -> tuple[int, bytes, str]:
    asyncio.run(gateway.app.state.jobs.run_once("audit-checkpoint"))
    assert gateway.http is not None
    note = gateway.http.get("/v1/audit/checkpoints/latest").text
    jwks = gateway.http.get("/v1/keys").json()
    ok, size, root = note_ok(note, jwks)
    assert ok, note
    return size, root, note


def _flip(b64: str, at: int = 0) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[at % len(raw)] ^= 1
    return base64.b64encode(bytes(raw)).decode()


# --- tests ---------------------------------------------------------------------------------


def test_an_independent_verifier_accepts_the_proofs_and_rejects_any_single_change(
    own_gateway: Callable[..., Any],
) -> None:
    with own_gateway(scheduler_enabled=False) as gateway:
        assert gateway.http is not None
        dpo = gateway.headers("dpo", None)
        _entries(gateway, 13)
        first, first_root, _ = checkpoint(gateway)
        _entries(gateway, 24)
        second, second_root, note = checkpoint(gateway)
        assert 13 <= first < second

        for seq in sorted({1, 2, first, first + 1, second // 2, second}):
            proof = gateway.http.get(
                f"/v1/audit/entries/{seq}/proof", params={"tree_size": second}, headers=dpo
            ).json()
            assert proof["leaf_index"] == seq - 1
            assert json.loads(base64.b64decode(proof["entry"]))["seq"] == seq
            assert inclusion_ok(proof, second_root, second), seq
            changes: list[dict[str, Any]] = [
                {**proof, "leaf_index": proof["leaf_index"] ^ 1},
                {**proof, "tree_size": proof["tree_size"] + 1},
                {**proof, "leaf_hash": _flip(proof["leaf_hash"])},
                {**proof, "entry": _flip(proof["entry"], 40)},
                {**proof, "hashes": proof["hashes"] + [proof["leaf_hash"]]},
                {**proof, "hashes": proof["hashes"][:-1]},
            ]
            for i in range(len(proof["hashes"])):
                hashes = list(proof["hashes"])
                hashes[i] = _flip(hashes[i], i)
                changes.append({**proof, "hashes": hashes})
            for changed in changes:
                assert not inclusion_ok(changed, second_root, second), (seq, changed)
            assert not inclusion_ok(proof, first_root, second)

        # Sizes with a known root: 1 (the first leaf), and the two signed checkpoints.
        first_leaf = gateway.http.get(
            "/v1/audit/entries/1/proof", params={"tree_size": 1}, headers=dpo
        ).json()["leaf_hash"]
        for m, old_root in ((1, base64.b64decode(first_leaf)), (first, first_root)):
            proof = gateway.http.get(
                "/v1/audit/consistency", params={"first": m, "second": second}
            ).json()
            assert (proof["first"], proof["second"]) == (m, second)
            assert consistency_ok(proof, old_root, second_root), m
            assert not consistency_ok(proof, _flip_raw(old_root), second_root)
            assert not consistency_ok(proof, old_root, _flip_raw(second_root))
            assert not consistency_ok(
                {**proof, "hashes": proof["hashes"][:-1]}, old_root, second_root
            )
            for i in range(len(proof["hashes"])):
                hashes = list(proof["hashes"])
                hashes[i] = _flip(hashes[i], i)
                assert not consistency_ok({**proof, "hashes": hashes}, old_root, second_root)

        jwks = gateway.http.get("/v1/keys").json()
        lines = note.split("\n")
        for i, line in enumerate(lines):
            if not line:
                continue
            changed = list(lines)
            changed[i] = line[:-1] + ("A" if line[-1] != "A" else "B")
            assert not note_ok("\n".join(changed), jwks)[0], line

        listed = gateway.http.get("/v1/audit/checkpoints").json()["checkpoints"]
        assert [c["size"] for c in listed] == [first, second]
        assert listed[-1]["note"] == note


def _flip_raw(raw: bytes) -> bytes:
    return bytes([raw[0] ^ 1]) + raw[1:]


def test_a_proof_bundle_checks_offline_and_the_dpo_checks_growth_from_a_kept_checkpoint(
    own_gateway: Callable[..., Any], tmp_path: Path
) -> None:
    with own_gateway(scheduler_enabled=False) as gateway:
        _entries(gateway, 5)
        _size, _root, kept = checkpoint(gateway)
        _entries(gateway, 9)
        checkpoint(gateway)
        env = {
            "HELHED_HOME": str(gateway.settings.home),
            "HELHED_DATABASE_URL": gateway.settings.sqlalchemy_url,
        }
        runner = CliRunner()
        bundle = runner.invoke(cli, ["audit", "prove", "3"], env=env)
        assert bundle.exit_code == 0, bundle.output
        path = tmp_path / "bundle.json"
        path.write_text(bundle.stdout, encoding="utf-8")
        checked = runner.invoke(cli, ["audit", "check", str(path)])
        assert checked.exit_code == 0, checked.output
        document = json.loads(bundle.stdout)
        _ok, size, root = note_ok(document["checkpoint"], document["keys"])
        assert inclusion_ok(document["proof"], root, size)
        document["proof"]["entry"] = _flip(document["proof"]["entry"], 50)
        path.write_text(json.dumps(document), encoding="utf-8")
        assert runner.invoke(cli, ["audit", "check", str(path)]).exit_code == 1

        kept_file = tmp_path / "kept.txt"
        kept_file.write_text(kept, encoding="utf-8")
        grown = runner.invoke(cli, ["audit", "verify", "--since", str(kept_file)], env=env)
        assert grown.exit_code == 0, grown.output
        assert "grew from" in grown.output
        forged = kept.replace(kept.split("\n")[2], base64.b64encode(b"\x01" * 32).decode())
        kept_file.write_text(forged, encoding="utf-8")
        assert (
            runner.invoke(cli, ["audit", "verify", "--since", str(kept_file)], env=env).exit_code
            == 1
        )


def test_proofs_are_for_the_dpo_and_checkpoints_for_everyone(gateway: LiveGateway) -> None:
    assert gateway.http is not None
    _entries(gateway, 2)
    checkpoint(gateway)
    for role, department in (("caseworker", "children-family"), ("citizen", None)):
        response = gateway.http.get(
            "/v1/audit/entries/1/proof", headers=gateway.headers(role, department)
        )
        assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    assert gateway.http.get("/v1/audit/entries/1/proof").status_code == 401
    assert gateway.http.get("/v1/audit/checkpoints/latest").status_code == 200
    bad = gateway.http.get("/v1/audit/consistency", params={"first": 5, "second": 2})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_range")
    beyond = gateway.http.get("/v1/audit/consistency", params={"first": 1, "second": 10**9})
    assert (beyond.status_code, beyond.json()["code"]) == (422, "beyond_log")


def test_checkpoints_are_signed_by_the_job_every_1000_entries_and_on_shutdown(
    own_gateway: Callable[..., Any],
) -> None:
    with own_gateway(audit={"checkpoint_every_entries": 5}) as gateway:
        assert gateway.http is not None
        _entries(gateway, 12)  # the group commit signs at 5 and 10 on its own
        sizes = [c["size"] for c in gateway.http.get("/v1/audit/checkpoints").json()["checkpoints"]]
        assert {5, 10} <= set(sizes)
        engine_url = gateway.settings.sqlalchemy_url
        settings = gateway.settings
    from sqlalchemy import text as sql

    from gateway.db import make_engine

    engine = make_engine(engine_url)
    try:
        with engine.connect() as connection:
            size = connection.execute(sql("SELECT size FROM log_head")).scalar_one()
            last = connection.execute(sql("SELECT max(size) FROM log_checkpoint")).scalar_one()
        assert last == size, "the last entries were signed when the gateway stopped"
    finally:
        engine.dispose()
    assert settings.audit.checkpoint_every_entries == 5


def test_a_proof_for_an_entry_that_does_not_exist_is_a_404(gateway: LiveGateway) -> None:
    """Issue 13 item 11: it answered 409 not_yet_checkpointed, as if it were coming."""
    assert gateway.http is not None
    dpo = gateway.headers("dpo", None)
    beyond = gateway.verify()["entries"] + 1_000_000
    missing = gateway.http.get(f"/v1/audit/entries/{beyond}/proof", headers=dpo)
    assert missing.status_code == 404, missing.text
    assert missing.json()["code"] == "entry_not_found"
