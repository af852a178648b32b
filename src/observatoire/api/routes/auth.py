"""Logging in and out (form, OpenID Connect), who am I, and API tokens for machines.

``GET /login`` is a small server-rendered form (no script) carrying a CSRF token
(double-submit: the same random value in an HttpOnly cookie); ``POST /login``
checks it, throttles failures per login and per client address, and opens a
server-side session (cookie HttpOnly, SameSite=Strict, Secure per settings).
"""

from __future__ import annotations

import html
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from observatoire.api.access import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    Principal,
    allowed_purposes,
    record,
)
from observatoire.api.models import IssuedToken, Me, TokenList, TokenView
from observatoire.api.openapi import NOT_FOUND
from observatoire.auth.oidc import OidcError
from observatoire.auth.sessions import COOKIE
from observatoire.errors import InputError

router = APIRouter(tags=["auth"])
OIDC_STATE_COOKIE = "observatoire_oidc_state"
LOGIN_CSRF_MAX_AGE = 3600

_PAGE = """<!doctype html>
<html lang="fr">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Observatoire — connexion</title>
  <link rel="stylesheet" href="static/app.css">
</head>
<body data-state="login">
  <header><h1>Observatoire — connexion</h1></header>
  <main>
    {message}
    <form method="post" action="login" class="login" aria-label="Connexion">
      <input type="hidden" name="{csrf_field}" value="{csrf}">
      <input type="hidden" name="next" value="{next}">
      <p><label for="login">Identifiant</label><br>
        <input id="login" name="login" autocomplete="username" required maxlength="64"></p>
      <p><label for="password">Mot de passe</label><br>
        <input id="password" name="password" type="password" autocomplete="current-password" required></p>
      <p><button type="submit" id="submit">Se connecter</button></p>
    </form>
    {oidc}
    <p><a href="./">Retour à la carte publique</a></p>
  </main>
</body>
</html>
"""


def _safe_next(target: str | None) -> str:
    """A local path to go to after login (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _cookie(request: Request, response: Response, name: str, value: str, *, max_age: int,
            samesite: str = "strict", path: str = "/") -> None:
    response.set_cookie(name, value, max_age=max_age, path=path, httponly=True,
                        secure=request.app.state.auth.secure_cookies, samesite=samesite)  # type: ignore[arg-type]


def _login_page(request: Request, *, next_: str, status: int = 200, message: str | None = None,
                headers: dict[str, str] | None = None) -> HTMLResponse:
    csrf = secrets.token_urlsafe(32)
    oidc = ('<p><a href="login/oidc" id="oidc-login">Se connecter avec le fournisseur d\'identité</a></p>'
            if request.app.state.auth.oidc is not None else "")
    body = _PAGE.format(csrf_field=CSRF_FIELD, csrf=csrf, next=html.escape(_safe_next(next_)), oidc=oidc,
                        message=f'<p class="notice" role="alert" id="login-error">{html.escape(message)}</p>'
                        if message else "")
    response = HTMLResponse(body, status_code=status, headers=headers)
    response.headers["Cache-Control"] = "no-store"
    _cookie(request, response, LOGIN_CSRF_COOKIE, csrf, max_age=LOGIN_CSRF_MAX_AGE)
    return response


def _open_session(request: Request, response: Response, login: str, role: str, via: str) -> None:
    auth = request.app.state.auth
    session_id, _ = auth.sessions.open(login, role, via)
    _cookie(request, response, COOKIE, session_id, max_age=int(auth.sessions.absolute_s))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_form(request: Request, next: Annotated[str | None, Query(max_length=500)] = None) -> HTMLResponse:
    """The login form (local accounts; a link to the identity provider when one is configured)."""
    return _login_page(request, next_=next or "/")


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    login: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    """Check a login and password (throttled), open a session and go back to ``next``."""
    auth = request.app.state.auth
    login = login.strip().lower()
    keys = [f"login:{login}", f"addr:{request.client.host if request.client else '?'}"]
    known = auth.accounts.get(login) is not None if login else False
    who = Principal(role="public", login=login if known else None)
    wait = auth.throttle.retry_after(keys)
    if wait > 0:
        record(request, "login_failed", who, dataset="accounts", outcome="denied",
               detail={"status": 429, "reason": "throttled", "retry_after_s": int(wait) + 1})
        return _login_page(request, next_=next or "/", status=429, headers={"Retry-After": str(int(wait) + 1)},
                           message="Trop d'essais infructueux : réessayez plus tard.")
    account = auth.accounts.authenticate(login, password)
    if account is None:
        auth.throttle.failure(keys)
        reason = "unknown_login" if not known else ("disabled" if auth.accounts.get(login).disabled
                                                    else "bad_password")
        record(request, "login_failed", who, dataset="accounts", outcome="denied",
               detail={"status": 401, "reason": reason})
        return _login_page(request, next_=next or "/", status=401, message="Identifiant ou mot de passe incorrect.")
    auth.throttle.success(keys[:1])
    response = RedirectResponse(_safe_next(next), status_code=303)
    _open_session(request, response, account.login, account.role, "password")
    record(request, "login", Principal(role=account.role, login=account.login, via="session"), dataset="accounts",
           detail={"via": "password"})
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request) -> Response:
    """End the session (CSRF-checked) and go back to the public page."""
    principal: Principal = request.state.principal
    if principal.via == "session":
        request.app.state.auth.sessions.close(request.cookies.get(COOKIE))
    record(request, "logout", principal, dataset="accounts")
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def _oidc(request: Request) -> Any:
    client = request.app.state.auth.oidc
    if client is None:
        raise HTTPException(404, "no identity provider is configured")
    return client


@router.get("/login/oidc", include_in_schema=False)
def oidc_start(request: Request) -> Response:
    """Send the browser to the identity provider (authorisation code, PKCE S256, state, nonce)."""
    client = _oidc(request)
    try:
        url, state = client.start(str(request.url_for("oidc_callback")))
    except OidcError as exc:
        raise HTTPException(502, str(exc)) from None
    except Exception as exc:  # the provider cannot be reached: say so, never a trace
        raise HTTPException(502, f"the identity provider cannot be reached ({type(exc).__name__})") from None
    response = RedirectResponse(url, status_code=302)
    # Lax: the provider sends the browser back with a cross-site top-level navigation.
    _cookie(request, response, OIDC_STATE_COOKIE, state, max_age=600, samesite="lax", path="/login/oidc")
    return response


@router.get("/login/oidc/callback", name="oidc_callback", include_in_schema=False)
def oidc_callback(
    request: Request,
    code: Annotated[str | None, Query(max_length=2048)] = None,
    state: Annotated[str | None, Query(max_length=256)] = None,
    error: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """Finish the provider's login: check state, exchange the code, check the id_token, open a session."""
    client = _oidc(request)
    try:
        if error or not code or not state:
            raise OidcError("the identity provider did not grant a code")
        who = client.finish(state=state, cookie_state=request.cookies.get(OIDC_STATE_COOKIE), code=code,
                            redirect_uri=str(request.url_for("oidc_callback")))
    except OidcError as exc:
        record(request, "login_failed", Principal(role="public"), dataset="accounts", outcome="denied",
               detail={"status": 401, "reason": "oidc", "why": str(exc)[:120]})
        return HTMLResponse(f"<!doctype html><html lang=\"fr\"><meta charset=\"utf-8\"><title>Connexion refusée"
                            f"</title><p id=\"login-error\">Connexion refusée : {html.escape(str(exc))}</p>"
                            f"<p><a href=\"../../login\">Réessayer</a></p></html>", status_code=401)
    # The session cookie is SameSite=Strict: a same-site navigation (not the provider's redirect) loads the page.
    response = HTMLResponse('<!doctype html><html lang="fr"><meta charset="utf-8">'
                            '<meta http-equiv="refresh" content="0;url=/"><title>Connecté</title>'
                            '<p><a href="/">Continuer</a></p></html>')
    _open_session(request, response, who.login, who.role, "oidc")
    response.delete_cookie(OIDC_STATE_COOKIE, path="/login/oidc")
    record(request, "login", Principal(role=who.role, login=who.login, via="session"), dataset="accounts",
           detail={"via": "oidc"})
    return response


@router.get("/api/v1/me")
def me(request: Request) -> Me:
    """Who the caller is: login, role, how authenticated, the purposes open to the role, and
    (session only) the CSRF token that unsafe requests must send in ``X-CSRF-Token``."""
    p: Principal = request.state.principal
    return Me(login=p.login, role=p.role, via=p.via, purposes=allowed_purposes(request, p.role),
              csrf_token=p.session.csrf if p.session is not None else None)


class TokenRequest(BaseModel):
    """An API token to issue."""

    name: str = Field(min_length=1, max_length=80, description="What the token is for (a machine, a job)")
    role: str = Field(description="Role the token acts under")
    days: int | None = Field(default=None, ge=1, le=3660, description="Lifetime in days (default from auth.toml)")


def _token_view(t: Any) -> dict[str, Any]:
    return {"id": t.id, "name": t.name, "role": t.role, "issued_by": t.issued_by, "issued_at": t.issued_at,
            "expires_at": t.expires_at, "revoked_at": t.revoked_at}


@router.get("/api/v1/tokens")
def tokens(request: Request) -> TokenList:
    """Every API token issued (never a secret)."""
    return TokenList(tokens=[TokenView(**_token_view(t)) for t in request.app.state.auth.tokens.list()])


@router.post("/api/v1/tokens", status_code=201)
def issue_token(request: Request, body: TokenRequest) -> IssuedToken:
    """Issue a token; its secret is in this answer only."""
    p: Principal = request.state.principal
    token, secret = request.app.state.auth.tokens.issue(body.name, body.role, issued_by=p.actor, days=body.days)
    record(request, "token_issued", p, dataset="tokens", detail={"token_id": token.id, "token_role": token.role,
                                                                 "expires_at": token.expires_at})
    return IssuedToken(**_token_view(token), secret=secret)


@router.delete("/api/v1/tokens/{token_id}", responses=NOT_FOUND)
def revoke_token(request: Request, token_id: str) -> TokenView:
    """Revoke a token for good."""
    p: Principal = request.state.principal
    try:
        token = request.app.state.auth.tokens.revoke(token_id)
    except InputError:
        raise HTTPException(404, "no such token") from None
    record(request, "token_revoked", p, dataset="tokens", detail={"token_id": token.id})
    return TokenView(**_token_view(token))
