"""Reading the pages' forms, and turning a refusal into words on the same form.

A form that fails is shown again with what was typed and the reasons beside it; the refusal
is logged exactly as the API logs it (gateway.errors.log_refusal).
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from gateway.access_log.service import AccessLogUnavailable
from gateway.errors import log_refusal
from gateway.problems import ProblemError, domain_code, field_errors
from gateway.web.i18n import explain

M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], data: dict[str, Any]) -> M:
    """A form's fields as the API's own request model; a bad form is refused like bad JSON."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise RequestValidationError(error.errors()) from None


def text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def texts(form: FormData, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str) and v]


_REPEATED = frozenset({"from_departments", "to_departments", "categories"})


def typed(form: FormData) -> dict[str, Any]:
    """What was typed, to fill the form in again."""
    return {
        name: texts(form, name) if name in _REPEATED else (text(form, name) or "")
        for name in form
        if name != "csrf"
    }


def reasons(error: RequestValidationError | ProblemError) -> tuple[str, list[str]]:
    """The refusal's code and its reasons as a person reads them (never the input value)."""
    if isinstance(error, ProblemError):
        return error.code, [explain(error.code, error.detail or error.code)]
    errors = field_errors(list(error.errors()))
    messages = []
    for item in errors:
        where = item["location"].removeprefix("body.")
        messages.append(explain(item["code"], f"{where}: {item['message']}", where=where))
    return domain_code(errors), list(dict.fromkeys(messages))


async def refused(
    request: Request, error: RequestValidationError | ProblemError, citizen: str | None = None
) -> list[str]:
    """Log a refused form like a refused API call, and say why in words; a form that cannot
    be logged is not shown again (the access log's rule comes first)."""
    code, messages = reasons(error)
    if isinstance(error, ProblemError) and error.status >= 500:
        raise error
    if not await log_refusal(
        request, code, citizen or getattr(error, "citizen", None), getattr(error, "purpose", None)
    ):
        raise AccessLogUnavailable("the refusal could not be logged")
    return messages
