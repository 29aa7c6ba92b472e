"""Exports, anomaly reports and the citizen's insight report."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
