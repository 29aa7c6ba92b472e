"""Jobcenter: engagements as a Momentum-like REST API returns them.

English camelCase keys, ISO 8601 dates, typed engagements (CASE, BENEFIT, COURSE, MENTOR, PLAN,
MEETING), rates in DKK. Keys without a value are left out, as modern JSON APIs do. Legal bases
follow the pre-2019 numbering of LAB that DOMAIN.md cites (mentor § 31b, joint plan § 30b).
"""

from __future__ import annotations

from typing import Any

from demo.citizens import (
    HENRIK_MADSEN,
    JONAS_BERG,
    LARS_VESTERGAARD,
    SARA_HOLM,
    THOMAS_NIELSEN,
    SampleCitizen,
)
from demo.records import Record, by_citizen

MADS_HOLT = {"fullName": "Mads Holt", "email": "mads.holt@jobcenter.kommune.example"}
PERNILLE_SKOV = {"fullName": "Pernille Skov", "email": "pernille.skov@jobcenter.kommune.example"}
JESPER_LIND = {"fullName": "Jesper Lind", "email": "jesper.lind@jobcenter.kommune.example"}


def _engagement(
    citizen: SampleCitizen,
    engagement_id: str,
    kind: str,
    title: str,
    *,
    start: str,
    end: str | None = None,
    status: str = "ACTIVE",
    legislation: str,
    caseworker: dict[str, str],
    kle: str | None = None,
    offer: tuple[str, str] | None = None,
    provider: str | None = None,
    rate: tuple[float, str] | None = None,
    price: tuple[float, str] | None = None,
    target_group: str | None = None,
    address: str | None = None,
    main_goal: str | None = None,
    description: str | None = None,
    last_modified: str,
) -> Record:
    engagement: dict[str, Any] = {
        "engagementId": engagement_id,
        "personNumber": citizen.cpr,
        "type": kind,
        "title": title,
        "status": status,
        "period": {"from": start, "to": end},
        "legislation": legislation,
        "kleNumber": kle,
        "caseworker": dict(caseworker),
        "offer": {"code": offer[0], "name": offer[1]} if offer else None,
        "provider": {"name": provider} if provider else None,
        "benefit": ({"rate": rate[0], "currency": "DKK", "frequency": rate[1]} if rate else None),
        # What an offer costs the jobcenter's budget (a mentor's or a course's price).
        "price": (
            {"amount": price[0], "currency": "DKK", "frequency": price[1]} if price else None
        ),
        "citizenAddress": address,
        "mainGoal": main_goal,
        "targetGroup": target_group,
        "description": description,
        "lastModified": last_modified,
    }
    engagement["period"] = {k: v for k, v in engagement["period"].items() if v is not None}
    return {k: v for k, v in engagement.items() if v is not None}


_MENTOR = ("MENTOR", "Mentorstøtte")
_WORK_PLACEMENT = ("WORK_PLACEMENT", "Virksomhedspraktik")
_BRIDGE = ("EDUCATION_BRIDGE", "Brobygning til uddannelse")

# fmt: off
_ENGAGEMENTS: list[Record] = [
    # Scenario 1: Sara, cash benefit, work placement and the joint plan with children & family.
    _engagement(SARA_HOLM, "ENG-2025-104233", "CASE", "Kontanthjælpssag - aktivitetsparat",
                start="2025-02-01", legislation="Aktivloven § 11", caseworker=MADS_HOLT,
                kle="15.02.00", target_group="Aktivitetsparat kontanthjælpsmodtager",
                last_modified="2026-11-09T08:41:10Z"),
    _engagement(SARA_HOLM, "ENG-2025-104234", "BENEFIT", "Kontanthjælp, forsørger",
                start="2025-02-01", legislation="Aktivloven § 25", caseworker=MADS_HOLT,
                rate=(16_712.0, "MONTH"), last_modified="2026-01-02T06:00:00Z"),
    _engagement(SARA_HOLM, "ENG-2026-118410", "COURSE", "Virksomhedspraktik i dagligvarebutik",
                start="2026-09-01", end="2026-12-18", legislation="LAB § 42",
                caseworker=MADS_HOLT, offer=_WORK_PLACEMENT, provider="Brugsen Østervang",
                description="20 timer om ugen, tilrettelagt efter Noahs familiebehandling.",
                last_modified="2026-08-25T12:30:00Z"),
    _engagement(SARA_HOLM, "ENG-2026-121877", "PLAN", "Helhedsorienteret plan",
                start="2026-11-09", legislation="LAB § 30b", caseworker=MADS_HOLT,
                description="Fælles plan med Børn og Familie: praktik, familiebehandling og "
                            "Noahs skolefremmøde.",
                last_modified="2026-11-09T08:41:10Z"),
    # Scenario 2: Jonas, education benefit and a bridge course towards vocational school.
    _engagement(JONAS_BERG, "ENG-2025-109902", "CASE", "Uddannelseshjælpssag",
                start="2025-07-01", legislation="Aktivloven § 11", caseworker=PERNILLE_SKOV,
                kle="15.02.00", target_group="Uddannelsesparat",
                last_modified="2026-10-14T10:02:55Z"),
    _engagement(JONAS_BERG, "ENG-2025-109903", "BENEFIT", "Uddannelseshjælp",
                start="2025-07-01", legislation="Aktivloven § 23", caseworker=PERNILLE_SKOV,
                rate=(6_589.0, "MONTH"), last_modified="2026-01-02T06:00:00Z"),
    _engagement(JONAS_BERG, "ENG-2026-117230", "COURSE", "Brobygning til EUD, tømrer",
                start="2026-08-10", end="2027-01-29", legislation="LAB § 32",
                caseworker=PERNILLE_SKOV, offer=_BRIDGE, provider="Erhvervsskolen Midt",
                price=(2_400.0, "MONTH"), last_modified="2026-08-03T09:15:00Z"),
    _engagement(JONAS_BERG, "ENG-2026-117231", "PLAN", "Uddannelsesplan",
                start="2026-08-03", legislation="LAB § 30", caseworker=PERNILLE_SKOV,
                description="Mål: optagelse på tømreruddannelsen i august 2027.",
                main_goal="Uddannelse", last_modified="2026-08-03T09:15:00Z"),
    # Scenario 3: Lars, resource course with a mentor, while adult-social gives § 85 support.
    _engagement(LARS_VESTERGAARD, "ENG-2026-112050", "CASE", "Ressourceforløb",
                start="2026-01-15", end="2027-01-14", legislation="LAB § 68 a",
                caseworker=JESPER_LIND, kle="15.17.12", target_group="Ressourceforløb",
                address="Vestergade 21, 1. tv., 8900 Randers C",
                last_modified="2026-06-01T07:59:00Z"),
    _engagement(LARS_VESTERGAARD, "ENG-2026-112051", "BENEFIT", "Ressourceforløbsydelse",
                start="2026-01-15", end="2027-01-14", legislation="Aktivloven § 69 j",
                caseworker=JESPER_LIND, rate=(12_950.0, "MONTH"),
                last_modified="2026-01-15T11:20:00Z"),
    _engagement(LARS_VESTERGAARD, "ENG-2026-114876", "MENTOR", "Mentorstøtte",
                start="2026-06-01", end="2027-05-31", legislation="LAB § 31b",
                caseworker=JESPER_LIND, kle="15.20.36", offer=_MENTOR,
                provider="Mentorhuset ApS", price=(3_900.0, "MONTH"),
                description="Mentor tre timer om ugen: struktur, fremmøde og kontakt med "
                            "praktiksted.",
                last_modified="2026-06-01T07:59:00Z"),
    _engagement(LARS_VESTERGAARD, "ENG-2026-112052", "PLAN", "Rehabiliteringsplan, indsatsdel",
                start="2026-01-15", legislation="LAB § 30a", caseworker=JESPER_LIND,
                last_modified="2026-01-15T11:20:00Z"),
    # Scenario 4: Thomas, sick since May after a back injury.
    _engagement(THOMAS_NIELSEN, "ENG-2026-113300", "CASE", "Sygedagpengesag",
                start="2026-05-18", legislation="Sygedagpengeloven § 7",
                caseworker=PERNILLE_SKOV, kle="15.17.06", target_group="Sygedagpengemodtager",
                last_modified="2026-11-10T13:00:00Z"),
    _engagement(THOMAS_NIELSEN, "ENG-2026-113301", "BENEFIT", "Sygedagpenge",
                start="2026-05-18", legislation="Sygedagpengeloven § 47",
                caseworker=PERNILLE_SKOV, rate=(4_995.0, "WEEK"),
                last_modified="2026-05-20T06:00:00Z"),
    _engagement(THOMAS_NIELSEN, "ENG-2026-113302", "PLAN", "Opfølgningsplan",
                start="2026-06-15", legislation="Sygedagpengeloven § 12",
                caseworker=PERNILLE_SKOV, description="Gradvis tilbagevenden fra december.",
                last_modified="2026-11-10T13:00:00Z"),
    _engagement(THOMAS_NIELSEN, "ENG-2026-120114", "MEETING", "Opfølgningssamtale",
                start="2026-11-10", end="2026-11-10", status="ENDED",
                legislation="Sygedagpengeloven § 13", caseworker=PERNILLE_SKOV,
                last_modified="2026-11-10T13:00:00Z"),
    _engagement(THOMAS_NIELSEN, "ENG-2026-120115", "COURSE", "Arbejdsprøvning hos arbejdsgiver",
                start="2026-12-01", end="2027-01-31", status="PLANNED", legislation="LAB § 42",
                caseworker=PERNILLE_SKOV, offer=_WORK_PLACEMENT, provider="Vognmand Friis A/S",
                last_modified="2026-11-10T13:00:00Z"),
    # Scenario 6: Henrik, cash benefit, no consent.
    _engagement(HENRIK_MADSEN, "ENG-2024-098771", "CASE", "Kontanthjælpssag - aktivitetsparat",
                start="2024-03-01", legislation="Aktivloven § 11", caseworker=MADS_HOLT,
                kle="15.02.00", target_group="Aktivitetsparat kontanthjælpsmodtager",
                last_modified="2026-10-28T14:10:00Z"),
    _engagement(HENRIK_MADSEN, "ENG-2024-098772", "BENEFIT", "Kontanthjælp",
                start="2024-03-01", legislation="Aktivloven § 25", caseworker=MADS_HOLT,
                rate=(12_765.0, "MONTH"), last_modified="2026-01-02T06:00:00Z"),
    _engagement(HENRIK_MADSEN, "ENG-2026-119920", "MEETING", "Jobsamtale",
                start="2026-10-28", end="2026-10-28", status="ENDED",
                legislation="LAB § 27", caseworker=MADS_HOLT,
                last_modified="2026-10-28T14:10:00Z"),
]
# fmt: on

RECORDS: dict[str, list[Record]] = by_citizen(_ENGAGEMENTS, lambda e: e["personNumber"])
