"""A last line of defence: no CPR number reaches an application log in the clear (rule 5)."""

from __future__ import annotations

import logging
import re

# Ten digits, with or without the hyphen, not part of a longer number. Deliberately `\d`, wider
# than a CPR's ASCII digits: a redaction that hides too much costs nothing.
_CPR_LIKE = re.compile(r"(?<!\d)\d{6}-?\d{4}(?!\d)")


class CprRedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _CPR_LIKE.sub("[CPR]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_FILTER = CprRedactingFilter()


def install_cpr_redaction() -> None:
    """Attach the filter to every handler of the root and uvicorn loggers (idempotent)."""
    for name in ("", "uvicorn", "uvicorn.access", "uvicorn.error", "helhed"):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
