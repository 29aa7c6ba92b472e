"""Access-log entries: what is hashed, what the DPO reads, and the verification report."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from schemas.consent import ConsentRef

# Positions are 64-bit signed integers in both databases; anything larger is bad input, not a 500.
MAX_POSITION = 2**63 - 1


class Action(StrEnum):
    VIEW = "view"
    CONSENT_RECORD = "consent.record"
    CONSENT_READ = "consent.read"
    CONSENT_SEARCH = "consent.search"
    CONSENT_WITHDRAW = "consent.withdraw"
    CONSENT_VERSION = "consent.version"
    CONSENT_EXPIRE = "consent.expire"
    CONSENT_ENTERED_IN_ERROR = "consent.entered-in-error"
    CONSENT_PREVIEW = "consent.preview"
    CONSENT_RECEIPT = "consent.receipt"
    AUDIT_QUERY = "audit.query"
    AUDIT_VERIFY = "audit.verify"
    SIGN_IN = "sign-in"  # the web pages' sign-in, refused or done
    SIGN_OUT = "sign-out"
    VIEW_BURST = "view.burst"  # one user viewed unusually many distinct citizens: a flag
    SOURCES_READ = "sources.read"
    SOURCE_CHECK = "source.check"  # IT operations tried a source, maybe with a real citizen
    AUDIT_PROOF = "audit.proof"
    AUDIT_EXPORT = "audit.export"
    AUDIT_REPORT = "audit.report"
    AUDIT_RETENTION = "audit.retention"


class Outcome(StrEnum):
    SUCCESS = "success"
    DENIED = "denied"  # refused: no token, wrong role, bad input about a citizen
    FAILED = "failed"  # the gateway could not do what was asked


class ActorRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str | None = None
    name: str | None = None
    department: str | None = None
    roles: list[str] = Field(default_factory=list)
    client: str | None = Field(default=None, description="Client address")
    token_id: str | None = None


class ReleaseLine(BaseModel):
    """Per source and category: what was released, or why not."""

    model_config = ConfigDict(extra="forbid")

    source: str
    department: str
    category: str
    decision: str = Field(description="permit or deny")
    reason: str = Field(description="The decision's reason code")
    status: str = Field(description="released, not-asked or unavailable")
    fragments: int = 0


# A release line as plain data, for the hot path: the entry's body validates it into a
# ReleaseLine with everything else, one call instead of one per line.
ReleaseLineFields = dict[str, str | int]


class AccessEntryBody(BaseModel):
    """Everything that is hashed into the chain; its canonical JSON is the source of truth."""

    model_config = ConfigDict(extra="forbid")

    seq: int
    at: datetime
    action: Action
    outcome: Outcome
    reason: str | None = None
    actor: ActorRecord
    purpose: str | None = None
    citizen_hash: str | None = Field(default=None, description="Keyed hash for look-up")
    citizen_ciphertext: str | None = Field(default=None, description="AES-GCM, base64")
    target: str | None = Field(default=None, description="e.g. the consent id acted on")
    released: list[ReleaseLine] = Field(default_factory=list)
    consents: list[ConsentRef] = Field(default_factory=list)
    request_id: str
    instance: str
    detail: dict[str, Any] = Field(default_factory=dict)
    # Random, so that a leaf hash kept after its entry is pruned cannot be confirmed by guessing.
    nonce: str | None = Field(default=None, description="128 random bits, base64")


class AccessEntryRead(BaseModel):
    """An entry as the DPO reads it: the body with the citizen decrypted, and its chain hash."""

    seq: int
    at: datetime
    action: str
    outcome: str
    reason: str | None
    actor: ActorRecord
    purpose: str | None
    citizen: str | None
    target: str | None
    released: list[ReleaseLine]
    consents: list[ConsentRef]
    request_id: str
    instance: str
    detail: dict[str, Any]
    hash: str


class AccessEntryPage(BaseModel):
    entries: list[AccessEntryRead]
    next_cursor: str | None = None


class VerifyReport(BaseModel):
    ok: bool
    entries: int
    first_bad: int | None = Field(description="Position of the first entry that fails, if any")
    reason: str | None = None
    head: str | None = Field(default=None, description="Merkle tree root (hex)")
    checkpoints: int = Field(default=0, description="Signed checkpoints checked")
    pruned: int = Field(default=0, description="Entries whose body retention has removed")


class InclusionProof(BaseModel):
    """RFC 9162 inclusion proof of one entry in the tree of `tree_size` entries."""

    leaf_index: int = Field(description="The entry's position minus one")
    tree_size: int
    leaf_hash: str = Field(description="SHA-256(0x00 || entry), base64")
    hashes: list[str] = Field(description="The audit path, leaf side first, base64")
    entry: str | None = Field(description="The entry's canonical bytes, base64; null if pruned")


class ConsistencyProof(BaseModel):
    first: int
    second: int
    hashes: list[str] = Field(description="RFC 9162 consistency proof, base64")


class CheckpointRead(BaseModel):
    size: int
    root: str = Field(description="Merkle tree root, base64")
    at: datetime
    key_id: str = Field(description="The signing key's JWK thumbprint (`kid` in GET /v1/keys)")
    note: str = Field(description="The C2SP signed note, as GET /v1/audit/checkpoints/latest")


class CheckpointPage(BaseModel):
    checkpoints: list[CheckpointRead]
    next_cursor: str | None = None
