"""RFC 9457 problem documents for every error, each with a machine-readable `code`."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from schemas.problem import Problem

PROBLEM_MEDIA_TYPE = "application/problem+json"

_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid request",
    429: "Too many requests",
    503: "Service unavailable",
}


# What every operation behind a bearer token may answer: no token or a bad one (401), roles that do
# not allow it (403), the issuer's keys, the database or the access log out of reach (503).
BEARER = (401, 403, 503)
# What reading a JSON body adds: not JSON at all (400), too large (413), sent as another media
# type (415), a field that does not validate (422).
JSON_BODY = (400, 413, 415, 422)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for the problem documents an operation answers with.

    The schema sits under application/problem+json only, the media type the app sends, so
    clients and schema checkers validate the body they actually get."""
    schema = Problem.model_json_schema()
    return {
        status: {
            "description": _TITLES.get(status, "Error"),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": schema}},
        }
        for status in sorted(set(statuses))
    }


# Validation error types that carry a domain meaning of their own and become the problem's code.
DOMAIN_CODES = frozenset(
    {
        "invalid_cpr",
        "invalid_time",
        "cpr_in_free_text",
        "invalid_validity",
        "invalid_data_period",
        "given_by_name_required",
        "invalid_evidence_hash",
        "duplicate_value",
        "empty_list",
    }
)


def field_errors(errors: list[Any]) -> list[dict[str, str]]:
    """Each invalid field: where, which code, what. Never the input value (it may be a CPR)."""
    return [
        {
            "location": ".".join(str(part) for part in item["loc"]),
            "code": item["type"],
            "message": item["msg"],
        }
        for item in errors
    ]


def domain_code(errors: list[dict[str, str]]) -> str:
    return next((e["code"] for e in errors if e["code"] in DOMAIN_CODES), "invalid_request")


class ProblemError(Exception):
    """Raise to answer with a problem document; refused attempts on audited routes are logged."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str | None = None,
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        citizen: str | None = None,
        purpose: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or code)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or _TITLES.get(status, "Error")
        self.headers = headers
        self.citizen = citizen
        self.purpose = purpose
        self.extra = extra or {}


def problem_response(
    status: int,
    code: str,
    detail: str | None = None,
    *,
    title: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:helhed:problem:{code}",
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "code": code,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    # Extension members may add to the document, never change its standard members.
    body.update({k: v for k, v in (extra or {}).items() if k not in body})
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)
