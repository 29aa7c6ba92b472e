"""Who may do what, written once: the code enforces this table and the docs print it."""

from __future__ import annotations

from enum import StrEnum

from schemas.access import Action


class Role(StrEnum):
    CASEWORKER = "caseworker"
    DPO = "dpo"
    ITOPS = "itops"
    CITIZEN = "citizen"


class Permission(StrEnum):
    VIEW_CITIZEN = "view-citizen"
    RECORD_CONSENT = "record-consent"
    READ_CONSENT = "read-consent"
    WITHDRAW_CONSENT = "withdraw-consent"
    READ_AUDIT = "read-audit"
    VERIFY_AUDIT = "verify-audit"
    VERSION_CONSENT = "version-consent"
    RETRACT_CONSENT = "retract-consent"  # mark entered-in-error
    LIST_OWN_CONSENTS = "list-own-consents"
    READ_OWN_RECEIPT = "read-own-receipt"
    WITHDRAW_OWN_CONSENT = "withdraw-own-consent"
    READ_SOURCES = "read-sources"
    CHECK_SOURCE = "check-source"
    REPORT_AUDIT = "report-audit"  # a citizen's insight report: the DPO's, or the citizen's own


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CASEWORKER: frozenset(
        {
            Permission.VIEW_CITIZEN,
            Permission.RECORD_CONSENT,
            Permission.READ_CONSENT,
            Permission.WITHDRAW_CONSENT,
            Permission.VERSION_CONSENT,
            Permission.RETRACT_CONSENT,
        }
    ),
    # The DPO reviews the log and never sees case data.
    Role.DPO: frozenset({Permission.READ_AUDIT, Permission.VERIFY_AUDIT, Permission.REPORT_AUDIT}),
    # IT operations run the sources; a check with a citizen is logged like any access.
    Role.ITOPS: frozenset({Permission.READ_SOURCES, Permission.CHECK_SOURCE}),
    # A citizen's token names the citizen: their own consents and insight report, nothing else.
    Role.CITIZEN: frozenset(
        {
            Permission.LIST_OWN_CONSENTS,
            Permission.READ_OWN_RECEIPT,
            Permission.WITHDRAW_OWN_CONSENT,
            Permission.REPORT_AUDIT,
        }
    ),
}

# Permissions exercised on behalf of a department: the token must name a known one.
DEPARTMENT_BOUND: frozenset[Permission] = frozenset(
    {
        Permission.VIEW_CITIZEN,
        Permission.RECORD_CONSENT,
        Permission.READ_CONSENT,
        Permission.WITHDRAW_CONSENT,
        Permission.VERSION_CONSENT,
        Permission.RETRACT_CONSENT,
    }
)

# The access-log action recorded when an attempt at a permission is refused.
AUDITED_ACTION: dict[Permission, Action] = {
    Permission.VIEW_CITIZEN: Action.VIEW,
    Permission.RECORD_CONSENT: Action.CONSENT_RECORD,
    Permission.READ_CONSENT: Action.CONSENT_READ,
    Permission.WITHDRAW_CONSENT: Action.CONSENT_WITHDRAW,
    Permission.READ_AUDIT: Action.AUDIT_QUERY,
    Permission.VERIFY_AUDIT: Action.AUDIT_VERIFY,
    Permission.VERSION_CONSENT: Action.CONSENT_VERSION,
    Permission.RETRACT_CONSENT: Action.CONSENT_ENTERED_IN_ERROR,
    Permission.LIST_OWN_CONSENTS: Action.CONSENT_SEARCH,
    Permission.READ_OWN_RECEIPT: Action.CONSENT_RECEIPT,
    Permission.WITHDRAW_OWN_CONSENT: Action.CONSENT_WITHDRAW,
    Permission.READ_SOURCES: Action.SOURCES_READ,
    Permission.CHECK_SOURCE: Action.SOURCE_CHECK,
    Permission.REPORT_AUDIT: Action.AUDIT_REPORT,
}


def permissions_of(roles: list[str]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        if role in Role.__members__.values():
            granted |= ROLE_PERMISSIONS[Role(role)]
    return frozenset(granted)
