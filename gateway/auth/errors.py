"""Why a token or an issuer cannot be used; the codes go into problem documents and the log."""

from __future__ import annotations


class TokenRejected(Exception):
    """Why a token is refused; `code` goes into the problem document and the access log."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class IssuerUnavailable(Exception):
    """A trusted issuer's discovery document or keys could not be fetched (and none are cached)."""
