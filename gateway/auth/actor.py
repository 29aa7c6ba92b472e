"""The authenticated caller, as the gateway uses it everywhere after the token check."""

from __future__ import annotations

from dataclasses import dataclass, field

from schemas.access import ActorRecord


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

    def record(self, client: str | None) -> ActorRecord:
        return ActorRecord(
            subject=self.subject,
            name=self.name,
            department=self.department,
            roles=list(self.roles),
            client=client,
            token_id=self.token_id,
        )
