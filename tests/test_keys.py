"""Keys in production: keyrings from environment variables or named files, never written to the
key folder, and what `helhed keys rotate` does with each."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from gateway.cli import app as cli
from gateway.cpr_protection import CprProtector
from gateway.keys import new_symmetric_keyring
from gateway.signing.keys import _new_keyring
from tests.builders import consent_body


def test_keyrings_from_the_environment_are_used_and_the_key_folder_gets_none_of_them(
    own_gateway: Callable[..., Any],
    twin_of: Callable[[str], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    aes = new_symmetric_keyring()
    aes_kid = json.loads(aes)["keys"][0]["kid"]
    mounted = tmp_path / "secrets" / "checkpoint.json"
    mounted.parent.mkdir()
    mounted.write_text(_new_keyring(), encoding="utf-8")
    checkpoint_kid = json.loads(mounted.read_text())["keys"][0]["kid"]
    monkeypatch.setenv("HELHED_KEY_CPR_AES", aes)
    monkeypatch.setenv("HELHED_KEY_CHECKPOINT_ED25519_FILE", str(mounted))
    citizen = twin_of("Sara Holm")
    with own_gateway(scheduler_enabled=False) as gateway:
        gateway.post("/v1/consents", consent_body(citizen)).raise_for_status()
        asyncio.run(gateway.app.state.jobs.run_once("audit-checkpoint"))
        assert gateway.http is not None
        jwks = gateway.http.get("/v1/keys").json()["keys"]
        assert [k["kid"] for k in jwks if k["helhed_use"] == "checkpoint"] == [checkpoint_kid]
        listed = gateway.http.get("/v1/audit/checkpoints").json()["checkpoints"]
        assert {c["key_id"] for c in listed} == {checkpoint_kid}
        with gateway.runtime.engine.connect() as connection:
            body = connection.execute(
                text("SELECT body FROM access_entry WHERE citizen_hash IS NOT NULL")
            ).scalar_one()
        assert json.loads(body)["citizen_ciphertext"].startswith(f"{aes_kid}.")
        assert gateway.verify()["ok"] is True

        folder = gateway.settings.keys_dir
        assert not (folder / "cpr-aes.json").exists()
        assert not (folder / "checkpoint-ed25519.json").exists()
        assert (folder / "receipt-ed25519.json").exists(), "keys not given are made as before"

        env = {"HELHED_HOME": str(gateway.settings.home)}
        # Inline: nothing can be written, so the rotated document is printed for the store.
        inline = CliRunner().invoke(cli, ["keys", "rotate", "--use", "cpr"], env=env)
        assert inline.exit_code == 0, inline.output
        printed = json.loads(inline.stdout)
        assert [k["kid"] for k in printed["keys"]][1:] == [aes_kid], "the old key stays"
        assert "HELHED_KEY_CPR_AES" in inline.stderr
        assert not (folder / "cpr-aes.json").exists()
        # Named file: rotated where it is.
        named = CliRunner().invoke(cli, ["keys", "rotate", "--use", "checkpoint"], env=env)
        assert named.exit_code == 0, named.output
        ring = [k["kid"] for k in json.loads(mounted.read_text())["keys"]]
        assert (len(ring), ring[1]) == (2, checkpoint_kid)


def test_a_key_file_named_in_the_environment_must_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mounted secret that is missing is a configuration error, not a reason to make a key."""
    missing = tmp_path / "not-mounted.json"
    monkeypatch.setenv("HELHED_KEY_CPR_AES_FILE", str(missing))
    with pytest.raises(FileNotFoundError, match="HELHED_KEY_CPR_AES_FILE"):
        CprProtector.from_keys_dir(tmp_path / "keys")
    assert not missing.exists()
