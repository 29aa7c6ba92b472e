"""Text no database can store is refused before anything reads or writes it.

A NUL character passes every validator (JSON spells it \\u0000, a URL %00), but PostgreSQL's
text and jsonb hold none, so a withdrawal reason or a log filter with one failed at the database
and the client got a 503 for its own error; an unpaired surrogate (\\ud800) is the same for
UTF-8. One app-wide dependency checks path, query and JSON or form body, for every route.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import Request

from gateway.problems import ProblemError

_MESSAGE = "Text may not contain NUL characters or unpaired surrogates"


def storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every string in a JSON value, keys too, with its location (body.evidence.reference)."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield where, str(key)
            yield from _strings(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{where}.{index}")


async def _body(request: Request) -> Any:
    """The body as the route reads it (Starlette caches it: no second read of the stream)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        try:
            return await request.json()
        except ValueError:
            return None  # malformed JSON is the request handler's 400
    if media in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        form = await request.form()
        return {key: value for key, value in form.multi_items() if isinstance(value, str)}
    return None


async def refuse_unstorable_text(request: Request) -> None:
    found = [
        *(("path." + k, v) for k, v in request.path_params.items() if isinstance(v, str)),
        *(("query." + k, k) for k in request.query_params),
        *(("query." + k, v) for k, v in request.query_params.multi_items()),
        *_strings(await _body(request), "body"),
    ]
    bad = next((where for where, text in found if not storable(text)), None)
    if bad is not None:
        raise ProblemError(
            422,
            "invalid_text",
            f"{bad}: {_MESSAGE}",
            extra={"errors": [{"location": bad, "code": "invalid_text", "message": _MESSAGE}]},
        )
