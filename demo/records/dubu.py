"""Children & family (Børn og Familie): rows as a DUBU-like system exports them.

One row per case line: the case itself (linje 0), then its measures, payments, plans and
investigations. Danish field names and DD-MM-YYYY dates, as in the municipalities' DUBU exports.
Measures granted before 2024 cite the Social Services Act (SEL § 52), later ones Barnets lov.
"""

from __future__ import annotations

from dataclasses import dataclass

from demo.citizens import (
    CAMILLA_NIELSEN,
    EMMA_NIELSEN,
    FREJA_ANDERSEN,
    JONAS_BERG,
    NOAH_HOLM,
    SampleCitizen,
)
from demo.records import Record, by_citizen


@dataclass(frozen=True)
class Team:
    """The unit that holds a case, and its caseworker (sagsbehandler)."""

    afdeling: str
    navn: str
    telefon: str


FAMILY = Team("Familieafdelingen", "Line Kjær", "7234 1201")
YOUTH = Team("Ungeenheden", "Anders Bach", "7234 1215")
SPECIAL_NEEDS = Team("Handicap- og specialteamet", "Rikke Dam", "7234 1230")


def _row(
    citizen: SampleCitizen,
    sag: str,
    linje: int,
    sagstype: str,
    ydelse: str,
    *,
    lovhjemmel: str,
    kle: str,
    start: str,
    slut: str | None = None,
    status: str = "Aktiv",
    team: Team,
    leverandoer: str | None = None,
    takst: int | None = None,
    takstenhed: str = "md.",
    bemaerkning: str | None = None,
    hovedmaal: str | None = None,
    sidst_aendret: str,
) -> Record:
    return {
        "sagsnummer": sag,
        "linje": linje,
        "cpr": citizen.cpr,
        "sagstype": sagstype,
        "ydelse": ydelse,
        "lovhjemmel": lovhjemmel,
        "kle": kle,
        "leverandoer": leverandoer,
        "startdato": start,
        "slutdato": slut,
        "takst": takst,
        "takstenhed": takstenhed if takst is not None else None,
        "status": status,
        "afdeling": team.afdeling,
        "sagsbehandler": {"navn": team.navn, "telefon": team.telefon},
        "bemaerkning": bemaerkning,
        "hovedmaal": hovedmaal,
        "sidst_aendret": sidst_aendret,
    }


# fmt: off
_ROWS: list[Record] = [
    # Scenario 1: Noah, family treatment since 2023, carried over to Barnets lov in 2024.
    _row(NOAH_HOLM, "BF-2023-01187", 0, "Børnesag", "Sag om særlig støtte til barn og familie",
         lovhjemmel="Barnets lov § 32", kle="34.03.00", start="16-01-2023", team=FAMILY,
         bemaerkning="Underretning fra skolen om højt fravær. Mor samarbejder godt.",
         sidst_aendret="02-10-2026 10:14:52"),
    _row(NOAH_HOLM, "BF-2023-01187", 1, "Børnefaglig undersøgelse", "Børnefaglig undersøgelse",
         lovhjemmel="SEL § 50", kle="27.24.03", start="16-01-2023", slut="02-03-2023",
         status="Afsluttet", team=FAMILY,
         bemaerkning="Peger på familiebehandling med fokus på struktur og skolefremmøde.",
         sidst_aendret="02-03-2023 15:40:07"),
    _row(NOAH_HOLM, "BF-2023-01187", 2, "Foranstaltning", "Familiebehandling",
         lovhjemmel="SEL § 52, stk. 3, nr. 3", kle="27.27.09", start="06-03-2023",
         slut="31-03-2024", status="Afsluttet", leverandoer="Familiehuset Kastanjen",
         takst=11_250, team=FAMILY, sidst_aendret="02-04-2024 09:02:33"),
    _row(NOAH_HOLM, "BF-2023-01187", 3, "Foranstaltning", "Familiebehandling",
         lovhjemmel="Barnets lov § 32, stk. 1, nr. 3", kle="34.03.09", start="01-04-2024",
         leverandoer="Familiehuset Kastanjen", takst=11_800, team=FAMILY,
         bemaerkning="Ugentlige hjemmebesøg; fokus på morgenrutiner og skolefremmøde.",
         sidst_aendret="02-10-2026 10:14:52"),
    _row(NOAH_HOLM, "BF-2023-01187", 4, "Handleplan", "Barnets plan",
         lovhjemmel="Barnets lov § 91", kle="34.03.12", start="15-04-2024", team=FAMILY,
         bemaerkning="Mål: Noah møder i skole hver dag; Sara får hjælp til hverdagens struktur.",
         sidst_aendret="12-09-2026 13:20:00"),
    # Scenario 2: Jonas, placed 2019-2025, now in after-care until 21.
    _row(JONAS_BERG, "BF-2019-00734", 0, "Børnesag", "Sag om efterværn",
         lovhjemmel="Barnets lov § 114", kle="34.03.00", start="22-06-2025", team=YOUTH,
         sidst_aendret="03-11-2026 11:05:41"),
    _row(JONAS_BERG, "BF-2019-00734", 1, "Foranstaltning", "Anbringelse på opholdssted",
         lovhjemmel="SEL § 52, stk. 3, nr. 7", kle="27.27.30", start="12-08-2019",
         slut="21-06-2025", status="Afsluttet", leverandoer="Opholdsstedet Lærkereden",
         takst=64_000, team=YOUTH, sidst_aendret="23-06-2025 08:31:12"),
    _row(JONAS_BERG, "BF-2019-00734", 2, "Foranstaltning", "Efterværn - fast kontaktperson",
         lovhjemmel="Barnets lov § 114", kle="27.27.24", start="22-06-2025", slut="21-06-2028",
         leverandoer="Kontaktpersonkorpset", takst=6_400, team=YOUTH,
         bemaerkning="Kontaktperson to gange om ugen; hjælp til bolig, økonomi og uddannelse.",
         sidst_aendret="03-11-2026 11:05:41"),
    _row(JONAS_BERG, "BF-2019-00734", 3, "Handleplan", "Plan for efterværn",
         lovhjemmel="Barnets lov § 114", kle="34.03.12", start="22-06-2025", team=YOUTH,
         bemaerkning="Mål: egen bolig, uddannelsesstart og stabil misbrugsbehandling.",
         hovedmaal="Egen bolig", sidst_aendret="03-11-2026 11:05:41"),
    # Scenario 4: Emma in day treatment with special education; her mother paid lost earnings.
    _row(EMMA_NIELSEN, "BF-2021-02211", 0, "Børnesag", "Sag om særlig støtte til barn",
         lovhjemmel="Barnets lov § 32", kle="34.03.00", start="01-09-2021", team=SPECIAL_NEEDS,
         sidst_aendret="20-08-2026 14:48:09"),
    _row(EMMA_NIELSEN, "BF-2021-02211", 1, "Børnefaglig undersøgelse", "Børnefaglig undersøgelse",
         lovhjemmel="Barnets lov § 20", kle="34.02.03", start="05-02-2024", slut="28-03-2024",
         status="Afsluttet", team=SPECIAL_NEEDS,
         bemaerkning="Anbefaler dagbehandling med intern skole efter ADHD-udredning i regionen.",
         sidst_aendret="28-03-2024 12:00:00"),
    _row(EMMA_NIELSEN, "BF-2021-02211", 2, "Foranstaltning",
         "Dagbehandlingstilbud med intern skole",
         lovhjemmel="Barnets lov § 32, stk. 1, nr. 4", kle="34.03.10", start="08-08-2024",
         leverandoer="Dagbehandlingsskolen Egebakken", takst=38_500, team=SPECIAL_NEEDS,
         bemaerkning="Specialundervisning i en gruppe på seks elever, fem dage om ugen.",
         sidst_aendret="20-08-2026 14:48:09"),
    _row(CAMILLA_NIELSEN, "BF-2021-02211", 3, "Økonomisk ydelse", "Tabt arbejdsfortjeneste",
         lovhjemmel="Barnets lov § 87", kle="27.18.08", start="01-09-2024",
         takst=9_800, team=SPECIAL_NEEDS,
         bemaerkning="Mor har nedsat sin arbejdstid med ti timer om ugen for at passe Emma.",
         sidst_aendret="15-01-2026 09:30:00"),
    # Scenario 5: Freja, placed in a foster family.
    _row(FREJA_ANDERSEN, "BF-2025-00958", 0, "Børnesag", "Sag om anbringelse uden for hjemmet",
         lovhjemmel="Barnets lov § 43", kle="34.04.00", start="06-01-2025", team=FAMILY,
         sidst_aendret="04-11-2026 10:00:00"),
    _row(FREJA_ANDERSEN, "BF-2025-00958", 1, "Børnefaglig undersøgelse", "Børnefaglig undersøgelse",
         lovhjemmel="Barnets lov § 20", kle="34.02.03", start="06-01-2025", slut="20-02-2025",
         status="Afsluttet", team=FAMILY, sidst_aendret="20-02-2025 16:12:45"),
    _row(FREJA_ANDERSEN, "BF-2025-00958", 2, "Foranstaltning", "Anbringelse i plejefamilie",
         lovhjemmel="Barnets lov § 43", kle="34.04.04", start="01-03-2025",
         leverandoer="Kommunal plejefamilie (Sørensen)", takst=1_450, takstenhed="døgn",
         team=FAMILY, sidst_aendret="04-11-2026 10:00:00"),
    _row(FREJA_ANDERSEN, "BF-2025-00958", 3, "Handleplan", "Barnets plan",
         lovhjemmel="Barnets lov § 91", kle="34.03.12", start="01-03-2025", team=FAMILY,
         bemaerkning="Samvær med mor hver anden weekend; trivsel i skolen følges tæt.",
         sidst_aendret="04-11-2026 10:00:00"),
]
# fmt: on

RECORDS: dict[str, list[Record]] = by_citizen(_ROWS, lambda row: row["cpr"])
