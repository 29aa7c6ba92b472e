"""What the citizen's insight report says, in Danish (the default) and English: one sentence per
access-log entry, a refusal worded as a refusal, no slugs, no hashes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from schemas.access import Action
from schemas.catalog import Catalog

Language = Literal["da", "en"]
ZONE = ZoneInfo("Europe/Copenhagen")  # where the citizen reads the time

# What happened, when it was done. Every action that can concern a citizen is here (a test
# keeps the list whole); the subject ("Børn og Familie", "IT operations") is put in front.
DONE: dict[Language, dict[Action, str]] = {
    "da": {
        Action.VIEW: "så oplysninger om dig på tværs af afdelinger",
        Action.CONSENT_RECORD: "registrerede et samtykke fra dig",
        Action.CONSENT_READ: "læste et af dine samtykker",
        Action.CONSENT_SEARCH: "slog dine samtykker op",
        Action.CONSENT_WITHDRAW: "registrerede, at et af dine samtykker blev trukket tilbage",
        Action.CONSENT_VERSION: "ændrede et af dine samtykker",
        Action.CONSENT_EXPIRE: "noterede, at et af dine samtykker udløb",
        Action.CONSENT_ENTERED_IN_ERROR: "annullerede et samtykke, der var registreret ved en fejl",
        Action.CONSENT_PREVIEW: "så, hvad et samtykke fra dig ville åbne for",
        Action.CONSENT_RECEIPT: "hentede kvitteringen for et af dine samtykker",
        Action.SOURCE_CHECK: "afprøvede et fagsystem med dit CPR-nummer",
        Action.SOURCES_READ: "spurgte et fagsystem om dig",
        Action.AUDIT_QUERY: "søgte i adgangsloggen efter dig",
        Action.AUDIT_REPORT: "lavede en indsigtsrapport om dig",
        Action.AUDIT_EXPORT: "eksporterede adgangsloggen",
        Action.AUDIT_PROOF: "lavede et bevis for en logpost om dig",
    },
    "en": {
        Action.VIEW: "looked up information about you across departments",
        Action.CONSENT_RECORD: "recorded a consent from you",
        Action.CONSENT_READ: "read a consent of yours",
        Action.CONSENT_SEARCH: "looked up your consents",
        Action.CONSENT_WITHDRAW: "recorded that a consent of yours was withdrawn",
        Action.CONSENT_VERSION: "changed a consent of yours",
        Action.CONSENT_EXPIRE: "noted that a consent of yours ran out",
        Action.CONSENT_ENTERED_IN_ERROR: "struck out a consent recorded by mistake",
        Action.CONSENT_PREVIEW: "previewed what a consent from you would share",
        Action.CONSENT_RECEIPT: "fetched the receipt for a consent of yours",
        Action.SOURCE_CHECK: "tested a department system with your CPR number",
        Action.SOURCES_READ: "asked a department system about you",
        Action.AUDIT_QUERY: "searched the access log for you",
        Action.AUDIT_REPORT: "made an insight report about you",
        Action.AUDIT_EXPORT: "exported the access log",
        Action.AUDIT_PROOF: "made a proof of a log entry about you",
    },
}
# What was tried, when it was refused.
TRIED: dict[Language, dict[Action, str]] = {
    "da": {
        Action.VIEW: "forsøgte at se oplysninger om dig på tværs af afdelinger",
        Action.SOURCE_CHECK: "forsøgte at afprøve et fagsystem med dit CPR-nummer",
        Action.AUDIT_REPORT: "forsøgte at lave en indsigtsrapport om dig",
    },
    "en": {
        Action.VIEW: "tried to look up information about you across departments",
        Action.SOURCE_CHECK: "tried to test a department system with your CPR number",
        Action.AUDIT_REPORT: "tried to make an insight report about you",
    },
}
TRIED_OTHERWISE: dict[Language, str] = {
    "da": "forsøgte at bruge oplysninger om dig",
    "en": "tried to use information about you",
}
REFUSED: dict[Language, str] = {
    "da": "Det blev afvist, og intet blev vist",
    "en": "It was refused, and nothing was shown",
}
FAILED: dict[Language, str] = {
    "da": "Det mislykkedes, og intet blev vist",
    "en": "It failed, and nothing was shown",
}
SHARED: dict[Language, str] = {"da": "Delt", "en": "Shared"}
FROM: dict[Language, str] = {"da": "fra", "en": "from"}
AND: dict[Language, str] = {"da": "og", "en": "and"}
NOTHING_SHARED: dict[Language, str] = {
    "da": "Der var intet at dele",
    "en": "There was nothing to share",
}
PURPOSE: dict[Language, str] = {"da": "Formål", "en": "Purpose"}
WHO: dict[Language, dict[str, str]] = {
    "da": {
        "itops": "IT-driften",
        "dpo": "Databeskyttelsesrådgiveren",
        "citizen": "Du",
        "system": "Helhed selv",
        "unknown": "En ukendt bruger",
    },
    "en": {
        "itops": "IT operations",
        "dpo": "The data protection officer",
        "citizen": "You",
        "system": "Helhed itself",
        "unknown": "An unknown user",
    },
}
MONTHS = {
    "da": "januar februar marts april maj juni juli august september oktober november december",
    "en": "January February March April May June July August September October November December",
}


def local_time(at: datetime, language: Language) -> str:
    """'2. december 2026 kl. 07.36' or '2 December 2026 at 07:36', in Copenhagen time."""
    moment = at.astimezone(ZONE)
    month = MONTHS[language].split()[moment.month - 1]
    if language == "da":
        return f"{moment.day}. {month} {moment.year} kl. {moment:%H.%M}"
    return f"{moment.day} {month} {moment.year} at {moment:%H:%M}"


def _who(line: dict[str, Any], roles: list[str], catalog: Catalog, language: Language) -> str:
    department = catalog.department(line["department"]) if line["department"] else None
    if department is not None:
        return department.names.get(language) or department.name
    for role in ("dpo", "itops", "citizen"):
        if role in roles:
            return WHO[language][role]
    return WHO[language]["system" if line["action"] == Action.CONSENT_EXPIRE else "unknown"]


# The citizen's own actions, in the second person, where the staff wording would read oddly.
YOURSELF: dict[Language, dict[Action, str]] = {
    "da": {
        Action.CONSENT_WITHDRAW: "Du trak et af dine samtykker tilbage",
        Action.CONSENT_SEARCH: "Du så dine samtykker",
        Action.CONSENT_RECEIPT: "Du hentede kvitteringen for et af dine samtykker",
    },
    "en": {
        Action.CONSENT_WITHDRAW: "You withdrew a consent of yours",
        Action.CONSENT_SEARCH: "You looked at your consents",
        Action.CONSENT_RECEIPT: "You fetched the receipt for a consent of yours",
    },
}


def sentence(
    line: dict[str, Any], *, roles: list[str], catalog: Catalog, language: Language
) -> str:
    """One line of the report as a sentence a citizen reads."""
    action = Action(line["action"])
    who = _who(line, roles, catalog, language)
    yourself = YOURSELF[language].get(action) if "citizen" in roles else None
    if line["outcome"] == "success" and yourself is not None and not line["department"]:
        text = f"{yourself}."
    elif line["outcome"] == "success":
        text = f"{who} {DONE[language][action]}."
    else:
        tried = TRIED[language].get(action, TRIED_OTHERWISE[language])
        ending = REFUSED[language] if line["outcome"] == "denied" else FAILED[language]
        text = f"{who} {tried}. {ending}."
    purpose = catalog.purpose(line["purpose"]) if line["purpose"] else None
    if purpose is not None:
        text += f" {PURPOSE[language]}: {purpose.names.get(language) or purpose.name}."
    if line["outcome"] == "success" and action is Action.VIEW:
        text += f" {_shared(line['released'], catalog, language)}."
    return text


def _shared(released: list[dict[str, str]], catalog: Catalog, language: Language) -> str:
    """'Delt fra Jobcenter: sagsoverblik og ydelser; fra Sundhed og Omsorg: indsatser'."""
    if not released:
        return NOTHING_SHARED[language]
    by_department: dict[str, list[str]] = {}
    for line in released:
        names = by_department.setdefault(line["department"], [])
        names.append(_category_name(line["category"], catalog, language))
    parts = [
        f"{FROM[language]} {_department_name(department, catalog, language)}: "
        f"{_listed(sorted(names), language)}"
        for department, names in by_department.items()
    ]
    return f"{SHARED[language]} {'; '.join(parts)}"


def _listed(words: list[str], language: Language) -> str:
    """'a, b og c' / 'a, b and c'."""
    if len(words) == 1:
        return words[0]
    return f"{', '.join(words[:-1])} {AND[language]} {words[-1]}"


def _department_name(slug: str, catalog: Catalog, language: Language) -> str:
    """The catalogue's `name` is in the municipality's language; `names` gives the others."""
    department = catalog.department(slug)
    return (department.names.get(language) or department.name) if department else slug


def _category_name(slug: str, catalog: Catalog, language: Language) -> str:
    category = catalog.category(slug)
    return (category.names.get(language) or category.name).lower() if category else slug
