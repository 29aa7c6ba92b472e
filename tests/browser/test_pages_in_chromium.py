"""The pages in a real browser: headless Chromium (Debian's package) driven by Playwright.

The issue's whole story, through the OpenID Connect sign-in: a caseworker opens a citizen and
sees the jobcenter not covered, records a consent (the preview shows what it opens) and sees
the jobcenter's data and the same help twice; the citizen signs in and withdraws it; the
caseworker's next view no longer shows it; the DPO sees these entries and a verified log;
IT operations checks a system. Every page is checked with axe-core (no serious or critical
violation of WCAG 2.1 A/AA) and photographed into the artifacts folder (git-ignored).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from demo.citizens import LARS_VESTERGAARD
from demo.identity import IdentityProvider
from demo.run import DEMO_STAFF
from demo.sources import source_configs
from demo.systems import SystemsInThread
from demo.test_citizens import TEST_CITIZEN
from tests.conftest import issuers_of
from tests.support import LiveGateway, live_gateway

CHROMIUM = Path(os.environ.get("HELHED_CHROMIUM", "/usr/bin/chromium"))
if not CHROMIUM.exists():
    pytest.skip(
        f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium; "
        ".ci/run installs it), or HELHED_CHROMIUM pointing at one",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright  # noqa: E402

# The machine has no network: without these flags Chromium stalls on refused connections.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = (Path(__file__).parent / "axe.min.js").read_text(encoding="utf-8")
ARTIFACTS = (
    Path(os.environ.get("HELHED_ARTIFACTS", Path(__file__).parents[2] / "test-artifacts"))
    / "browser"
)
LAPTOP = {"width": 1366, "height": 900}
TABLET = {"width": 820, "height": 1180}


def _staff(role: str, department: str | None = None) -> str:
    return next(
        s.name
        for s in DEMO_STAFF
        if s.role == role and (department is None or s.department == department)
    )


@pytest.fixture(scope="module")
def browser(site: LiveGateway) -> Iterator[Browser]:
    """Started after the gateway: Playwright's loop would stop the gateway's own asyncio.run."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def site(
    systems: SystemsInThread,
    identity_provider: IdentityProvider,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveGateway]:
    """A gateway of its own (no other test's consents) trusting the demo's provider."""
    home = tmp_path_factory.mktemp("browser")
    with live_gateway(
        home,
        f"sqlite:///{home / 'helhed.db'}",
        source_configs(systems.systems),
        issuers=issuers_of(identity_provider),
    ) as live:
        yield live


class Tour:
    """One person's browser: sign in, look, check each page with axe, photograph it."""

    def __init__(self, context: BrowserContext, site: LiveGateway, who: str) -> None:
        self.context = context
        self.site = site
        self.who = who
        context.add_init_script(script=AXE)  # evaluated by the browser itself, beside the CSP
        self.page: Page = context.new_page()
        self.page.set_default_timeout(15_000)

    def go(self, path: str) -> Page:
        self.page.goto(self.site.base_url + path)
        return self.page

    def sign_in(self, issuer_label: str, name: str) -> None:
        self.go("/")
        self.check("signin")
        self.page.get_by_role("link", name=issuer_label).click()
        self.page.get_by_role("button", name=name).click()
        self.page.wait_for_url(self.site.base_url + "/")
        self.check("home")

    def check(self, name: str, page: Page | None = None) -> None:
        """axe-core on the page as it is now, then a screenshot."""
        page = page or self.page
        result: dict[str, Any] = page.evaluate(
            """() => axe.run(document, {runOnly: {type: "tag",
                 values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})"""
        )
        serious = [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{self.who}-{name}.png", full_page=True)
        assert serious == [], f"{self.who} {name} ({page.url}): {json.dumps(serious, indent=1)}"


@pytest.fixture
def tour(browser: Browser, site: LiveGateway) -> Iterator[Any]:
    contexts: list[BrowserContext] = []

    def start(who: str, viewport: dict[str, int] = LAPTOP) -> Tour:
        context = browser.new_context(viewport=viewport, locale="da-DK")
        contexts.append(context)
        return Tour(context, site, who)

    yield start
    for context in contexts:
        context.close()


def _coverage_of(page: Page, department: str) -> str:
    row = page.locator("#h-coverage + table tbody tr", has_text=department).first
    return row.inner_text()


def _view(tour: Tour, cpr: str) -> Page:
    page = tour.go("/citizen")
    page.get_by_label("CPR-nummer").fill(cpr)
    page.get_by_role("button", name="Vis", exact=True).click()
    expect(page.get_by_role("heading", name="Hvad overblikket dækker")).to_be_visible()
    return page


def test_the_story_of_one_consent_through_every_role(tour: Any, site: LiveGateway) -> None:
    lars = LARS_VESTERGAARD
    caseworker = tour("caseworker")
    caseworker.sign_in("Staff: municipal sign-in", _staff("caseworker", "adult-social"))
    # By keyboard alone: the skip link comes first and leads to the content.
    caseworker.go("/citizen")
    caseworker.page.keyboard.press("Tab")
    expect(caseworker.page.get_by_role("link", name="Gå til indholdet")).to_be_focused()
    caseworker.page.keyboard.press("Enter")
    caseworker.page.keyboard.press("Tab")
    expect(caseworker.page.get_by_label("CPR-nummer")).to_be_focused()

    page = _view(caseworker, lars.cpr)
    assert "Ikke dækket af et samtykke" in _coverage_of(page, "Jobcenter")
    assert "Samme hjælp to gange" not in page.content()
    caseworker.check("citizen-view-before-consent")

    form = page.locator("#consent-form")
    form.locator("fieldset", has_text="Oplysninger fra").get_by_label("Jobcenter").check()
    shared = form.locator("fieldset", has_text="Hvad der må deles")
    for category in ("Sagsoverblik", "Indsatser", "Ydelser"):
        shared.get_by_label(category).check()
    form.get_by_label("Gælder til og med").fill((date.today() + timedelta(days=180)).isoformat())
    form.get_by_label("Reference").fill("J.nr. 27.36.12-G01-44-26")
    preview = page.locator("#preview")
    expect(preview).to_contain_text("Hvad samtykket vil åbne")  # htmx, as the form changed
    expect(preview).to_contain_text("ser indsatser fra Jobcenter")
    caseworker.check("consent-form-with-preview")
    form.get_by_role("button", name="Registrér samtykke").click()
    expect(page.get_by_role("status")).to_contain_text("aktivt")
    caseworker.check("consent-recorded")

    page.get_by_role("button", name="Tilbage til borgeroverblikket").click()
    expect(page.get_by_role("heading", name="Hvad overblikket dækker")).to_be_visible()
    assert "Med" in _coverage_of(page, "Jobcenter")
    attention = page.get_by_role("region", name="Værd at ringe om")
    expect(attention).to_contain_text("Samme hjælp to gange")
    expect(attention).to_contain_text("Mentorstøtte")
    expect(attention).to_contain_text("Afdelingerne er uenige om: Adresse")
    expect(page.locator("#h-cost + table")).to_contain_text("I alt")
    expect(page.locator("#h-progression ~ ul svg").first).to_be_visible()
    caseworker.check("citizen-view")
    with page.expect_popup() as opened:
        page.get_by_role("button", name="Fælles overblik til mødet (udskriv)").click()
    overview = opened.value
    expect(overview.get_by_role("heading", name="Fælles overblik")).to_be_visible()
    caseworker.check("joint-overview", overview)
    caseworker.go("/consents")
    caseworker.check("consents")

    tablet = tour("caseworker-tablet", TABLET)
    tablet.sign_in("Staff: municipal sign-in", _staff("caseworker", "adult-social"))
    _view(tablet, lars.cpr)
    tablet.check("citizen-view")

    citizen = tour("citizen")
    citizen.sign_in("Citizens: MitID", lars.name)
    mine = citizen.go("/my-consents")
    expect(mine.get_by_role("heading", name="Helhedsorienteret plan · Aktivt")).to_be_visible()
    citizen.check("my-consents")
    mine.get_by_role("button", name="Tilbagekald dette samtykke").click()
    expect(mine.get_by_role("status")).to_contain_text("tilbagekaldt")
    expect(mine.get_by_role("link", name="Hent din kvittering")).to_be_visible()
    citizen.check("withdrawn")
    citizen.go("/my-report")
    citizen.check("my-report")

    page = _view(caseworker, lars.cpr)
    assert "Ikke dækket af et samtykke" in _coverage_of(page, "Jobcenter")
    assert "Mentorstøtte" not in page.content()

    dpo = tour("dpo")
    dpo.sign_in("Staff: municipal sign-in", _staff("dpo"))
    log = dpo.go("/audit")
    table = log.locator("table").first
    for action in ("Borgeroverblik", "Samtykke registreret", "Samtykke tilbagekaldt"):
        expect(table).to_contain_text(action)
    dpo.check("audit")
    log.get_by_role("button", name="Verificér nu").click()
    expect(log.get_by_role("status")).to_contain_text("fuldstændig og uændret")
    dpo.check("verify")
    dpo.go("/audit")
    expect(log.locator(".panel")).to_contain_text("fuldstændig og uændret")
    for path, name in (("/audit/anomalies", "anomalies"), ("/audit/reports", "reports")):
        dpo.go(path)
        dpo.check(name)

    itops = tour("itops")
    itops.sign_in("Staff: municipal sign-in", _staff("itops"))
    systems = itops.go("/sources")
    itops.check("sources")
    jobcenter = systems.locator("tr", has_text="REST/JSON")
    jobcenter.get_by_label("Testborgers CPR (valgfrit)").fill(TEST_CITIZEN)
    jobcenter.get_by_role("button", name="Tjek nu").click()
    expect(systems.get_by_role("status")).to_contain_text("Ingen problemer")
    expect(systems.get_by_role("heading", name="Oversatte poster")).to_be_visible()
    itops.check("source-checked")
    english = tour("english")
    english.go("/")
    english.page.get_by_role("button", name="English").click()
    expect(english.page.get_by_role("heading", name="Sign in")).to_be_visible()
    english.check("signin")


def test_screenshots_are_kept_as_artifacts() -> None:
    """The run leaves a picture of every page it checked (CI keeps the folder)."""
    assert ARTIFACTS.is_dir()
    assert len(list(ARTIFACTS.glob("*.png"))) >= 15
