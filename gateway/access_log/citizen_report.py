"""The citizen's insight report (GDPR art. 15 as CJEU C-579/21 reads it): when their data was
consulted, for which purpose and by which department; the employee withheld unless the DPO asks.
Each line carries its inclusion proof against one signed checkpoint, so the report can be checked
without trusting the gateway that printed it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jinja2 import Environment
from sqlmodel import Session, col, select

from gateway.access_log import proofs, tree_store
from gateway.access_log.entries import citizen_subject
from gateway.access_log.models import PRUNED, AccessEntryRow, CheckpointRow
from gateway.cpr_protection import CprProtector
from schemas.access import AccessEntryBody, Action

MAX_LINES = 5000

DESCRIPTIONS = {
    Action.VIEW: "Information about you was looked up across departments",
    Action.CONSENT_RECORD: "A consent from you was recorded",
    Action.CONSENT_READ: "A consent of yours was read",
    Action.CONSENT_SEARCH: "Your consents were looked up",
    Action.CONSENT_WITHDRAW: "A consent of yours was withdrawn",
    Action.AUDIT_QUERY: "The data protection officer searched the access log for you",
    Action.AUDIT_REPORT: "An insight report about you was made",
    Action.AUDIT_EXPORT: "The access log was exported",
    Action.CONSENT_VERSION: "A consent of yours was changed",
    Action.CONSENT_EXPIRE: "A consent of yours ran out",
    Action.CONSENT_ENTERED_IN_ERROR: "A consent recorded by mistake was struck out",
    Action.CONSENT_PREVIEW: "What a consent from you would share was previewed",
    Action.CONSENT_RECEIPT: "The receipt for a consent of yours was fetched",
    Action.SOURCE_CHECK: "IT operations checked a department system with your records",
    Action.AUDIT_PROOF: "A proof about an entry concerning you was made",
    Action.SOURCES_READ: "A department system was asked about you",
}
# Entries of these actions never name a citizen, so they never reach a report.
NEVER_ABOUT_A_CITIZEN = frozenset(
    {Action.AUDIT_VERIFY, Action.SIGN_IN, Action.SIGN_OUT, Action.VIEW_BURST,
     Action.AUDIT_RETENTION}
)  # fmt: skip


def report_lines(
    *,
    session: Session,
    protector: CprProtector,
    citizen: str,
    since: datetime | None,
    until: datetime | None,
    show_employees: bool,
) -> list[dict[str, Any]]:
    """Every entry about the citizen, oldest first, except the citizen's own report requests."""
    own = citizen_subject(citizen, protector)
    query = select(AccessEntryRow).where(
        col(AccessEntryRow.citizen_hash) == protector.lookup_hash(citizen)
    )
    if since is not None:
        query = query.where(col(AccessEntryRow.at) >= since)
    if until is not None:
        query = query.where(col(AccessEntryRow.at) < until)
    rows = session.exec(query.order_by(col(AccessEntryRow.seq)).limit(MAX_LINES))
    lines = []
    for row in rows:
        if row.body == PRUNED or (row.actor_subject == own and row.action == Action.AUDIT_REPORT):
            continue
        body = AccessEntryBody.model_validate_json(row.body)
        released = sorted(
            {(line.department, line.category) for line in body.released if line.fragments > 0}
        )
        lines.append(
            {
                "seq": body.seq,
                "at": body.at,
                "action": body.action.value,
                "description": DESCRIPTIONS.get(body.action, body.action.value),
                "purpose": body.purpose,
                "department": body.actor.department,
                "outcome": body.outcome.value,
                "reason": body.reason,
                "released": [{"department": d, "category": c} for d, c in released],
                "employee": (
                    {"subject": body.actor.subject, "name": body.actor.name}
                    if show_employees
                    else None
                ),
            }
        )
    return lines


def attach_proofs(
    *, session: Session, lines: list[dict[str, Any]], checkpoint: CheckpointRow
) -> None:
    for line in lines:
        seq = line["seq"]
        hashes = tree_store.inclusion_proof(session, index=seq - 1, size=checkpoint.size)
        leaf = tree_store.leaf_hashes(session, [seq])[seq]
        line["proof"] = {
            "leaf_index": seq - 1,
            "tree_size": checkpoint.size,
            "leaf_hash": proofs.b64(leaf),
            "hashes": [proofs.b64(h) for h in hashes],
        }


_PAGE = Environment(autoescape=True).from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Who has used your information</title>
<style>
 body { font: 11pt/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
 table { border-collapse: collapse; width: 100%; }
 th, td { border-bottom: 1px solid #ccc; padding: .35em .5em; text-align: left; }
 th { background: #f3f3f3; }
 .proof { font: 7pt monospace; color: #666; word-break: break-all; }
 @media print { .proof { display: none; } }
</style></head><body>
<h1>Who has used your information</h1>
<p>Made {{ generated_at }} for the citizen with CPR ending in {{ cpr_tail }}.
{% if not show_employees %}The employees' names are not shown; the department is.{% endif %}</p>
{% if lines %}
<table>
<thead><tr><th>When</th><th>What</th><th>Department</th><th>Purpose</th><th>Shared</th>
<th>Outcome</th>{% if show_employees %}<th>Employee</th>{% endif %}</tr></thead>
<tbody>
{% for line in lines %}
<tr><td>{{ line.at.strftime("%Y-%m-%d %H:%M") }}</td><td>{{ line.description }}</td>
<td>{{ line.department or "" }}</td><td>{{ line.purpose or "" }}</td>
<td>{% for r in line.released %}{{ r.department }}: {{ r.category }}<br>{% endfor %}</td>
<td>{{ line.outcome }}{% if line.reason %} ({{ line.reason }}){% endif %}</td>
{% if show_employees %}<td>{{ line.employee.name if line.employee else "" }}</td>{% endif %}</tr>
<tr><td colspan="7" class="proof">entry {{ line.seq }} · leaf {{ line.proof.leaf_hash }} ·
path {{ line.proof.hashes | join(" ") }}</td></tr>
{% endfor %}
</tbody></table>
{% else %}<p>Nobody has used your information in this period.</p>{% endif %}
<h2>Proof</h2>
<p>Each line is entry number N in the municipality's access log; the hashes under it prove that
the entry is in the log whose state is signed below (RFC 9162 inclusion proofs; the public key
is at /v1/keys).</p>
<pre>{{ checkpoint }}</pre>
</body></html>
"""
)


def render_html(report: dict[str, Any], *, show_employees: bool) -> str:
    return _PAGE.render(**report, cpr_tail=report["citizen"][-4:], show_employees=show_employees)
