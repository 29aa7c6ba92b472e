"""A minimal OpenID Connect provider for the demo and the tests, built on authlib's server parts.

Like Keycloak it serves several realms, each an issuer of its own: the demo has one for the
municipality's staff (Entra-style `roles` and `groups` claims) and one for citizens (the
national login's CPR claim), so the gateway's claim mapping is exercised as in production.
"""

from demo.identity.provider import IdentityProvider, ProviderClient, ProviderUser, Realm

__all__ = ["IdentityProvider", "ProviderClient", "ProviderUser", "Realm"]
