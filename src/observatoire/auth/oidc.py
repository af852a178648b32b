"""OpenID Connect login (authorisation-code flow with PKCE S256, state and nonce) with authlib.

The provider is found by discovery (``<issuer>/.well-known/openid-configuration``);
the id_token is checked against the provider's JWKS (signature, ``iss``, ``aud``,
``exp``, ``nonce``) with joserfc, authlib's JOSE library. The role comes from one
claim (``role_claim``), mapped to our roles by ``auth.toml``'s ``[oidc.roles]``.
"""

from __future__ import annotations

import secrets
import threading
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from observatoire.errors import InputError

PENDING_S = 600          # a login must come back from the provider within ten minutes
MAX_PENDING = 10_000


class OidcError(InputError):
    """The provider's answer cannot log anyone in (reason only, never a token or claim value)."""


@dataclass(frozen=True, slots=True)
class OidcIdentity:
    """Who the provider vouched for, and the role mapped from their claim."""

    login: str
    role: str


def _oauth_client(**kwargs: Any) -> Any:
    import authlib.deprecate  # noqa: F401  (installs authlib's "always" filter before ours overrides it)

    with warnings.catch_warnings():        # authlib 1.9 prefers httpx2 and warns when it falls back to httpx
        warnings.simplefilter("ignore")
        from authlib.integrations.httpx_client import OAuth2Client
    return OAuth2Client(**kwargs)


class OidcClient:
    """The relying party for one issuer; ``transport`` lets tests answer as the provider."""

    def __init__(self, issuer: str, client_id: str, client_secret: str | None, *, clock: Callable[[], datetime],
                 scope: str, role_claim: str, login_claim: str, roles: Mapping[str, str],
                 transport: httpx.BaseTransport | None = None) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id, self._secret = client_id, client_secret
        self._clock, self._scope = clock, scope
        self._role_claim, self._login_claim, self._roles = role_claim, login_claim, dict(roles)
        self.transport = transport
        self._pending: dict[str, tuple[str, str, float]] = {}
        self._lock = threading.Lock()
        self._discovery: dict[str, Any] | None = None

    def _http(self) -> httpx.Client:
        return httpx.Client(transport=self.transport, timeout=10)

    def discovery(self) -> dict[str, Any]:
        """The provider's metadata (fetched once; its issuer must be ours)."""
        if self._discovery is None:
            with self._http() as http:
                meta = http.get(f"{self.issuer}/.well-known/openid-configuration").raise_for_status().json()
            if str(meta.get("issuer", "")).rstrip("/") != self.issuer:
                raise OidcError("the provider's discovery document names another issuer")
            self._discovery = meta
        return self._discovery

    def start(self, redirect_uri: str) -> tuple[str, str]:
        """The provider's authorisation URL and the state to keep in the browser's cookie."""
        meta = self.discovery()
        state, nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
        now = self._clock().timestamp()
        with self._lock:
            self._pending = {k: v for k, v in self._pending.items() if now - v[2] < PENDING_S}
            if len(self._pending) >= MAX_PENDING:
                raise OidcError("too many logins in progress")
            self._pending[state] = (nonce, verifier, now)
        client = _oauth_client(client_id=self.client_id, client_secret=self._secret, scope=self._scope,
                               redirect_uri=redirect_uri, code_challenge_method="S256", transport=self.transport)
        with client:
            url, _ = client.create_authorization_url(meta["authorization_endpoint"], state=state, nonce=nonce,
                                                     code_verifier=verifier)
        return url, state

    def finish(self, *, state: str, cookie_state: str | None, code: str, redirect_uri: str) -> OidcIdentity:
        """Exchange the code (with the PKCE verifier), check the id_token, and map the role."""
        if not cookie_state or not secrets.compare_digest(state, cookie_state):
            raise OidcError("the login's state does not match this browser's")
        with self._lock:
            pending = self._pending.pop(state, None)
        if pending is None or self._clock().timestamp() - pending[2] >= PENDING_S:
            raise OidcError("unknown or expired login state")
        nonce, verifier, _ = pending
        meta = self.discovery()
        client = _oauth_client(client_id=self.client_id, client_secret=self._secret, scope=self._scope,
                               redirect_uri=redirect_uri, code_challenge_method="S256", transport=self.transport,
                               token_endpoint_auth_method="client_secret_post" if self._secret else "none")
        try:
            with client:
                token = client.fetch_token(meta["token_endpoint"], code=code, code_verifier=verifier,
                                           grant_type="authorization_code")
            with self._http() as http:
                keys = KeySet.import_key_set(http.get(meta["jwks_uri"]).raise_for_status().json())
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise OidcError(f"the provider's token exchange failed ({type(exc).__name__})") from None
        except Exception as exc:  # authlib's OAuthError and friends: reason only
            raise OidcError(f"the provider refused the code ({type(exc).__name__})") from None
        if "id_token" not in token:
            raise OidcError("the provider returned no id_token")
        return self.identity(token["id_token"], keys, nonce)

    def identity(self, id_token: str, keys: KeySet, nonce: str) -> OidcIdentity:
        """Check ``id_token`` and map its role claim."""
        try:
            decoded = jwt.decode(id_token, keys, algorithms=["RS256", "ES256", "PS256", "EdDSA"])
            jwt.JWTClaimsRegistry(
                now=int(self._clock().timestamp()), leeway=60,
                iss={"essential": True, "value": self.issuer}, aud={"essential": True, "value": self.client_id},
                nonce={"essential": True, "value": nonce}, exp={"essential": True}, sub={"essential": True},
            ).validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise OidcError(f"invalid id_token ({type(exc).__name__})") from None
        claims = decoded.claims
        values = claims.get(self._role_claim)
        values = [values] if isinstance(values, str) else list(values or [])
        role = next((self._roles[v] for v in self._roles if v in values), None)
        if role is None:
            raise OidcError("the identity provider gives this user no role of the observatory")
        login = str(claims.get(self._login_claim) or claims["sub"])[:64]
        return OidcIdentity(login=f"oidc:{login}", role=role)
