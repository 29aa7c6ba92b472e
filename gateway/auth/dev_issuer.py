"""The development issuer: a signing key made on first run in the data folder, and tokens from it.

`helhed token` and `helhed demo` mint tokens with it; a gateway started on the same data folder
trusts it (unless `dev_issuer = false`). Production trusts the municipality's identity provider.
"""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey

from gateway.keys import load_or_create, replace_whole
from gateway.settings import DEFAULT_AUDIENCE, DEV_ISSUER, ClaimMapping, Settings, TrustedIssuer

ALGORITHM = "ES256"


def _private_key_path(settings: Settings) -> Path:
    return settings.keys_dir / "dev-issuer.jwk"


def _public_jwks_path(settings: Settings) -> Path:
    return settings.keys_dir / "dev-issuer.jwks.json"


def _new_private_jwk() -> str:
    return json.dumps(ECKey.generate_key("P-256", auto_kid=True).as_dict(private=True))


def signing_key(settings: Settings) -> ECKey:
    return ECKey.import_key(
        json.loads(load_or_create(_private_key_path(settings), _new_private_jwk))
    )


def trusted_dev_issuer(settings: Settings) -> TrustedIssuer:
    """The issuer entry that makes a gateway accept this data folder's development tokens."""
    public = signing_key(settings).as_dict(private=False)
    path = _public_jwks_path(settings)
    document = json.dumps({"keys": [public]}, indent=2)
    # Several gateways may start on one data folder at once: never truncate what another reads.
    if not path.is_file() or path.read_text(encoding="utf-8") != document:
        replace_whole(path, document)
    return TrustedIssuer(
        issuer=DEV_ISSUER,
        audience=DEFAULT_AUDIENCE,
        jwks_file=path,
        algorithms=[ALGORITHM],
        claims=ClaimMapping(cpr="cpr"),  # `helhed token --role citizen --cpr …`
    )


def mint_token(
    settings: Settings,
    *,
    subject: str,
    roles: list[str],
    name: str | None = None,
    department: str | None = None,
    ttl_seconds: int | None = None,
    extra_claims: dict[str, Any] | None = None,
) -> str:
    key = signing_key(settings)
    now = int(time.time())
    ttl = ttl_seconds if ttl_seconds is not None else settings.dev_token_ttl_minutes * 60
    claims: dict[str, Any] = {
        "iss": DEV_ISSUER,
        "aud": DEFAULT_AUDIENCE,
        "sub": subject,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": secrets.token_hex(8),
        "roles": roles,
    }
    if name:
        claims["name"] = name
    if department:
        claims["department"] = department
    claims.update(extra_claims or {})
    return jwt.encode({"alg": ALGORITHM, "kid": key.kid}, claims, key, algorithms=[ALGORITHM])
