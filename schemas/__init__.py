"""Models shared by every part of Helhed. A leaf: imports nothing else of ours."""

from schemas.catalog import Category, Department, Purpose
from schemas.consent import ConsentCreate, ConsentRead, ConsentRef, ConsentStatus
from schemas.cpr import Cpr, normalize_cpr
from schemas.fragment import Fragment, FragmentKind, Period, Responsible
from schemas.view import CitizenView, Coverage, CoverageStatus, ViewRequest

__all__ = [
    "Category",
    "CitizenView",
    "ConsentCreate",
    "ConsentRead",
    "ConsentRef",
    "ConsentStatus",
    "Coverage",
    "CoverageStatus",
    "Cpr",
    "Department",
    "Fragment",
    "FragmentKind",
    "Period",
    "Purpose",
    "Responsible",
    "ViewRequest",
    "normalize_cpr",
]
