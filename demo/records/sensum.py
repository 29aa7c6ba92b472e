"""Adult social services (voksen, handicap og psykiatri): records as a Sensum-like system has them.

PascalCase Danish keys like Sensum's exports (CPR, Indsats, IndsatsStatus, Facet, Leverandoer,
SagType, PrimaerAnsvarlig), numeric ids, ISO datetimes at midnight and null for an open end.
Only interventions (SagType "Indsats") carry a Facet.
"""

from __future__ import annotations

from demo.citizens import HENRIK_MADSEN, JONAS_BERG, LARS_VESTERGAARD, SampleCitizen
from demo.records import Record, by_citizen

BIRGITTE = ("Birgitte Lauridsen", "7234 2210")
# Udviklingskompasset themes scored 1-10 at each follow-up of Lars's § 85 support.
_LARS_COMPASS = tuple(
    ("udviklingskompasset", theme, day, score)
    for theme, scores in (("Egenomsorg", (3, 5, 6)), ("Sociale relationer", (2, 3, 3)))
    for day, score in zip(("2026-03-15", "2026-06-15", "2026-09-15"), scores, strict=True)
)
# FIT's Outcome Rating Scale (0-40) after Jonas's treatment sessions.
_JONAS_FIT = tuple(
    ("fit-ors", None, day, score)
    for day, score in (
        ("2026-04-14", 17),
        ("2026-06-09", 22),
        ("2026-08-18", 26),
        ("2026-10-20", 24),
    )
)
KASPER = ("Kasper Friis", "7234 2244")


def _record(
    citizen: SampleCitizen,
    indsats_id: int,
    sag_type: str,
    indsats: str,
    *,
    paragraf: str,
    start: str,
    end: str | None = None,
    status: str = "Igangværende",
    ansvarlig: tuple[str, str],
    facet: str | None = None,
    leverandoer: str | None = None,
    beskrivelse: str | None = None,
    takst: tuple[float, str] | None = None,
    adresse: str | None = None,
    maalinger: tuple[tuple[str, str | None, str, float], ...] = (),
    sidst_rettet: str,
) -> Record:
    return {
        "IndsatsId": indsats_id,
        "CPR": citizen.cpr,
        "SagType": sag_type,
        "Indsats": indsats,
        "IndsatsStatus": status,
        "Facet": facet,
        "Leverandoer": leverandoer,
        "Paragraf": paragraf,
        "PrimaerAnsvarlig": ansvarlig[0],
        "PrimaerAnsvarligTlf": ansvarlig[1],
        "Startdato": f"{start}T00:00:00",
        "Slutdato": f"{end}T00:00:00" if end else None,
        "Beskrivelse": beskrivelse,
        "Takst": takst[0] if takst else None,
        "TakstEnhed": takst[1] if takst else None,
        "Adresse": adresse,
        # Scores recorded along the way: (instrument, theme, date, score).
        "Maaling": [
            {"Instrument": i, "Tema": t, "Dato": d, "Score": v} for i, t, d, v in maalinger
        ],
        "SidstRettet": sidst_rettet,
    }


# fmt: off
_RECORDS: list[Record] = [
    # Scenario 2: Jonas in outpatient substance-abuse treatment.
    _record(JONAS_BERG, 40117, "Sag", "Sag om stofmisbrugsbehandling", paragraf="SEL § 101",
            start="2026-03-24", ansvarlig=KASPER, sidst_rettet="2026-04-07T09:00:00"),
    _record(JONAS_BERG, 40122, "Indsats", "Ambulant stofmisbrugsbehandling",
            paragraf="SEL § 101", start="2026-04-07", ansvarlig=KASPER,
            facet="Stofmisbrugsbehandling", leverandoer="Rusmiddelcenter Nord",
            beskrivelse="Samtaler en gang om ugen og gruppeforløb om hash.",
            takst=(4_800.0, "md."), maalinger=_JONAS_FIT,
            sidst_rettet="2026-10-20T14:32:08"),
    # Scenario 3: Lars in temporary housing with socio-pedagogical support.
    _record(LARS_VESTERGAARD, 39870, "Sag", "Sag om støtte til voksne med psykiske vanskeligheder",
            paragraf="Serviceloven", start="2026-02-02", ansvarlig=BIRGITTE,
            adresse="Botilbuddet Ådalen, Ådalsvej 3, 8900 Randers C",
            sidst_rettet="2026-03-15T10:45:00"),
    _record(LARS_VESTERGAARD, 39871, "Udredning", "VUM 2.0-udredning", paragraf="SEL § 141",
            start="2026-02-02", end="2026-02-27", status="Afsluttet", ansvarlig=BIRGITTE,
            beskrivelse="Betydelige vanskeligheder med egenomsorg og struktur i hverdagen.",
            sidst_rettet="2026-02-27T15:10:00"),
    _record(LARS_VESTERGAARD, 39902, "Indsats", "Midlertidigt botilbud", paragraf="SEL § 107",
            start="2026-03-01", ansvarlig=BIRGITTE, facet="Midlertidigt botilbud",
            leverandoer="Botilbuddet Ådalen", takst=(48_500.0, "md."),
            sidst_rettet="2026-03-01T08:00:00"),
    _record(LARS_VESTERGAARD, 39903, "Indsats", "Socialpædagogisk støtte", paragraf="SEL § 85",
            start="2026-03-01", ansvarlig=BIRGITTE, facet="Socialpædagogisk støtte",
            leverandoer="Botilbuddet Ådalen, bostøtteteamet",
            beskrivelse="Fire timer om ugen: struktur, indkøb, fremmøde og kontakt til netværk.",
            takst=(9_200.0, "md."), maalinger=_LARS_COMPASS, sidst_rettet="2026-09-15T12:00:00"),
    _record(LARS_VESTERGAARD, 39940, "Handleplan", "Handleplan", paragraf="SEL § 141",
            start="2026-03-15", ansvarlig=BIRGITTE,
            beskrivelse="Mål: egen bolig inden for et år og en stabil hverdag med aktivitet.",
            sidst_rettet="2026-03-15T10:45:00"),
    # Scenario 6: Henrik at a day centre.
    _record(HENRIK_MADSEN, 37215, "Sag", "Sag om aktivitets- og samværstilbud",
            paragraf="Serviceloven", start="2025-08-18", ansvarlig=KASPER,
            sidst_rettet="2025-09-01T09:30:00"),
    _record(HENRIK_MADSEN, 37216, "Indsats", "Aktivitets- og samværstilbud",
            paragraf="SEL § 104", start="2025-09-01", ansvarlig=KASPER,
            facet="Aktivitets- og samværstilbud", leverandoer="Værestedet Bryggen",
            takst=(3_100.0, "md."), sidst_rettet="2025-09-01T09:30:00"),
]
# fmt: on

RECORDS: dict[str, list[Record]] = by_citizen(_RECORDS, lambda record: record["CPR"])
