"""The demo's two issuers, and the gateway configuration that trusts them.

Staff sign in through an Entra-like realm: app roles such as `Helhed.Caseworker` and security
groups such as `sg-helhed-jobcenter`, which the gateway maps to its roles and departments.
Citizens sign in through a realm shaped like the national login: a pseudonymous subject and the
CPR in `https://data.gov.dk/model/core/eid/cprNumber`; everyone there is a citizen, nothing more.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any, Protocol

from demo.identity.models import ProviderClient, ProviderUser
from demo.identity.provider import IdentityProvider, Realm

CLIENT_ID = "helhed-web"
# Loopback: any port (RFC 8252 section 7.3), so the demo and the tests may listen anywhere.
REDIRECT_URI = "http://127.0.0.1/signin/callback"
POST_LOGOUT_URI = "http://127.0.0.1/"  # the start page, on any loopback port
ROLE_NAMES = {"Helhed.Caseworker": "caseworker", "Helhed.DPO": "dpo", "Helhed.ITOps": "itops"}
CPR_CLAIM = "https://data.gov.dk/model/core/eid/cprNumber"


class StaffMember(Protocol):
    @property
    def subject(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def department(self) -> str | None: ...


class Citizen(Protocol):
    @property
    def cpr(self) -> str: ...
    @property
    def name(self) -> str: ...


def department_group(department: str) -> str:
    return f"sg-helhed-{department}"


def citizen_subject(cpr: str) -> str:
    """The national login gives a pseudonym per person, not the CPR, as the subject."""
    return "mitid-" + hashlib.sha256(f"demo:{cpr}".encode()).hexdigest()[:20]


def staff_realm(staff: Iterable[StaffMember], client_secret: str) -> Realm:
    provider_role = {role: name for name, role in ROLE_NAMES.items()}
    users = [
        ProviderUser(
            subject=member.subject,
            name=member.name,
            title=f"{member.role}, {member.department}" if member.department else member.role,
            claims={
                "roles": [provider_role[member.role]],
                "groups": [department_group(member.department)] if member.department else [],
            },
        )
        for member in staff
    ]
    client = ProviderClient(
        CLIENT_ID,
        (REDIRECT_URI,),
        client_secret=client_secret,
        post_logout_redirect_uris=(POST_LOGOUT_URI,),
    )
    return Realm("staff", "Municipal staff sign-in (simulated Entra ID)", users, [client])


def citizens_realm(citizens: Iterable[Citizen]) -> Realm:
    users = [
        ProviderUser(
            subject=citizen_subject(citizen.cpr),
            name=citizen.name,
            title=f"citizen, born {citizen.cpr[:6]}",
            claims={CPR_CLAIM: citizen.cpr},
        )
        for citizen in citizens
    ]
    # A public client: the code flow is protected by PKCE alone.
    client = ProviderClient(
        CLIENT_ID, (REDIRECT_URI,), post_logout_redirect_uris=(POST_LOGOUT_URI,)
    )
    return Realm("citizens", "Citizen sign-in (simulated MitID)", users, [client])


def trusted_issuers(
    provider: IdentityProvider, client_secret: str, departments: Iterable[str]
) -> list[dict[str, Any]]:
    """The `issuers` setting that makes a gateway trust the demo provider's realms."""
    staff, citizens = provider.realms["staff"], provider.realms["citizens"]
    return [
        {
            "issuer": staff.issuer,
            "name": "staff",
            "label": "Staff: municipal sign-in",
            "client_id": CLIENT_ID,
            "client_secret": client_secret,
            "claims": {"department": None, "groups": "groups", "roles": "roles"},
            "role_names": ROLE_NAMES,
            "group_departments": {department_group(d): d for d in departments},
            "allowed_roles": ["caseworker", "dpo", "itops"],
            "algorithms": ["RS256"],
        },
        {
            "issuer": citizens.issuer,
            "name": "citizens",
            "label": "Citizens: MitID",
            "client_id": CLIENT_ID,
            "claims": {"department": None, "roles": None, "cpr": CPR_CLAIM},
            "fixed_roles": ["citizen"],
            "allowed_roles": ["citizen"],
            "algorithms": ["RS256"],
        },
    ]
