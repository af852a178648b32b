"""OpenID Connect login against a fake issuer answered in-process (discovery, JWKS, token endpoint
checking PKCE), with id_tokens signed by a test RSA key: no network."""

from __future__ import annotations

import base64
import hashlib
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from observatoire.api.app import create_app
from observatoire.auth.sessions import COOKIE

from conftest import Clock, governance

ISSUER = "https://idp.example.test"
CLIENT_ID = "observatoire"


class FakeIssuer:
    """Just enough of an OpenID provider: codes remember their nonce and PKCE challenge."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-1", "use": "sig", "alg": "RS256"})
        self.codes: dict[str, dict[str, Any]] = {}
        self.claims: dict[str, Any] = {}     # overrides of the next id_token's claims
        self.token_requests = 0

    def authorize(self, url: str, groups: list[str]) -> dict[str, str]:
        q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        assert url.startswith(f"{ISSUER}/authorize?") and q["response_type"] == "code"
        assert q["code_challenge_method"] == "S256" and q["client_id"] == CLIENT_ID and "openid" in q["scope"]
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"nonce": q["nonce"], "challenge": q["code_challenge"], "groups": groups,
                            "redirect_uri": q["redirect_uri"]}
        return {"code": code, "state": q["state"]}

    def id_token(self, nonce: str, groups: list[str]) -> str:
        now = int(self.clock().timestamp())
        claims = {"iss": ISSUER, "aud": CLIENT_ID, "sub": "u-123", "preferred_username": "alice", "nonce": nonce,
                  "iat": now, "exp": now + 300, "groups": groups, **self.claims}
        return jwt.encode({"alg": "RS256", "kid": "test-1"}, claims, self.key)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/.well-known/openid-configuration":
            return httpx.Response(200, json={"issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/authorize",
                                             "token_endpoint": f"{ISSUER}/token", "jwks_uri": f"{ISSUER}/jwks"})
        if path == "/jwks":
            return httpx.Response(200, json=KeySet([self.key]).as_dict(private=False))
        if path == "/token" and request.method == "POST":
            self.token_requests += 1
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            grant = self.codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if grant is None or challenge != grant["challenge"] or form.get("redirect_uri") != grant["redirect_uri"]:
                return httpx.Response(400, json={"error": "invalid_grant"})
            return httpx.Response(200, json={"access_token": "at", "token_type": "Bearer", "expires_in": 300,
                                             "id_token": self.id_token(grant["nonce"], grant["groups"])})
        return httpx.Response(404)


@pytest.fixture()
def oidc(tmp_path: Path, tiny_store: Path) -> tuple[Any, FakeIssuer]:
    clock = Clock()
    settings = governance(tmp_path, store_dir=tiny_store, clock=clock, oidc_issuer=ISSUER, oidc_client_id=CLIENT_ID,
                          oidc_client_secret="client-secret")
    app = create_app(settings)
    issuer = FakeIssuer(clock)
    app.state.auth.oidc.transport = httpx.MockTransport(issuer)
    return app, issuer


def _start(c: TestClient) -> str:
    r = c.get("/login/oidc", follow_redirects=False)
    assert r.status_code == 302
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("observatoire_oidc_state"))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    return r.headers["location"]


def _actions(app: Any) -> list[tuple[str, str]]:
    return [(e["action"], e["outcome"]) for e in app.state.audit.entries()]


def test_when_the_provider_vouches_then_a_session_with_the_mapped_role(oidc: tuple[Any, FakeIssuer]) -> None:
    app, issuer = oidc
    with TestClient(app) as c:
        assert 'id="oidc-login"' in c.get("/login").text
        params = issuer.authorize(_start(c), ["staff", "observatoire-analysts"])
        r = c.get("/login/oidc/callback", params=params)
        assert r.status_code == 200 and 'url=/' in r.text and COOKIE in r.cookies
        me = c.get("/api/v1/me").json()
        assert (me["login"], me["role"], me["via"]) == ("oidc:alice", "analyst", "session")
        assert c.get("/api/v1/hotspots?cell_m=2000").status_code == 200
    assert _actions(app)[:1] == [("login", "ok")]
    assert app.state.audit.last(10)[0]["detail"]["via"] == "oidc"


@pytest.mark.parametrize("case", ["nonce", "state", "no role", "expired", "audience", "replayed code", "pkce"])
def test_when_anything_does_not_match_then_401_and_one_login_failed(oidc: tuple[Any, FakeIssuer], case: str) -> None:
    app, issuer = oidc
    with TestClient(app) as c:
        params = issuer.authorize(_start(c), ["observatoire-analysts" if case != "no role" else "staff"])
        if case == "nonce":
            issuer.claims = {"nonce": "another"}
        elif case == "state":
            c.cookies.clear()
        elif case == "expired":
            issuer.claims = {"exp": int(issuer.clock().timestamp()) - 120}
        elif case == "audience":
            issuer.claims = {"aud": "someone-else"}
        elif case == "replayed code":
            issuer.codes.pop(params["code"])
        elif case == "pkce":
            issuer.codes[params["code"]]["challenge"] = "not-the-challenge"
        r = c.get("/login/oidc/callback", params=params)
        assert r.status_code == 401 and COOKIE not in r.cookies
        assert c.get("/api/v1/me").json()["role"] == "public"
    assert _actions(app) == [("login_failed", "denied")]
    assert "id_token" not in str(app.state.audit.last(1)) or "invalid id_token" in str(app.state.audit.last(1))


def test_when_no_provider_is_configured_then_no_oidc_login(tmp_path: Path, tiny_store: Path) -> None:
    app = create_app(governance(tmp_path, store_dir=tiny_store))
    with TestClient(app) as c:
        assert c.get("/login/oidc", follow_redirects=False).status_code == 404
        assert 'id="oidc-login"' not in c.get("/login").text
