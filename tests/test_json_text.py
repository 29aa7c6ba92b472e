"""Sources' JSON (and consents' JSON columns) read by orjson, with the standard library's
answer where orjson is stricter: what a legacy system sends is read as before, or refused
with the same error."""

from __future__ import annotations

import json
import math

import pytest

from adapters.json_text import loads


@pytest.mark.parametrize(
    "text",
    [
        b'{"data": {"engagements": [{"rate": 9200, "title": "Mentor \\u00e6"}]}}',
        '{"big": 123456789012345678901234567890}',  # over 64 bits: orjson gives a float
        b'{"case": 9223372036854775809, "id": "12345678901234567890"}',
        "[18446744073709551617, -9223372036854775809]",
        "[1.5, -0.0, 1e16]",
        '{"a": 1, "a": 2}',  # the last one counts, as in json
        json.dumps({"utf-16": "ø"}).encode("utf-16"),  # with its BOM: json detects it
    ],
)
def test_the_same_value_as_the_standard_library(text: str | bytes) -> None:
    value = loads(text)
    assert value == json.loads(text)
    assert repr(value) == repr(json.loads(text))  # an int stays an int, not an equal float


def test_nan_as_the_standard_library_reads_it() -> None:
    assert math.isnan(loads('{"rate": NaN}')["rate"])


@pytest.mark.parametrize("text", [b"", b"{", b"<html>502</html>", b"\xff\xfe\x00"])
def test_not_json_is_the_standard_library_error(text: bytes) -> None:
    """The adapters turn exactly these errors into `invalid_json`."""
    with pytest.raises((UnicodeDecodeError, json.JSONDecodeError)) as expected:
        json.loads(text)
    with pytest.raises(expected.type):
        loads(text)
