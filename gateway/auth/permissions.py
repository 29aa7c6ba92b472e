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
    REPORT_AUDIT = "report-audit"  # a citizen's insight report: the DPO's, or the citizen's own


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CASEWORKER: frozenset(
        {
            Permission.VIEW_CITIZEN,
            Permission.RECORD_CONSENT,
            Permission.READ_CONSENT,
            Permission.WITHDRAW_CONSENT,
        }
    ),
    # The DPO reviews the log and never sees case data.
    Role.DPO: frozenset({Permission.READ_AUDIT, Permission.VERIFY_AUDIT, Permission.REPORT_AUDIT}),
    Role.ITOPS: frozenset(),
    Role.CITIZEN: frozenset({Permission.REPORT_AUDIT}),
}

# Permissions exercised on behalf of a department: the token must name a known one.
DEPARTMENT_BOUND: frozenset[Permission] = frozenset(
    {
        Permission.VIEW_CITIZEN,
        Permission.RECORD_CONSENT,
        Permission.READ_CONSENT,
        Permission.WITHDRAW_CONSENT,
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
    Permission.REPORT_AUDIT: Action.AUDIT_REPORT,
}


def permissions_of(roles: list[str]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        if role in Role.__members__.values():
            granted |= ROLE_PERMISSIONS[Role(role)]
    return frozenset(granted)
