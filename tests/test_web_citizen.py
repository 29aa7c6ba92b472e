"""The citizen's own page: their consents, use counts, receipts and one-click withdrawal."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from gateway.auth.actor import Actor
from tests.builders import consent_body
from tests.oidc import page_session
from tests.support import LiveGateway


def _citizen_browser(gateway: LiveGateway, cpr: str) -> tuple[httpx.Client, str]:
    actor = Actor(
        subject="mitid-pseudonym",
        name="Sara Holm",
        department=None,
        roles=("citizen",),
        issuer="urn:helhed:dev-issuer",
        token_id=None,
        cpr=cpr,
    )
    cookies, csrf = page_session(gateway, actor)
    cookies["helhed_lang"] = "en"
    return httpx.Client(base_url=gateway.base_url, cookies=cookies, timeout=30), csrf


def test_a_citizen_sees_uses_and_withdraws_their_own_consents_on_the_page(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    citizen, stranger = twin_of("Sara Holm"), twin_of("Sara Holm")
    mine = gateway.post("/v1/consents", consent_body(citizen)).json()["id"]
    theirs = gateway.post("/v1/consents", consent_body(stranger)).json()["id"]
    gateway.view(citizen)
    browser, csrf = _citizen_browser(gateway, citizen)
    with browser:
        listed = browser.get("/my-consents")
        assert listed.status_code == 200
        assert mine in listed.text
        assert theirs not in listed.text
        assert "Used once" in listed.text
        assert citizen not in listed.text, "the page never prints the CPR"

        receipt = browser.get(f"/my-consents/{mine}/receipt")
        assert receipt.status_code == 200
        assert "attachment" in receipt.headers["content-disposition"]
        assert receipt.text.count(".") == 2, "a compact JWS"
        assert browser.get(f"/my-consents/{theirs}/receipt").status_code == 404

        refused = browser.post(f"/consents/{mine}/withdraw", data={"reason": "No csrf"})
        assert refused.status_code == 403
        withdrawn = browser.post(
            f"/consents/{mine}/withdraw", data={"reason": "Changed my mind", "csrf": csrf}
        )
        assert withdrawn.status_code == 200
        assert "withdrawn" in withdrawn.text
        foreign = browser.post(
            f"/consents/{theirs}/withdraw", data={"reason": "Not mine", "csrf": csrf}
        )
        assert foreign.status_code == 404
    assert gateway.view(citizen).json()["consents"] == []
    assert gateway.view(stranger).json()["consents"], "the other citizen's consent still holds"


def test_a_citizen_sees_who_has_used_their_data_and_nobody_elses(
    gateway: LiveGateway, twin_of: Callable[[str], str]
) -> None:
    citizen, stranger = twin_of("Sara Holm"), twin_of("Sara Holm")
    for cpr in (citizen, stranger):
        gateway.post("/v1/consents", consent_body(cpr)).raise_for_status()
        gateway.view(cpr).raise_for_status()
    browser, csrf = _citizen_browser(gateway, citizen)
    with browser:
        own = browser.get("/my-report")
        assert own.status_code == 200, own.text
        assert "Hvem har brugt dine oplysninger" in own.text
        assert f"slutter på {citizen[-4:]}" in own.text
        assert "Formål: Helhedsorienteret plan" in own.text, "the purpose, by its Danish name"
        assert "Børn og Familie så oplysninger om dig" in own.text, "the department that looked"
        assert "coordinated-plan" not in own.text, "no slugs for the citizen"
        assert "Test caseworker" not in own.text, "employees' names are withheld"
        # Asking for somebody else's report through the form is refused.
        other = browser.post("/audit/citizen-report", data={"csrf": csrf, "citizen": stranger})
        assert other.status_code == 403
        assert "not_your_report" in other.text
