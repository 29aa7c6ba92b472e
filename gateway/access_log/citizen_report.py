"""The citizen's insight report (GDPR art. 15 as CJEU C-579/21 reads it): when their data was
consulted, for which purpose and by which department; the employee withheld unless the DPO asks.
Each line carries its inclusion proof against one signed checkpoint, so the report can be checked
without trusting the gateway that printed it."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import orjson
from jinja2 import Environment
from sqlmodel import Session, col, select

from gateway.access_log import proofs, report_words, tree_store
from gateway.access_log.entries import citizen_subject
from gateway.access_log.models import PRUNED, AccessEntryRow, CheckpointRow
from gateway.access_log.report_words import Language
from gateway.cpr_protection import CprProtector
from schemas.access import AccessEntryBody, Action
from schemas.catalog import Catalog

MAX_LINES = 5000

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
    catalog: Catalog,
    language: Language = "da",
) -> list[dict[str, Any]]:
    """Every entry about the citizen, oldest first, except the citizen's own report requests;
    each says in a sentence what happened, a refusal as a refusal."""
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
        line: dict[str, Any] = {
            "seq": body.seq,
            "at": body.at,
            "when": report_words.local_time(body.at, language),
            "action": body.action.value,
            "purpose": body.purpose,
            "department": body.actor.department,
            "outcome": body.outcome.value,
            "reason": body.reason,
            "released": [{"department": d, "category": c} for d, c in released],
            "employee": (
                {"subject": body.actor.subject, "name": body.actor.name} if show_employees else None
            ),
        }
        line["description"] = report_words.sentence(
            line, roles=body.actor.roles, catalog=catalog, language=language
        )
        lines.append(line)
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


_TEXT = {
    "da": {
        "title": "Hvem har brugt dine oplysninger",
        "made": "Lavet {at} til borgeren med CPR-nummer, der slutter på {tail}.",
        "no_names": "Medarbejdernes navne vises ikke; afdelingen gør.",
        "when": "Hvornår",
        "what": "Hvad skete der",
        "employee": "Medarbejder",
        "entry": "Logpost",
        "nobody": "Ingen har brugt dine oplysninger i perioden.",
        "proof": "Bevis",
        "proof_text": "Hver linje er en post i kommunens adgangslog. Loggen er et Merkle-træ, "
        "hvis tilstand er underskrevet nedenfor; beviset for hver linje (RFC 9162) kan hentes "
        "som en fil og kontrolleres med den offentlige nøgle på /v1/keys.",
        "download": "Hent beviserne (JSON)",
    },
    "en": {
        "title": "Who has used your information",
        "made": "Made {at} for the citizen whose CPR number ends in {tail}.",
        "no_names": "The employees' names are not shown; the department is.",
        "when": "When",
        "what": "What happened",
        "employee": "Employee",
        "entry": "Log entry",
        "nobody": "Nobody has used your information in this period.",
        "proof": "Proof",
        "proof_text": "Each line is an entry in the municipality's access log. The log is a "
        "Merkle tree whose state is signed below; the proof for each line (RFC 9162) can be "
        "downloaded as a file and checked with the public key at /v1/keys.",
        "download": "Download the proofs (JSON)",
    },
}

_PAGE = Environment(autoescape=True).from_string(
    """<!doctype html>
<html lang="{{ language }}"><head><meta charset="utf-8">
<title>{{ t.title }}</title>
<style>
 body { font: 11pt/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
 table { border-collapse: collapse; width: 100%; }
 th, td { border-bottom: 1px solid #ccc; padding: .35em .5em; text-align: left; }
 td { vertical-align: top; }
 th { background: #f3f3f3; }
 .seq { color: #555; white-space: nowrap; }
 @media print { .download { display: none; } }
</style></head><body><main>
<h1>{{ t.title }}</h1>
<p>{{ t.made.format(at=made_at, tail=cpr_tail) }}
{% if not show_employees %}{{ t.no_names }}{% endif %}</p>
{% if lines %}
<table>
<thead><tr><th scope="col">{{ t.when }}</th><th scope="col">{{ t.what }}</th>
{% if show_employees %}<th scope="col">{{ t.employee }}</th>{% endif %}
<th scope="col">{{ t.entry }}</th></tr></thead>
<tbody>
{% for line in lines %}
<tr><td>{{ line.when }}</td><td>{{ line.description }}</td>
{% if show_employees %}<td>{{ (line.employee or {}).name or "" }}</td>{% endif %}
<td class="seq">{{ line.seq }}</td></tr>
{% endfor %}
</tbody></table>
{% else %}<p>{{ t.nobody }}</p>{% endif %}
<h2>{{ t.proof }}</h2>
<p>{{ t.proof_text }}</p>
<p class="download"><a download="{{ file_name }}"
 href="data:application/json;base64,{{ proofs }}">{{ t.download }}</a></p>
<pre>{{ checkpoint }}</pre>
</main></body></html>
"""
)


def render_html(report: dict[str, Any], *, show_employees: bool) -> str:
    """The printable report: sentences for the citizen; the proofs as a file to download."""
    language: Language = report.get("language", "da")
    bundle = {
        "tree_size": report["tree_size"],
        "checkpoint": report["checkpoint"],
        "lines": [{"seq": line["seq"], "proof": line["proof"]} for line in report["lines"]],
    }
    return _PAGE.render(
        **report,
        t=_TEXT[language],
        made_at=report_words.local_time(report["generated_at"], language),
        cpr_tail=report["citizen"][-4:],
        show_employees=show_employees,
        proofs=base64.b64encode(orjson.dumps(bundle)).decode("ascii"),
        file_name=f"proofs-{report['tree_size']}.json",
    )
