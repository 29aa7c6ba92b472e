"""A consent as others need it: an HL7 FHIR R4 Consent resource, and the citizen's receipt."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import Session

from consent.decision import local_day
from gateway.access_log.reads import log_read
from gateway.auth.actor import Actor
from gateway.consents import service
from gateway.consents.fhir import to_fhir_consent
from gateway.consents.receipt import MEDIA_TYPE, sign_receipt
from gateway.consents.router import PROBLEMS, handled_row
from gateway.deps import ConsentReader, ReceiptReader, RuntimeDep, SessionDep
from gateway.problems import ProblemError
from gateway.runtime import Runtime
from schemas.access import Action
from schemas.consent import ConsentRead, ConsentRef

router = APIRouter(prefix="/v1/consents", tags=["consents"])


def _version(
    session: Session, runtime: Runtime, consent_id: str, version: int | None
) -> ConsentRead:
    rows = service.all_versions(session=session, consent_id=consent_id)
    chosen = rows[-1] if version is None else next((r for r in rows if r.version == version), None)
    if chosen is None:
        raise ProblemError(404, "consent_version_not_found", f"No version {version} of it")
    usage = service.usage_of(session=session, rows=[chosen]).get((chosen.id, chosen.version))
    return service.to_read_model(chosen, runtime.protector, local_day(runtime.clock.now()), usage)


def _logged_version(
    *,
    session: Session,
    runtime: Runtime,
    request: Request,
    actor: Actor,
    consent_id: str,
    version: int | None,
    action: Action,
    detail: dict[str, object] | None = None,
) -> ConsentRead:
    """One version of a consent the caller may handle, read and logged."""
    handled_row(session, runtime, actor, consent_id)
    consent = _version(session, runtime, consent_id, version)
    log_read(
        runtime=runtime,
        request=request,
        actor=actor,
        action=action,
        citizen=consent.citizen,
        target=consent_id,
        consents=[ConsentRef(id=consent.id, version=consent.version)],
        detail=detail,
    )
    return consent


VersionQuery = Annotated[int | None, Query(ge=1, description="Default: the newest version")]


FHIR_MEDIA_TYPE = "application/fhir+json"


@router.get(
    "/{consent_id}/fhir",
    response_class=Response,
    responses={200: {"content": {FHIR_MEDIA_TYPE: {}}}, **PROBLEMS},
)
def consent_as_fhir(
    consent_id: str,
    request: Request,
    actor: ConsentReader,
    runtime: RuntimeDep,
    session: SessionDep,
    version: VersionQuery = None,
) -> Response:
    """The consent as an HL7 FHIR R4 Consent resource (application/fhir+json)."""
    consent = _logged_version(
        session=session,
        runtime=runtime,
        request=request,
        actor=actor,
        consent_id=consent_id,
        version=version,
        action=Action.CONSENT_READ,
        detail={"format": "fhir"},
    )
    resource = to_fhir_consent(consent, runtime.catalog)
    return Response(json.dumps(resource), media_type=FHIR_MEDIA_TYPE)


@router.get(
    "/{consent_id}/receipt",
    response_class=Response,
    responses={200: {"content": {MEDIA_TYPE: {}}}, **PROBLEMS},
)
def consent_receipt(
    consent_id: str,
    request: Request,
    actor: ReceiptReader,
    runtime: RuntimeDep,
    session: SessionDep,
    version: VersionQuery = None,
) -> Response:
    """A compact JWS (EdDSA) over the canonical consent; verify it with GET /v1/keys."""
    consent = _logged_version(
        session=session,
        runtime=runtime,
        request=request,
        actor=actor,
        consent_id=consent_id,
        version=version,
        action=Action.CONSENT_RECEIPT,
    )
    token = sign_receipt(consent, runtime.signing_keys.current("receipt"))
    return Response(token, media_type=MEDIA_TYPE)
