"""`helhed demo`: simulated department systems, the gateway and sample citizens, on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import shlex
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
import tomli_w
import uvicorn
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from consent.decision import local_day
from demo.citizens import CITIZENS, seed_consents
from demo.identity import IdentityProvider
from demo.identity.demo_realms import citizens_realm, staff_realm, trusted_issuers
from demo.sources import source_configs
from demo.systems import make_systems
from gateway.app import create_app
from gateway.auth.dev_issuer import mint_token
from gateway.catalog_defaults import DEPARTMENTS
from gateway.logging_setup import install_cpr_redaction
from gateway.migrate import upgrade
from gateway.runtime import build_runtime
from gateway.settings import CONFIG_FILE_NAME, ConfigError, Settings, load_settings

console = Console(highlight=False)


@dataclass(frozen=True)
class DemoUser:
    key: str
    subject: str
    name: str
    role: str
    department: str | None
    looks_at: str | None = None  # a sample citizen whose view shows this department's side

    @property
    def env_name(self) -> str:
        return f"TOKEN_{self.key.upper().replace('-', '_')}"


DEMO_USERS = (
    DemoUser(
        "children-family", "mette.kjaer", "Mette Kjær", "caseworker", "children-family", "Sara Holm"
    ),
    DemoUser("jobcenter", "anders.bak", "Anders Bak", "caseworker", "jobcenter", "Sara Holm"),
    DemoUser(
        "adult-social",
        "amina.rahimi",
        "Amina Rahimi",
        "caseworker",
        "adult-social",
        "Lars Vestergaard",
    ),
    DemoUser("health", "karin.lund", "Karin Lund", "caseworker", "health", "Inger Poulsen"),
    DemoUser("dpo", "dorte.pedersen", "Dorte Pedersen", "dpo", None),
    DemoUser("itops", "ib.thomsen", "Ib Thomsen", "itops", None),
    # A citizen's own token names the citizen by CPR, as the national login does.
    DemoUser("citizen", CITIZENS[0].cpr, CITIZENS[0].name, "citizen", None),
)


# The demo runs at any hour: its tour at night must not fill the DPO's anomaly report with
# "outside working hours" (set it to true in .helhed/helhed.toml to see them flagged).
DEMO_AUDIT = {"flag_outside_working_hours": False}

# Citizens sign in through the citizens' realm, not as staff.
DEMO_STAFF = tuple(user for user in DEMO_USERS if user.role != "citizen")


def try_this(user: DemoUser) -> tuple[str, str]:
    """What this user can do in the demo, and the curl command that does it."""
    auth = f'-H "Authorization: Bearer ${user.env_name}"'
    if user.looks_at is not None:
        citizen = next(c for c in CITIZENS if c.name == user.looks_at)
        body = json.dumps({"citizen": citizen.cpr, "purpose": "coordinated-plan"})
        return (
            f"{user.name} ({user.department}) looks at {citizen.name}",
            f"curl -s -X POST $HELHED_URL/v1/views {auth} "
            f"-H 'Content-Type: application/json' -d {shlex.quote(body)}",
        )
    if user.role == "citizen":
        body = json.dumps({"citizen": user.subject})
        return (
            f"{user.name} (citizen) lists her own consents; she may withdraw them herself",
            f"curl -s -X POST $HELHED_URL/v1/consents/search {auth} "
            f"-H 'Content-Type: application/json' -d {shlex.quote(body)}",
        )
    if user.role == "dpo":
        return (
            f"{user.name} (DPO) reads the newest log entries, then verifies the whole log",
            f'curl -s "$HELHED_URL/v1/audit/entries?limit=5" {auth}; '
            f"curl -s $HELHED_URL/v1/audit/verify {auth}",
        )
    return (
        f"{user.name} (IT operations) sees every source's health, then checks the SOAP one",
        f"curl -s $HELHED_URL/v1/sources {auth}; "
        f"curl -s -X POST $HELHED_URL/v1/sources/adult-social-sensum/check {auth}",
    )


def demo_tokens(settings: Settings) -> dict[str, str]:
    return {
        user.key: mint_token(
            settings,
            subject=user.subject,
            name=user.name,
            roles=[user.role],
            department=user.department,
        )
        for user in DEMO_USERS
    }


def _same_consent(existing: dict[str, object], seed: dict[str, object]) -> bool:
    keys = ("purpose", "from_departments", "to_departments", "categories")
    return all(existing.get(k) == seed.get(k) for k in keys)


class SeedingFailed(RuntimeError):
    """A scenario's consent was refused: the gateway's problem document says why."""


async def _ok(response: aiohttp.ClientResponse) -> None:
    if response.status >= 400:
        raise SeedingFailed(f"{response.method} {response.url.path}: {await response.text()}")


async def seed_demo_consents(base_url: str, tokens: dict[str, str], today: date) -> int:
    """Record the scenarios' consents through the API, once: a rerun finds them and skips."""
    recorded = 0
    async with aiohttp.ClientSession(base_url) as http:
        for seed in seed_consents(today):
            body = {
                k: v for k, v in seed.items() if k not in ("withdraw", "recorded_by_department")
            }
            auth = {"Authorization": f"Bearer {tokens[str(seed['recorded_by_department'])]}"}
            async with http.post(
                "/v1/consents/search", json={"citizen": body["citizen"]}, headers=auth
            ) as response:
                await _ok(response)
                existing = (await response.json())["consents"]
            if any(_same_consent(c, body) for c in existing):
                continue
            async with http.post("/v1/consents", json=body, headers=auth) as response:
                await _ok(response)
                consent_id = (await response.json())["id"]
            if seed.get("withdraw"):
                async with http.post(
                    f"/v1/consents/{consent_id}/withdraw",
                    json={"reason": seed["withdraw"]},
                    headers=auth,
                ) as response:
                    await _ok(response)
            recorded += 1
    return recorded


def _without_nulls(value: Any) -> Any:
    """TOML has no null: a setting left out is the same as one set to its default."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def write_config_file(home: Path, settings: dict[str, Any]) -> Path:
    """The configuration the demo runs with, where `helhed` commands run in this folder find
    it (gateway.settings.found_config_file): `helhed sources check` checks the demo's sources.
    It holds the demo provider's client secret, so it is readable by its owner only."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / CONFIG_FILE_NAME
    header = (
        "# Written by `helhed demo` at each start: the configuration it runs with.\n"
        "# Commands run in this folder (helhed sources check, audit verify, ...) read it.\n"
    )
    path.write_text(header + tomli_w.dumps(_without_nulls(settings)), encoding="utf-8")
    path.chmod(0o600)
    return path


def write_token_file(home: Path, base_url: str, tokens: dict[str, str]) -> Path:
    lines = [f"export HELHED_URL={base_url}"]
    lines += [f"export {user.env_name}={tokens[user.key]}" for user in DEMO_USERS]
    path = home / "demo-tokens.env"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def print_tour(
    base_url: str, tokens: dict[str, str], token_file: Path, seeded: int, provider_url: str
) -> None:
    console.rule("[bold]Helhed demo")
    console.print(f"Gateway:    [bold]{base_url}[/bold]   (API docs: {base_url}/docs)")
    console.print(
        f"Web pages:  [bold]{base_url}/[/bold]   sign in as staff or as a citizen through the "
        "demo's own OpenID Connect provider (pick a user, no password)"
    )
    console.print(
        f"Sign-in:    [bold]{provider_url}[/bold]   the demo's OpenID Connect provider; issuers "
        f"{provider_url}/realms/staff and {provider_url}/realms/citizens (each with "
        "/.well-known/openid-configuration)"
    )
    console.print(f"Consents:   {seeded} recorded now from the scenarios (0 means: already there)")
    citizens = Table(title="Sample citizens (fictitious)", title_justify="left")
    citizens.add_column("CPR")
    citizens.add_column("Name")
    citizens.add_column("Situation")
    for citizen in CITIZENS:
        citizens.add_row(f"{citizen.cpr[:6]}-{citizen.cpr[6:]}", citizen.name, citizen.story)
    console.print(citizens)
    users = Table(title="Demo users (tokens valid 8 hours)", title_justify="left")
    users.add_column("Variable")
    users.add_column("Who")
    users.add_column("Role")
    for user in DEMO_USERS:
        users.add_row(user.env_name, user.name, f"{user.role} {user.department or ''}".strip())
    console.print(users)
    console.print(f"Load the tokens into your shell:  [bold]source {token_file}[/bold]")
    for user in DEMO_USERS:
        what, command = try_this(user)
        console.print(f"\n{what}:")
        console.print(escape(command), soft_wrap=True)
    console.print("\nEvery token, in full, for tools that cannot read the file:")
    for user in DEMO_USERS:
        console.print(f"{user.env_name}={tokens[user.key]}", soft_wrap=True)
    console.rule("Ctrl-C stops the demo")


async def _serve(settings: Settings, host: str, port: int, provider_url: str) -> None:
    runtime = build_runtime(settings)
    upgrade(runtime.engine)
    server = uvicorn.Server(
        uvicorn.Config(create_app(runtime), host=host, port=port, log_level="warning")
    )
    install_cpr_redaction()
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            await serving  # startup failed (port in use, …): let its error surface
            return
        await asyncio.sleep(0.05)
    base_url = f"http://{host}:{port}"
    tokens = demo_tokens(settings)
    seeded = await seed_demo_consents(base_url, tokens, local_day(runtime.clock.now()))
    token_file = write_token_file(settings.home, base_url, tokens)
    print_tour(base_url, tokens, token_file, seeded, provider_url)
    await serving


async def _start_identity_provider(
    host: str,
) -> tuple[IdentityProvider, uvicorn.Server, asyncio.Task[None], str]:
    """The demo's OpenID Connect provider on a port of its own: staff and citizens' realms."""
    secret = secrets.token_urlsafe(24)
    provider = IdentityProvider([staff_realm(DEMO_STAFF, secret), citizens_realm(CITIZENS)])
    # Issuer URLs must be reachable by the browser: a wildcard address is not.
    reachable = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    server = uvicorn.Server(
        uvicorn.Config(provider.app, host=reachable, port=0, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            await serving
        await asyncio.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    provider.bind(f"http://{reachable}:{bound}")
    return provider, server, serving, secret


async def _main(host: str, port: int) -> None:
    systems = make_systems()
    for system in systems.values():
        await system.start()
    provider, provider_server, provider_serving, secret = await _start_identity_provider(host)
    provider_url = provider.realms["staff"].issuer.rsplit("/realms/", 1)[0]
    try:
        try:
            sources = source_configs(systems)
            issuers = trusted_issuers(provider, secret, [d.slug for d in DEPARTMENTS])
            settings = load_settings(None, sources=sources, issuers=issuers, audit=DEMO_AUDIT)
        except ConfigError as error:
            console.print(f"[red]Configuration error[/red]\n{error}")
            return
        write_config_file(
            settings.home, {"sources": sources, "issuers": issuers, "audit": DEMO_AUDIT}
        )
        await _serve(settings, host, port, provider_url)
    finally:
        provider_server.should_exit = True
        # Let it shut down before the loop ends: a task left running is cancelled inside its
        # lifespan, and Ctrl-C printed that cancellation as an ERROR with a traceback.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(provider_serving, timeout=5)
        for system in systems.values():
            await system.stop()


def run_demo(host: str = "127.0.0.1", port: int = 8000) -> None:
    asyncio.run(_main(host, port))
