"""The vocabulary a municipality starts with; every part can be replaced in the TOML file."""

from __future__ import annotations

from schemas.catalog import Category, Department, Purpose

DEPARTMENTS = (
    Department(slug="children-family", name="Børn og Familie", names={"en": "Children and family"}),
    Department(slug="jobcenter", name="Jobcenter", names={"en": "Jobcentre"}),
    Department(
        slug="adult-social",
        name="Voksen, handicap og psykiatri",
        names={"en": "Adult social services"},
    ),
    Department(slug="health", name="Sundhed og Omsorg", names={"en": "Health and care"}),
)

CATEGORIES = (
    Category(
        slug="case-overview",
        name="Sagsoverblik",
        names={"en": "Case overview"},
        description="That a case exists, its type, status and the responsible caseworker",
    ),
    Category(
        slug="interventions",
        name="Indsatser",
        names={"en": "Interventions"},
        description="Support given (indsatser)",
    ),
    Category(
        slug="benefits",
        name="Ydelser",
        names={"en": "Benefits"},
        description="Cash and other benefits (ydelser)",
    ),
    Category(
        slug="plans-goals",
        name="Planer og mål",
        names={"en": "Plans and goals"},
        description="Action plans, joint plans",
    ),
    Category(
        slug="assessments",
        name="Faglige vurderinger",
        names={"en": "Assessments"},
        description="Assessments, journal notes",
    ),
    Category(
        slug="health",
        name="Helbredsoplysninger",
        names={"en": "Health"},
        special=True,
        description="Diagnoses and treatment (GDPR art. 9): opened only when a consent names it",
    ),
)

PURPOSES = (
    Purpose(
        slug="coordinated-plan",
        name="Helhedsorienteret plan",
        names={"en": "Coordinated joint plan"},
        description="A joint plan across departments (helhedsorienteret plan)",
        legal_basis="LAB § 30 b; Retssikkerhedsloven § 11 a; Forvaltningsloven § 28",
        max_validity_days=365,
    ),
    Purpose(
        slug="case-assessment",
        name="Oplysning af én sag",
        names={"en": "Assessment of one case"},
        description="Information for one named case, from named departments",
        legal_basis="Retssikkerhedsloven § 11 a, stk. 1",
        max_validity_days=180,
        requires_case_ref=True,
    ),
)
