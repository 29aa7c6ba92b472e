"""The authenticated caller, as the gateway uses it everywhere after the token check."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from pydantic_core import PydanticCustomError

from schemas.access import ActorRecord
from schemas.cpr import normalize_cpr


@dataclass(frozen=True)
class Actor:
    subject: str
    name: str | None
    department: str | None
    roles: tuple[str, ...]
    issuer: str
    token_id: str | None
    # A signed-in citizen's own CPR, from the citizens' login; never logged or shown in repr.
    cpr: str | None = field(default=None, repr=False)

    @cached_property
    def citizen(self) -> str | None:
        """For a citizen's own token: their CPR, from the login's CPR claim or, failing that, a
        subject that is a CPR; None for staff."""
        if "citizen" not in self.roles:
            return None
        if self.cpr is not None:
            return self.cpr
        try:
            return normalize_cpr(self.subject)
        except PydanticCustomError:
            return None

    def record(self, client: str | None, pseudonym: str | None = None) -> ActorRecord:
        """How the access log names the actor. A citizen's subject is a CPR: never stored as
        such; `pseudonym` (a keyed hash) stands in for it."""
        if "citizen" in self.roles:
            return ActorRecord(
                subject=f"citizen:{pseudonym}" if pseudonym else "citizen",
                roles=list(self.roles),
                client=client,
                token_id=self.token_id,
            )
        return ActorRecord(
            subject=self.subject,
            name=self.name,
            department=self.department,
            roles=list(self.roles),
            client=client,
            token_id=self.token_id,
        )
