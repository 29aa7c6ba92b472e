"""The consent receipt: a compact JWS (EdDSA) over the canonical consent, for the citizen to keep.

Anyone can verify it with the receipt keys published at GET /v1/keys; it proves what was
recorded, by whom and when, without trusting the municipality's database later (GDPR art. 7(1)).
"""

from __future__ import annotations

import warnings

from joserfc import jws
from joserfc.jwk import OKPKey

from gateway.canonical import canonical_json
from schemas.consent import ConsentRead

# joserfc notes that RFC 9864 prefers the fully-specified "Ed25519"; "EdDSA" is what the
# receipts promise and what verifiers widely support.
warnings.filterwarnings("ignore", message="EdDSA is deprecated", category=UserWarning)

MEDIA_TYPE = "application/jose"
CONTENT_TYPE = "application/vnd.helhed.consent+json"
# Usage counters change after the fact; the receipt covers the consent as recorded.
_NOT_SIGNED = {"use_count", "last_used_at"}


def receipt_payload(consent: ConsentRead) -> bytes:
    return canonical_json(consent.model_dump(mode="json", exclude=_NOT_SIGNED)).encode("ascii")


def sign_receipt(consent: ConsentRead, key: OKPKey) -> str:
    header = {"alg": "EdDSA", "kid": key.kid, "typ": "JOSE", "cty": CONTENT_TYPE}
    return jws.serialize_compact(header, receipt_payload(consent), key, algorithms=["EdDSA"])
