"""Streaming exports of the log for the DPO: JSON lines, CSV, or a FHIR R4 Bundle of
AuditEvent resources (after IHE BALP), read in batches so a year of entries never sits in memory."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine
from sqlmodel import col, select

from gateway.access_log.models import AccessEntryRow
from gateway.access_log.service import EntryFilter, filtered, to_read_model
from gateway.cpr_protection import CprProtector
from gateway.db import read_session
from schemas.access import AccessEntryRead

CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"  # the Danish CPR number's OID
_FHIR_OUTCOME = {"success": "0", "denied": "4", "failed": "8"}
_FHIR_ACTION = {"consent.record": "C", "consent.withdraw": "U", "audit.retention": "D"}
CSV_COLUMNS = [
    "seq", "at", "action", "outcome", "reason", "actor_subject", "actor_name",
    "actor_department", "actor_roles", "client", "purpose", "citizen", "target", "consents",
    "released", "request_id", "instance", "hash",
]  # fmt: skip


def entries(
    *, engine: Engine, protector: CprProtector, where: EntryFilter, batch: int = 1000
) -> Iterator[AccessEntryRead]:
    after = 0
    while True:
        with read_session(engine) as session:
            query = filtered(select(AccessEntryRow), where).where(col(AccessEntryRow.seq) > after)
            rows = list(session.exec(query.order_by(col(AccessEntryRow.seq)).limit(batch)))
        if not rows:
            return
        for row in rows:
            yield to_read_model(row, protector)
        after = rows[-1].seq


def jsonl(items: Iterator[AccessEntryRead]) -> Iterator[str]:
    for item in items:
        yield item.model_dump_json() + "\n"


def csv_lines(items: Iterator[AccessEntryRead]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for item in items:
        writer.writerow(
            [
                item.seq, item.at.isoformat(), item.action, item.outcome, item.reason,
                item.actor.subject, item.actor.name, item.actor.department,
                " ".join(item.actor.roles), item.actor.client, item.purpose, item.citizen,
                item.target, " ".join(f"{c.id}/{c.version}" for c in item.consents),
                " ".join(
                    f"{r.source}/{r.category}:{r.status}:{r.fragments}" for r in item.released
                ),
                item.request_id, item.instance, item.hash,
            ]
        )  # fmt: skip
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def audit_event(item: AccessEntryRead) -> dict[str, Any]:
    """One entry as a FHIR R4 AuditEvent."""
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(item.seq),
        "type": {
            "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
            "code": "rest",
            "display": "RESTful Operation",
        },
        "subtype": [{"system": "urn:helhed:action", "code": item.action}],
        "action": _FHIR_ACTION.get(item.action, "R" if item.action != "audit.verify" else "E"),
        "recorded": item.at.isoformat(),
        "outcome": _FHIR_OUTCOME.get(item.outcome, "8"),
        "agent": [
            {
                "who": {"identifier": {"value": item.actor.subject}, "display": item.actor.name},
                "requestor": True,
                "role": [{"text": role} for role in item.actor.roles]
                + (
                    [{"text": f"department:{item.actor.department}"}]
                    if item.actor.department
                    else []
                ),
                **(
                    {"network": {"address": item.actor.client, "type": "2"}}
                    if item.actor.client
                    else {}
                ),
            }
        ],
        "source": {"observer": {"display": item.instance}},
        "entity": [],
        "extension": [{"url": "urn:helhed:request-id", "valueString": item.request_id}],
    }
    if item.reason:
        event["outcomeDesc"] = item.reason
    if item.purpose:
        event["purposeOfEvent"] = [
            {"coding": [{"system": "urn:helhed:purpose", "code": item.purpose}]}
        ]
    if item.citizen:
        event["entity"].append(
            {
                "what": {"identifier": {"system": CPR_SYSTEM, "value": item.citizen}},
                "type": {
                    "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                    "code": "1",
                    "display": "Person",
                },
            }
        )
    for line in item.released:
        if line.status == "released":
            event["entity"].append(
                {
                    "what": {"display": f"{line.source}/{line.category}"},
                    "description": f"{line.fragments} fragment(s) from {line.department}",
                }
            )
    for consent in item.consents:
        event["entity"].append(
            {"what": {"reference": f"Consent/{consent.id}/_history/{consent.version}"}}
        )
    if not event["entity"]:
        del event["entity"]
    return event


def fhir_bundle(items: Iterator[AccessEntryRead]) -> Iterator[str]:
    yield '{"resourceType":"Bundle","type":"collection","entry":['
    first = True
    for item in items:
        yield ("" if first else ",") + json.dumps({"resource": audit_event(item)})
        first = False
    yield "]}\n"
