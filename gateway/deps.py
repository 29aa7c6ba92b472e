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
    if actor is None:
        record = ActorRecord(client=client_address(request))
    else:
        # A citizen's token subject is their CPR; the log keeps a keyed-hash pseudonym.
        pseudonym = runtime.protector.lookup_hash(actor.citizen)[:24] if actor.citizen else None
        record = actor.record(client_address(request), pseudonym)
    return AuditContext(
        actor=record,
        request_id=request.state.request_id,
        instance=runtime.settings.instance,
    )


def authorized(*permissions: Permission) -> Callable[..., Coroutine[Any, Any, Actor]]:
    """A dependency that authenticates the bearer token and checks the role table.

    Several permissions are alternatives (a caseworker's, or a citizen's own); the endpoint
    then narrows what the caller may touch by which one they hold.
    """

    async def dependency(
        request: Request,
        runtime: RuntimeDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Actor:
        # Set first, so that a refusal below is logged under the action that was attempted.
        request.state.audit_action = AUDITED_ACTION[permissions[0]]
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
        granted = [p for p in permissions if p in permissions_of(list(actor.roles))]
        if not granted:
            raise ProblemError(
                403,
                "forbidden",
                f"Your roles ({', '.join(actor.roles) or 'none'}) do not allow this",
            )
        request.state.audit_action = AUDITED_ACTION[granted[0]]
        if all(p in DEPARTMENT_BOUND for p in granted) and (
            actor.department is None or runtime.catalog.department(actor.department) is None
        ):
            raise ProblemError(
                403, "unknown_department", "The token does not name a department Helhed knows"
            )
        if "citizen" in actor.roles and actor.citizen is None:
            raise ProblemError(
                403, "invalid_citizen_subject", "A citizen token's subject must be a CPR number"
            )
        return actor

    return dependency


CitizenViewer = Annotated[Actor, Depends(authorized(Permission.VIEW_CITIZEN))]
ConsentRecorder = Annotated[Actor, Depends(authorized(Permission.RECORD_CONSENT))]
ConsentReader = Annotated[Actor, Depends(authorized(Permission.READ_CONSENT))]
ConsentVersioner = Annotated[Actor, Depends(authorized(Permission.VERSION_CONSENT))]
ConsentRetractor = Annotated[Actor, Depends(authorized(Permission.RETRACT_CONSENT))]
ConsentLister = Annotated[
    Actor, Depends(authorized(Permission.READ_CONSENT, Permission.LIST_OWN_CONSENTS))
]
ReceiptReader = Annotated[
    Actor, Depends(authorized(Permission.READ_CONSENT, Permission.READ_OWN_RECEIPT))
]
ConsentWithdrawer = Annotated[
    Actor, Depends(authorized(Permission.WITHDRAW_CONSENT, Permission.WITHDRAW_OWN_CONSENT))
]
AuditReader = Annotated[Actor, Depends(authorized(Permission.READ_AUDIT))]
AuditVerifier = Annotated[Actor, Depends(authorized(Permission.VERIFY_AUDIT))]
