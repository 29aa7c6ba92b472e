"""Named dependencies, in one place: routers never open sessions or read settings themselves."""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from gateway.access_log.service import AuditContext
from gateway.auth.actor import Actor
from gateway.auth.permissions import (
    AUDITED_ACTION,
    DEPARTMENT_BOUND,
    Permission,
    permissions_of,
)
from gateway.auth.tokens import TokenRejected
from gateway.db import read_session
from gateway.problems import ProblemError
from gateway.runtime import Runtime
from schemas.access import ActorRecord

_bearer = HTTPBearer(
    auto_error=False,
    description="An OIDC access token (development: `helhed token` or the demo's printout)",
)


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    with read_session(runtime.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def audit_context(request: Request, actor: Actor | None = None) -> AuditContext:
    runtime: Runtime = request.app.state.runtime
    record = (
        actor.record(client_address(request))
        if actor is not None
        else ActorRecord(client=client_address(request))
    )
    return AuditContext(
        actor=record,
        request_id=request.state.request_id,
        instance=runtime.settings.instance,
    )


def authorized(permission: Permission) -> Callable[..., Coroutine[Any, Any, Actor]]:
    """A dependency that authenticates the bearer token and checks the role table."""

    async def dependency(
        request: Request,
        runtime: RuntimeDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Actor:
        # Set first, so that a refusal below is logged under the action that was attempted.
        request.state.audit_action = AUDITED_ACTION[permission]
        if credentials is None:
            raise ProblemError(
                401,
                "missing_token",
                "Send an access token: Authorization: Bearer <token>",
                headers={"WWW-Authenticate": 'Bearer realm="helhed"'},
            )
        try:
            actor = runtime.verifier.verify(credentials.credentials, now=int(time.time()))
        except TokenRejected as rejected:
            raise ProblemError(
                401,
                rejected.code,
                rejected.message,
                headers={
                    "WWW-Authenticate": f'Bearer realm="helhed", error="invalid_token", '
                    f'error_description="{rejected.code}"'
                },
            ) from None
        request.state.actor = actor
        if permission not in permissions_of(list(actor.roles)):
            raise ProblemError(
                403,
                "forbidden",
                f"Your roles ({', '.join(actor.roles) or 'none'}) do not allow this",
            )
        if permission in DEPARTMENT_BOUND and (
            actor.department is None or runtime.catalog.department(actor.department) is None
        ):
            raise ProblemError(
                403, "unknown_department", "The token does not name a department Helhed knows"
            )
        return actor

    return dependency


CitizenViewer = Annotated[Actor, Depends(authorized(Permission.VIEW_CITIZEN))]
ConsentRecorder = Annotated[Actor, Depends(authorized(Permission.RECORD_CONSENT))]
ConsentReader = Annotated[Actor, Depends(authorized(Permission.READ_CONSENT))]
ConsentWithdrawer = Annotated[Actor, Depends(authorized(Permission.WITHDRAW_CONSENT))]
AuditReader = Annotated[Actor, Depends(authorized(Permission.READ_AUDIT))]
AuditVerifier = Annotated[Actor, Depends(authorized(Permission.VERIFY_AUDIT))]
AuditReporter = Annotated[Actor, Depends(authorized(Permission.REPORT_AUDIT))]
