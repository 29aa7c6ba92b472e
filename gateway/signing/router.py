"""GET /v1/keys: the public keys that verify consent receipts and log checkpoints."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from gateway.deps import RuntimeDep

router = APIRouter(tags=["keys"])


@router.get("/v1/keys")
def public_keys(runtime: RuntimeDep) -> dict[str, Any]:
    """A JWKS (RFC 7517) of Ed25519 (OKP) public keys; `helhed_use` says what each signs."""
    return runtime.signing_keys.jwks()
