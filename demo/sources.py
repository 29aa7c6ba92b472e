"""The source configuration for each simulated system: how it is reached, and its mapping.

Four kinds, as in a real municipality: the jobcenter over REST with OAuth2 client credentials,
adult social services over SOAP, health through a read-only SQL query per category, and
children & family from a nightly CSV export. Each mapping translates the system's own codes
into our vocabulary: categories, fragment kinds, statuses, and `attributes.help_type` on every
intervention, so the gateway can spot the same kind of help given by two departments (help
types: mentor, contact-person, socio-pedagogical-support, family-treatment,
substance-abuse-treatment, housing, treatment, education, employment, care; the configuration's
support groups say which of them are the same help).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from demo.systems import DepartmentSystem
from demo.systems.dubu import FILE_DATE_FORMAT, FILE_PATTERN
from demo.systems.momentum import OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, MomentumDialect
from demo.systems.sensum import OPERATION, SensumDialect
from demo.systems.server import TOKEN_PATH
from demo.test_citizens import TEST_CITIZEN

SOURCE_NAMES = {
    "children-family": "children-family-dubu",
    "jobcenter": "jobcenter-momentum",
    "adult-social": "adult-social-sensum",
    "health": "health-nexus",
}
SOURCE_KINDS = {
    "children-family": "csv_drop",
    "jobcenter": "rest_json",
    "adult-social": "soap_xml",
    "health": "sql",
}

_DUBU_MAPPING: dict[str, Any] = {
    "records": "sager",
    "fields": {
        # A DUBU case number covers the case and all its lines; the line makes the row unique.
        "id": "join('/', [sagsnummer, to_string(linje)])",
        "citizen": "cpr",
        "category": "sagstype",
        "kind": "sagstype",
        "title": "ydelse",
        "status": "status",
        "period.start": "startdato",
        "period.end": "slutdato",
        "responsible.name": "sagsbehandler",
        "responsible.phone": "sagsbehandler_tlf",
        "legal_basis": "lovhjemmel",
        "summary": "bemaerkning",
        "updated_at": "sidst_aendret",
        "attributes.case_number": "sagsnummer",
        "attributes.kle": "kle",
        "attributes.provider": "leverandoer",
        "attributes.rate": "to_number(takst)",
        "attributes.rate_unit": "takstenhed",
        "attributes.unit": "afdeling",
        "attributes.main_goal": "hovedmaal",
        # Only a measure (foranstaltning) is help given; the JMESPath yields null for other rows.
        "attributes.help_type": "sagstype == 'Foranstaltning' && ydelse || `null`",
    },
    "value_maps": {
        "category": {
            "Børnesag": "case-overview",
            "Foranstaltning": "interventions",
            "Økonomisk ydelse": "benefits",
            "Handleplan": "plans-goals",
            "Børnefaglig undersøgelse": "assessments",
        },
        "kind": {
            "Børnesag": "case",
            "Foranstaltning": "intervention",
            "Økonomisk ydelse": "benefit",
            "Handleplan": "plan",
            "Børnefaglig undersøgelse": "document-reference",
        },
        "status": {"Aktiv": "active", "Bevilget": "planned", "Afsluttet": "ended"},
        "attributes.rate_unit": {"md.": "month", "døgn": "day"},
        "attributes.help_type": {
            "Familiebehandling": "family-treatment",
            "Efterværn - fast kontaktperson": "contact-person",
            "Fast kontaktperson": "contact-person",
            "Dagbehandlingstilbud med intern skole": "education",
            "Anbringelse i plejefamilie": "care",
            "Anbringelse på opholdssted": "care",
        },
    },
    "date_formats": {
        "period.start": "%d-%m-%Y",
        "period.end": "%d-%m-%Y",
        "updated_at": "%d-%m-%Y %H:%M:%S",
    },
}

_MOMENTUM_MAPPING: dict[str, Any] = {
    "records": "data.engagements",
    "fields": {
        "id": "engagementId",
        "citizen": "personNumber",
        "category": "type",
        "kind": "type",
        "title": "title",
        "status": "status",
        "period.start": "period.from",
        "period.end": "period.to",
        "responsible.name": "caseworker.fullName",
        "responsible.email": "caseworker.email",
        "legal_basis": "legislation",
        "summary": "description",
        "updated_at": "lastModified",
        "attributes.kle": "kleNumber",
        "attributes.provider": "provider.name",
        # A benefit's rate, or what an offer costs the jobcenter's budget.
        "attributes.rate": "benefit.rate || price.amount",
        "attributes.rate_unit": "benefit.frequency || price.frequency",
        "attributes.currency": "benefit.currency || price.currency",
        "attributes.target_group": "targetGroup",
        "attributes.address": "citizenAddress",
        "attributes.main_goal": "mainGoal",
        "attributes.help_type": "offer.code",  # only courses and mentors carry an offer
    },
    "value_maps": {
        "category": {
            "CASE": "case-overview",
            "MEETING": "case-overview",
            "BENEFIT": "benefits",
            "COURSE": "interventions",
            "MENTOR": "interventions",
            "PLAN": "plans-goals",
        },
        "kind": {
            "CASE": "case",
            "MEETING": "contact",
            "BENEFIT": "benefit",
            "COURSE": "intervention",
            "MENTOR": "intervention",
            "PLAN": "plan",
        },
        "status": {"ACTIVE": "active", "PLANNED": "planned", "ENDED": "ended"},
        "attributes.rate_unit": {"MONTH": "month", "WEEK": "week", "YEAR": "year"},
        "attributes.help_type": {
            "MENTOR": "mentor",
            "WORK_PLACEMENT": "employment",
            "EDUCATION_BRIDGE": "education",
        },
    },
}

_SENSUM_MAPPING: dict[str, Any] = {
    "records": "Indsats",
    "fields": {
        "id": "IndsatsId",
        "citizen": "CPR",
        "category": "SagType",
        "kind": "SagType",
        "title": "Indsats",
        "status": "IndsatsStatus",
        "period.start": "Startdato",
        "period.end": "Slutdato",
        "responsible.name": "PrimaerAnsvarlig",
        "responsible.phone": "PrimaerAnsvarligTlf",
        "legal_basis": "Paragraf",
        "summary": "Beskrivelse",
        "updated_at": "SidstRettet",
        "attributes.provider": "Leverandoer",
        "attributes.facet": "Facet",
        "attributes.help_type": "Facet",  # Sensum gives a facet to interventions only
        "attributes.rate": "Takst",
        "attributes.rate_unit": "TakstEnhed",
        "attributes.address": "Adresse",
        # Scores along the way (Udviklingskompasset, FIT), as the view's progression reads them.
        "attributes.scores": (
            "Maaling[].{instrument: Instrument, dimension: Tema, date: Dato, value: Score} "
            "|| `null`"
        ),
    },
    "value_maps": {
        "category": {
            "Sag": "case-overview",
            "Indsats": "interventions",
            "Handleplan": "plans-goals",
            "Udredning": "assessments",
        },
        "kind": {
            "Sag": "case",
            "Indsats": "intervention",
            "Handleplan": "plan",
            "Udredning": "document-reference",
        },
        "status": {
            "Igangværende": "active",
            "Bevilget": "planned",
            "Visiteret": "planned",
            "Afsluttet": "ended",
        },
        "attributes.help_type": {
            "Socialpædagogisk støtte": "socio-pedagogical-support",
            "Midlertidigt botilbud": "housing",
            "Længerevarende botilbud": "housing",
            "Stofmisbrugsbehandling": "substance-abuse-treatment",
            "Alkoholbehandling": "treatment",
            "Aktivitets- og samværstilbud": "care",
        },
        "attributes.rate_unit": {"md.": "month", "uge": "week", "døgn": "day"},
    },
    "date_formats": {"period.start": "%Y-%m-%dT%H:%M:%S", "period.end": "%Y-%m-%dT%H:%M:%S"},
}

_NEXUS_MAPPING: dict[str, Any] = {
    "records": "@",
    "fields": {
        "id": "element_id",
        "citizen": "cpr",
        "category": "kategori",
        "kind": "ressourcetype",
        "title": "tekst",
        "status": "status",
        "period.start": "start_dato",
        "period.end": "slut_dato",
        "responsible.name": "udfoerer",
        "responsible.phone": "udfoerer_tlf",
        "legal_basis": "lovgrundlag",
        "summary": "notat",
        "updated_at": "sidst_opdateret",
        "attributes.provider": "organisation",
        "attributes.service": "ydelse",
        "attributes.help_type": "ydelseskode",  # only services and procedures have one
    },
    "value_maps": {
        "category": {
            "forloeb": "case-overview",
            "omsorg": "interventions",
            "plan": "plans-goals",
            "helbred": "health",
        },
        "kind": {
            "EpisodeOfCare": "case",
            "ServiceRequest": "intervention",
            "Procedure": "intervention",
            "CarePlan": "plan",
            "Goal": "goal",
            "Condition": "note",
        },
        "status": {
            "active": "active",
            "planned": "planned",
            "completed": "ended",
            "finished": "ended",
            "resolved": "ended",
        },
        "attributes.help_type": {
            "PERSONLIG_PLEJE": "care",
            "PRAKTISK_HJAELP": "care",
            "SYGEPLEJE": "treatment",
            "GENOPTRAENING": "treatment",
            "SAMTALEFORLOEB": "treatment",
        },
    },
}

_EOJ_QUERY = (
    "SELECT b.cpr, e.* FROM journal_element e JOIN borger b ON b.borger_id = e.borger_id "
    "WHERE b.cpr = :citizen AND e.kategori = '{}' ORDER BY e.start_dato"
)


# How each system is asked, next to what it can deliver.
_REQUESTS: dict[str, dict[str, Any]] = {
    "children-family": {
        "categories": ["case-overview", "interventions", "benefits", "plans-goals", "assessments"],
        "pattern": FILE_PATTERN,
        "filename_date_format": FILE_DATE_FORMAT,
        "delimiter": ";",
        "encoding": "utf-8-sig",
        "max_age_hours": 36,  # a nightly export, with a night's grace
        "mapping": _DUBU_MAPPING,
    },
    "jobcenter": {
        "categories": ["case-overview", "interventions", "benefits", "plans-goals"],
        "method": MomentumDialect.method,
        "path": MomentumDialect.path,
        "json_body": {"personNumber": "{citizen}"},
        "idempotent": True,  # a POST that only searches
        "health_path": "/health",
        "mapping": _MOMENTUM_MAPPING,
    },
    "adult-social": {
        "categories": ["case-overview", "interventions", "plans-goals", "assessments"],
        "operation": OPERATION,
        "arguments": {"CPR": "{citizen}"},
        "mapping": _SENSUM_MAPPING,
    },
    "health": {
        "categories": ["case-overview", "interventions", "plans-goals", "health"],
        "queries": {
            "case-overview": _EOJ_QUERY.format("forloeb"),
            "interventions": _EOJ_QUERY.format("omsorg"),
            "plans-goals": _EOJ_QUERY.format("plan"),
            "health": _EOJ_QUERY.format("helbred"),
        },
        "mapping": _NEXUS_MAPPING,
    },
}


def _where(system: DepartmentSystem) -> dict[str, Any]:
    """The options that point at a running system: its URL, file or folder."""
    url = system.base_url
    if system.department == "children-family":
        return {"folder": url}
    if system.department == "jobcenter":
        return {
            "base_url": url,
            "auth": {
                "type": "oauth2_client_credentials",
                "token_url": url + TOKEN_PATH,
                "client_id": OAUTH_CLIENT_ID,
                "client_secret": OAUTH_CLIENT_SECRET,
            },
        }
    if system.department == "adult-social":
        return {"wsdl": f"{url}{SensumDialect.path}?wsdl", "health_url": f"{url}/health"}
    return {"url": url}


def source_configs(systems: Mapping[str, DepartmentSystem]) -> list[dict[str, Any]]:
    """One source configuration per system; the systems must have been started."""
    configs: list[dict[str, Any]] = []
    for system in systems.values():
        if not system.base_url:
            raise RuntimeError(f"start {system.name} before configuring a source for it")
        configs.append(
            {
                "name": SOURCE_NAMES[system.department],
                "kind": SOURCE_KINDS[system.department],
                "department": system.department,
                "test_citizens": [TEST_CITIZEN],
                **_where(system),
                # A copy: a caller that adjusts its configuration must not change the next one's.
                **copy.deepcopy(_REQUESTS[system.department]),
            }
        )
    return configs
