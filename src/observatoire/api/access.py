"""The access policy enforced on every request: who the caller is, whether the route lets them in, what is audited.

The policy itself — which roles may reach each route, with which purpose, auditing which dataset, and the
fields of a record each role may see — is data, in :mod:`observatoire.governance.access` (``ACCESS``,
``EVENT_FIELDS``). Here, :func:`enforce`, an app-wide dependency, authenticates the caller (API token, else
session cookie, else anonymous), then answers 401 (not authenticated, route not public), 403 (role not
allowed, CSRF token missing or wrong, purpose not open to the role) or 422 (purpose required and missing or
unknown); each refusal is audited once as ``authorisation_denied``. A route with a ``dataset`` is a data
route: each request to it is audited once as ``consult`` (or ``export``), with what the route wrote on its
:class:`AuditNote` (rows handed over, recipient). :func:`check_routes` makes ``create_app`` refuse an app with
an undeclared route. See ``docs/access.md``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, get_args, get_origin

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from observatoire.api.errors import failure_status
from observatoire.auth.sessions import COOKIE, Session
from observatoire.errors import InputError
from observatoire.governance.access import ACCESS, PUBLIC, Requirement

__all__ = ["ANONYMOUS", "AuditNote", "AuditNoteDep", "Principal", "allowed_purposes", "check_routes", "deny", "enforce",
           "query_filters", "record", "route_keys"]

LOGIN_CSRF_COOKIE = "observatoire_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
PURPOSE_HEADER = "X-Purpose"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of a request: ``request.state.principal``."""

    role: str
    login: str | None = None
    via: str = "anonymous"            # anonymous | session | token
    purpose: str | None = None
    token_id: str | None = None
    session: Session | None = field(default=None, repr=False)

    @property
    def actor(self) -> str:
        """The audit log's ``actor``: ``user:<login>``, ``token:<id>`` or ``anonymous``."""
        if self.via == "token":
            return f"token:{self.token_id}"
        return f"user:{self.login}" if self.login else "anonymous"


ANONYMOUS = Principal(role="public")


@dataclass(slots=True)
class AuditNote:
    """What a data route tells the audit entry of its request, beyond what the access dependency knows.

    One per request (:func:`audit_note`; FastAPI gives the route and :func:`enforce` the same object): the route
    fills it, :func:`enforce` writes it into the ``consult`` or ``export`` entry once the route has answered
    (or failed).

    Attributes
    ----------
    rows
        Records the answer hands over (event-level rows, alerts, log entries, releases); ``None``: not counted.
    recipient
        For an ``export``: the code of the configured recipient the records are handed to.
    """

    rows: int | None = None
    recipient: str | None = None


async def audit_note() -> AuditNote:
    """A fresh :class:`AuditNote` for this request (FastAPI caches it: one per request). Async: a plain function
    would cost every request a trip through the thread pool."""
    return AuditNote()


AuditNoteDep = Annotated[AuditNote, Depends(audit_note)]


# -- the startup check --------------------------------------------------------------------------------
def app_routes(app: FastAPI) -> list[Any]:
    """The app's routes, flattened through included routers (FastAPI >= 0.16x includes them lazily)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:                                           # older FastAPI: routes are copied flat
        return list(app.routes)
    return [context.original_route for context in iter_route_contexts(app.routes)]


def route_keys(app: FastAPI) -> list[tuple[tuple[str, str], bool]]:
    """Every (method, path) the app answers, with whether the app-wide dependency enforces it."""
    keys: list[tuple[tuple[str, str], bool]] = []
    for route in app_routes(app):
        if isinstance(route, APIRoute):
            keys += [((m, route.path), True) for m in sorted(route.methods - {"HEAD"})]
        elif isinstance(route, Mount):
            keys.append((("GET", route.path), False))
        elif isinstance(route, Route):
            keys += [((m, route.path), False) for m in sorted((route.methods or {"GET"}) - {"HEAD"})]
    return keys


def check_routes(app: FastAPI, access: Mapping[tuple[str, str], Requirement] = ACCESS) -> None:
    """Refuse (InputError) an app with a route that has no requirement in ``access``, or a route the
    app-wide dependency cannot enforce (documentation, static files) that is not public."""
    missing = [f"{m} {p}" for (m, p), _ in route_keys(app) if (m, p) not in access]
    if missing:
        raise InputError(f"routes without a declared requirement in governance/access.py ACCESS: "
                         f"{', '.join(missing)}")
    unenforced = [f"{m} {p}" for (m, p), enforced in route_keys(app) if not enforced and access[(m, p)].roles != PUBLIC]
    if unenforced:
        raise InputError(f"routes outside the access dependency must be public: {', '.join(unenforced)}")


# -- auditing -----------------------------------------------------------------------------------------
def audit_log(request: Request) -> Any:
    """The app's audit log (``app.state.audit``)."""
    return request.app.state.audit


# A value recorded as typed: short numbers (zone ids, limits, sizes), dates and months, LSOA-style zone codes, a
# code of the app's vocabulary (_vocabulary), or comma-separated lists of them. Anything else (free text, a name,
# a phone number, a plate, a lower-case word that is no code) is recorded by its length only: the audit log keeps
# three years of what callers send.
_PLAIN_VALUE = re.compile(r"-?\d{1,6}(?:\.\d{1,6})?|\d{4}-\d{2}(?:-\d{2})?|\d{4}-Q[1-4]|[A-Z]\d{8}")


def _literals(annotation: Any) -> set[str]:
    """The string values of the Literal types inside ``annotation`` (``list[Literal[...]] | None`` included)."""
    if get_origin(annotation) is Literal:
        return {a for a in get_args(annotation) if isinstance(a, str)}
    return set().union(*(_literals(a) for a in get_args(annotation))) if get_args(annotation) else set()


def _vocabulary(app: FastAPI) -> frozenset[str]:
    """Every code a query may carry, built once per app: the values of the routes' Literal parameters, category
    codes, registered source names, discovery modes, purposes and export recipients."""
    cached = getattr(app.state, "audit_vocabulary", None)
    if cached is not None:
        return cached
    from observatoire.event.schema import DISCOVERY
    from observatoire.event.taxonomy import codes
    from observatoire.sources.registry import registered

    words: set[str] = set(codes()) | set(DISCOVERY) | set(registered().sources)
    config = app.state.auth.config
    words |= set(config.purposes) | set(config.recipients)
    for route in app_routes(app):
        stack = [getattr(route, "dependant", None)]
        while stack:
            dependant = stack.pop()
            if dependant is not None:
                words |= set().union(*(_literals(p.field_info.annotation) for p in dependant.query_params))
                stack.extend(dependant.dependencies)
    app.state.audit_vocabulary = frozenset(words)
    return app.state.audit_vocabulary


def _declared(request: Request) -> frozenset[str]:
    """The query parameters the request's route declares (its own and its dependencies')."""
    route = request.scope.get("route")
    stack = [getattr(route, "dependant", None)]
    names: set[str] = set()
    while stack:
        dependant = stack.pop()
        if dependant is not None:
            names.update(p.alias for p in dependant.query_params)
            stack.extend(dependant.dependencies)
    return frozenset(names)


def _plain(value: str, vocabulary: frozenset[str]) -> str:
    plain = value != "" and all(_PLAIN_VALUE.fullmatch(part) or part in vocabulary for part in value.split(","))
    return value if plain else f"<withheld: {len(value)} characters>"


def query_filters(request: Request) -> dict[str, Any]:
    """The query parameters as audit filters: only those the route declares, each value as typed when it is a
    code, id, date or number (else its length only), lists for repeated ones; undeclared ones are counted,
    never named (a parameter's name can carry anything)."""
    declared = _declared(request)
    vocabulary = _vocabulary(request.app)
    out: dict[str, Any] = {}
    undeclared = 0
    for key in request.query_params:
        if key not in declared:
            undeclared += 1
            continue
        values = [_plain(v, vocabulary) for v in request.query_params.getlist(key)]
        out[key] = values[0] if len(values) == 1 else values
    if undeclared:
        out["undeclared_parameters"] = undeclared
    return out


def _template(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", request.url.path))


def record(request: Request, action: str, principal: Principal, *, dataset: str, outcome: str = "ok",
           rows: int | None = None, filters: Mapping[str, Any] | None = None,
           detail: Mapping[str, Any] | None = None, recipient: str | None = None) -> None:
    """One audit entry about ``principal`` for this request."""
    audit_log(request).record(action, actor=principal.actor, role=principal.role, dataset=dataset,
                              filters=filters, rows=rows, purpose=principal.purpose, outcome=outcome,
                              recipient=recipient,
                              detail={"method": request.method, "path": _template(request), **(detail or {})})


def deny(request: Request, principal: Principal, status: int, reason: str, message: str,
         dataset: str | None = None) -> HTTPException:
    """Audit a refusal (``authorisation_denied``) and return the HTTPException to raise.

    Refusals of anonymous callers count against their network's allowance (``api/tally.py``): past it this
    minute, the answer is 429 and only counted. The plain case — no credential at all, on a closed route
    (``not_authenticated``), what scanners produce by the thousand — is counted per minute, not written one by
    one; a credential that failed, a CSRF token missing, are still one entry each."""
    headers = {"WWW-Authenticate": 'Bearer realm="observatoire"'} if status == 401 else None
    tally = getattr(request.app.state, "tally", None)
    if principal.via == "anonymous" and tally is not None:
        address = request.client.host if request.client else None
        if wait := tally.limited(address):
            tally.refusal(address, request.method, _template(request), 429, "rate_limited", dataset)
            return HTTPException(status_code=429, detail="too many refused requests from your network; retry later",
                                 headers={"Retry-After": str(wait)})
        plain = reason == "not_authenticated"
        tally.refusal(address, request.method, _template(request), status, reason, dataset, aggregate=plain)
        if plain:
            return HTTPException(status_code=status, detail=message, headers=headers)
    record(request, "authorisation_denied", principal, dataset=dataset or "api", outcome="denied",
           filters=query_filters(request), detail={"status": status, "reason": reason})
    return HTTPException(status_code=status, detail=message, headers=headers)


# -- enforcement --------------------------------------------------------------------------------------
def _authenticate(request: Request) -> tuple[Principal, str | None]:
    """The caller, and why a credential presented was refused (None when none was, or it was good)."""
    auth = request.app.state.auth
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return ANONYMOUS, "token_malformed"
        check = auth.tokens.check(value)
        if check.token is None:
            return ANONYMOUS, f"token_{check.reason}"
        return Principal(role=check.token.role, login=check.token.name, via="token", token_id=check.token.id), None
    cookie = request.cookies.get(COOKIE)
    if cookie:
        session = auth.sessions.get(cookie)
        if session is None:
            return ANONYMOUS, "session_unknown_or_expired"
        return Principal(role=session.role, login=session.login, via="session", session=session), None
    return ANONYMOUS, None


async def _form_field(request: Request, name: str) -> str | None:
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return None
    value = (await request.form()).get(name)
    return value if isinstance(value, str) else None


async def _csrf_refusal(request: Request, req: Requirement, principal: Principal) -> str | None:
    """Why an unsafe request fails its CSRF check (None when it passes or needs none)."""
    if request.method in SAFE_METHODS:
        return None
    sent = request.headers.get(CSRF_HEADER) or await _form_field(request, CSRF_FIELD)
    if req.csrf == "login":
        expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    elif principal.via == "session" and principal.session is not None:
        expected = principal.session.csrf
    else:
        return None                              # a bearer token is not sent by browsers on their own
    if not sent:
        return "csrf_missing"
    if not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
        return "csrf_mismatch"
    return None


def _purpose(request: Request, principal: Principal) -> tuple[str | None, tuple[int, str, str] | None]:
    purposes = request.app.state.auth.config.purposes
    declared = (request.headers.get(PURPOSE_HEADER) or "").strip()
    if not declared:
        return None, (422, "purpose_missing", f"a purpose is required: header {PURPOSE_HEADER}, one of "
                                              f"{', '.join(sorted(purposes))}")
    if declared not in purposes:
        return None, (422, "purpose_unknown", f"unknown purpose; declared purposes: {', '.join(sorted(purposes))}")
    if principal.role not in purposes[declared].roles:
        return None, (403, "purpose_not_open_to_role", f"the purpose {declared} is not open to the role "
                                                       f"{principal.role}")
    return declared, None


async def enforce(request: Request, note: AuditNoteDep) -> AsyncIterator[Principal]:
    """The app-wide dependency: authenticate, authorise, check CSRF and purpose; audit refusals and
    data reads (with what the route wrote on ``note``). Sets ``request.state.principal``."""
    key = (request.method if request.method != "HEAD" else "GET", _template(request))
    req = ACCESS.get(key)
    principal, refused = _authenticate(request)
    if req is None:                              # a route added after create_app: closed by default
        raise deny(request, principal, 403, "undeclared_route", "this route declares no access requirement")
    if refused is not None and (refused.startswith("token") or "public" not in req.roles):
        raise deny(request, principal, 401, refused, "authentication failed: invalid, expired or revoked "
                                                     "credentials", req.dataset)
    if principal.role not in req.roles:
        if principal.via == "anonymous":
            raise deny(request, principal, 401, "not_authenticated", "authentication required", req.dataset)
        raise deny(request, principal, 403, "role_not_allowed", f"the role {principal.role} may not use this route",
                   req.dataset)
    if (why := await _csrf_refusal(request, req, principal)) is not None:
        raise deny(request, principal, 403, why, "missing or invalid CSRF token", req.dataset)
    if req.purpose:
        purpose, problem = _purpose(request, principal)
        if problem is not None:
            raise deny(request, principal, problem[0], problem[1], problem[2], req.dataset)
        principal = Principal(role=principal.role, login=principal.login, via=principal.via, purpose=purpose,
                              token_id=principal.token_id, session=principal.session)
    request.state.principal = principal
    if req.dataset is None:
        yield principal
        return
    try:
        yield principal
    except BaseException as exc:
        record(request, req.action, principal, dataset=req.dataset, outcome="failed", filters=query_filters(request),
               detail={"status": failure_status(exc)}, recipient=note.recipient)
        raise
    tally = getattr(request.app.state, "tally", None)
    if principal.via == "anonymous" and tally is not None:      # the public edge: counted per minute
        tally.read(request.method, _template(request), req.dataset)
        return
    record(request, req.action, principal, dataset=req.dataset, filters=query_filters(request),
           rows=note.rows, detail={"status": 200}, recipient=note.recipient)


def allowed_purposes(request: Request, role: str) -> list[str]:
    """The purposes ``role`` may declare."""
    return sorted(n for n, p in request.app.state.auth.config.purposes.items() if role in p.roles)

