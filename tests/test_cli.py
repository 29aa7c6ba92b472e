"""The `helhed` command, run as users run it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from demo.citizens import CITIZENS
from demo.run import DEMO_STAFF
from demo.sources import SOURCE_NAMES
from gateway.cli import app as cli
from tests.support import LiveGateway


def test_a_token_from_the_cli_is_accepted_by_a_gateway_on_the_same_data_folder(
    gateway: LiveGateway,
) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "token",
            "--subject",
            "maja",
            "--name",
            "Mette Kjær",
            "--role",
            "caseworker",
            "--department",
            "children-family",
        ],
        env={"HELHED_HOME": str(gateway.settings.home)},
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert gateway.http is not None
    response = gateway.http.post(
        "/v1/views",
        json={"citizen": "0101901234", "purpose": "coordinated-plan"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200


def test_db_upgrade_creates_the_schema_and_is_idempotent(tmp_path: Path) -> None:
    env = {"HELHED_HOME": str(tmp_path)}
    for _ in range(2):
        result = CliRunner().invoke(cli, ["db", "upgrade"], env=env)
        assert result.exit_code == 0, result.output
    verify = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    assert verify.exit_code == 0
    assert "0 entries" in verify.output


def test_a_bad_configuration_names_the_file_the_source_and_the_field(tmp_path: Path) -> None:
    config = tmp_path / "helhed.toml"
    config.write_text(
        """
[[sources]]
name = "jobcenter-momentum"
kind = "rest_json"
department = "jobcenter"
categories = ["benefits"]
base_url = "http://127.0.0.1:9"
path = "/search"
[sources.mapping]
records = "data"
[sources.mapping.fields]
id = "id"
citizen = "cpr"
""",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli, ["serve", "--config", str(config)], env={"HELHED_HOME": str(tmp_path)}
    )
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert str(config) in message
    assert "jobcenter-momentum" in message
    assert "category, kind, title" in message


def test_an_unknown_department_in_a_source_is_refused_with_its_place(tmp_path: Path) -> None:
    config = tmp_path / "helhed.toml"
    config.write_text(
        '[[sources]]\nname = "payroll"\nkind = "rest_json"\ndepartment = "payroll"\n'
        'categories = ["benefits"]\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["db", "upgrade", "--config", str(config)])
    assert result.exit_code == 2
    assert "sources[payroll].department" in result.output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_demo(home: Path, port: int) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "demo", "--port", str(port)],
        env={**os.environ, "HELHED_HOME": str(home), "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    output, deadline = "", time.monotonic() + 60
    while "Ctrl-C stops the demo" not in output:
        line = process.stdout.readline()
        if not line and (process.poll() is not None or time.monotonic() > deadline):
            process.kill()
            output += process.communicate()[0]
            pytest.fail(f"the demo did not start:\n{output}")
        output += line
    return process, output


def _stop(process: subprocess.Popen[str]) -> str:
    """Ctrl-C, as a user stops it; returns what it printed while stopping."""
    process.send_signal(signal.SIGINT)
    try:
        rest, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("the demo did not stop on Ctrl-C")
    return rest


def _tokens(home: Path) -> dict[str, str]:
    text = (home / "demo-tokens.env").read_text(encoding="utf-8")
    return dict(re.findall(r"^export (\w+)=(.+)$", text, flags=re.MULTILINE))


def test_the_demo_serves_the_tour_in_the_readme(tmp_path: Path) -> None:
    port = _free_port()
    process, output = _start_demo(tmp_path, port)
    try:
        assert f"http://127.0.0.1:{port}" in output
        for citizen in CITIZENS:
            assert citizen.name in output
        tokens = _tokens(tmp_path)
        url = tokens["HELHED_URL"]
        sara = CITIZENS[0].cpr
        caseworker = {"Authorization": f"Bearer {tokens['TOKEN_CHILDREN_FAMILY']}"}
        view = httpx.post(
            f"{url}/v1/views",
            json={"citizen": sara, "purpose": "coordinated-plan"},
            headers=caseworker,
        ).json()
        assert any(f["department"] == "jobcenter" for f in view["timeline"]), "seeded consent"
        verify = httpx.get(
            f"{url}/v1/audit/verify", headers={"Authorization": f"Bearer {tokens['TOKEN_DPO']}"}
        ).json()
        assert verify["ok"] is True
        assert verify["entries"] > 7
        # The web pages sign in through the demo's own OpenID Connect provider.
        with httpx.Client(base_url=url, follow_redirects=True, timeout=30) as browser:
            provider_page = browser.get("/signin/staff")
            assert "Mette Kjær" in provider_page.text
            home = browser.post(str(provider_page.url), data={"user": "mette.kjaer"})
            assert home.url.path == "/"
            assert "Slå en borger op" in home.text
        # Issue 13 item 13: the provider's address is printed, as the README says.
        provider = re.search(r"Sign-in:\s+(http://\S+)", output)
        assert provider is not None, output
        discovery = httpx.get(f"{provider.group(1)}/realms/staff/.well-known/openid-configuration")
        assert discovery.json()["issuer"] == f"{provider.group(1)}/realms/staff"
        # Issue 13 item 3: in the demo's folder, `helhed sources check` checks the demo's sources.
        checked = CliRunner().invoke(
            cli, ["sources", "check"], env={"HELHED_HOME": str(tmp_path), "COLUMNS": "200"}
        )
        assert checked.exit_code == 0, checked.output
        assert all(f"{name} (" in checked.output for name in SOURCE_NAMES.values())
    finally:
        _stop(process)
    # A second start on the same data folder finds its consents and records none twice.
    process, output = _start_demo(tmp_path, port)
    stopping = _stop(process)
    assert re.search(r"Consents:\s+0 recorded", output)
    # Ctrl-C stops it quietly: the sign-in provider's server used to be cancelled mid-lifespan
    # and printed that as an ERROR with a traceback.
    assert "Traceback" not in stopping, stopping
    assert "ERROR" not in stopping, stopping


def test_no_demo_employee_shares_a_name_with_a_demo_citizen() -> None:
    """Issue 13 item 13: the caseworker "Jonas Berg" was also a citizen, and "Maja Holm"
    shared her surname with Sara and Noah Holm: a tour got confusing."""
    citizen_names = {part for citizen in CITIZENS for part in citizen.name.split()}
    for user in DEMO_STAFF:
        assert not set(user.name.split()) & citizen_names, user.name
