"""The entry every granted read of citizen data or of the log writes before it answers."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from gateway.access_log.service import AccessEvent, record_access
from gateway.auth.actor import Actor
from gateway.deps import audit_context
from gateway.runtime import Runtime
from schemas.access import Action, Outcome
from schemas.consent import ConsentRef


def log_read(
    *,
    runtime: Runtime,
    request: Request,
    actor: Actor,
    action: Action,
    citizen: str | None = None,
    consents: list[ConsentRef] | None = None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    """Durable before the caller answers (rule 2); raises AccessLogUnavailable otherwise."""
    return record_access(
        engine=runtime.engine,
        protector=runtime.protector,
        context=audit_context(request, actor),
        event=AccessEvent(
            action=action,
            outcome=Outcome.SUCCESS,
            citizen=citizen,
            target=target,
            consents=consents or [],
            detail=detail or {},
        ),
        now=runtime.clock.now(),
    )
