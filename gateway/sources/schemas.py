"""What IT operations read about the sources: GET /v1/sources and POST /v1/sources/{name}/check."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from schemas.cpr import Cpr
from schemas.fragment import Fragment
from schemas.times import Instant


class HealthRead(BaseModel):
    healthy: bool
    detail: str
    latency_ms: float | None = None


class LastErrorRead(BaseModel):
    at: datetime
    code: str
    message: str


class RejectedLine(BaseModel):
    line: int
    problem: str


class ExportRead(BaseModel):
    """A csv_drop source's export in service."""

    file_name: str
    exported_at: Instant = Field(description="When the export was made (UTC)")
    export_date: date = Field(
        description="The export's date in Copenhagen time: the date a view's coverage line and "
        "fragments (`attributes.export_date`) name"
    )
    imported_at: Instant
    rows: int
    imported: int
    rejected: list[RejectedLine]


class ScheduledCheckRead(BaseModel):
    """The last scheduled health check (the `source-health` job), from the database."""

    healthy: bool
    detail: str
    latency_ms: float | None = None
    checked_by: str = Field(description="The gateway instance that ran the check")


class SourceStatus(BaseModel):
    name: str
    kind: str
    department: str
    categories: list[str]
    health: HealthRead
    breaker: str = Field(description="closed, open or half-open")
    last_success: datetime | None = None
    last_error: LastErrorRead | None = None
    latency_ms: dict[str, float] | None = Field(
        default=None, description="p50, p95 and p99 over this process's last 1000 calls"
    )
    calls: int = 0
    failures: int = 0
    export: ExportRead | None = None
    last_checked_at: Instant | None = Field(
        default=None,
        description="When the scheduled `source-health` job last checked this source, on "
        "whichever instance ran it; null before its first run",
    )
    last_check: ScheduledCheckRead | None = Field(
        default=None,
        description="That check's result: the same on every instance, unlike `health` (asked "
        "now, by the answering instance)",
    )


class SourcesRead(BaseModel):
    sources: list[SourceStatus]


class CheckRequest(BaseModel):
    """A citizen is optional: without one, the check connects and validates, and reads no data.
    With one, it must be one of the source's configured synthetic `test_citizens`: any other
    CPR is refused (403 `not_a_test_citizen`) and logged."""

    model_config = ConfigDict(extra="forbid")

    citizen: Cpr | None = None


class CheckProblem(BaseModel):
    where: str = Field(description="connection, export, fetch, record 3, line 7, …")
    code: str
    problem: str


class CheckReport(BaseModel):
    source: str
    kind: str
    department: str
    health: HealthRead
    fragments: list[Fragment]
    problems: list[CheckProblem]
    ok: bool
    access_entry: int | None = Field(
        default=None, description="The access-log entry of a check that read a citizen's data"
    )
