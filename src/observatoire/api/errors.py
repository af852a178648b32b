"""What the API answers when a request fails: one status per kind of failure, a one-line body, a log line.

Every failure is answered for what it is, with ``{"detail": "<one line>"}`` (:class:`ErrorMessage`):

* **422** — the request cannot be used as given: a bad parameter (FastAPI's validation, rewritten as one
  line) or an :class:`~observatoire.errors.InputError` raised on purpose; the message says what to change;
* **401, 403, 404, 405, 429** — raised as HTTP exceptions (the access dependency, a route); a 405 (OPTIONS
  or any method a path does not answer) names in ``Allow`` every method the path answers;
* **503** — the store cannot be read right now: the query engine failed to read its files (an I/O error: files
  replaced under it, a disk error; ``Retry-After: 1``), or the store reports itself inconsistent
  (:class:`~observatoire.errors.StoreError`);
* **500** — anything else is a fault of the server, not of the request nor of the store: a generic message
  that names no value nor file, and one log line (``observatoire.api`` logger, level ERROR) with the route
  template, the method, the exception's type and where it was raised — never the query nor the exception's
  message, which may quote what the caller sent.

:func:`failure_status` says which of these a failure gets, for the audit entry of a failed data request
(:func:`observatoire.api.access.enforce`) as for the answer.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from typing import Any

import duckdb
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from observatoire.errors import InputError, ObservatoireError, StoreError

LOG = logging.getLogger("observatoire.api")

STORE_UNREADABLE = "the store cannot be read"
INTERNAL = "internal error: the server failed to answer this request (a fault of the server, not of the request); " \
           "it was logged for the operators"


class ErrorMessage(BaseModel):
    """Every refusal or failure: one line saying what went wrong (and, for a bad request, what to change)."""

    detail: str = Field(description="One line, in plain words; never a value of a record")


def engine_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` is the query engine failing to read the store's files (to retry), not a fault."""
    return isinstance(exc, (duckdb.IOException, OSError))


def failure_status(exc: BaseException) -> int:
    """The status a request that raised ``exc`` is answered with."""
    if isinstance(exc, HTTPException):
        return exc.status_code
    if isinstance(exc, (InputError, RequestValidationError)):
        return 422
    if isinstance(exc, StoreError) or engine_unavailable(exc):
        return 503
    return 500


def _route(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", "?"))


def input_error(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=422)


# A bound of the parameter's schema (le=, ge=...), said as the documented limit it is.
_BOUNDS = {"less_than_equal": ("le", "must not exceed {}"), "less_than": ("lt", "must be less than {}"),
           "greater_than_equal": ("ge", "must be at least {}"), "greater_than": ("gt", "must be greater than {}")}


def _message(error: Mapping[str, Any]) -> str:
    kind = _BOUNDS.get(str(error.get("type")))
    ctx = error.get("ctx") or {}
    if kind is not None and kind[0] in ctx:
        return kind[1].format(ctx[kind[0]]) + " (the documented limit)"
    return str(error.get("msg", ""))


def validation_error(_: Request, exc: Exception) -> JSONResponse:
    # One line per request, e.g. "invalid parameter start: Field required", instead of Pydantic's list.
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    parts = [f"invalid parameter {'.'.join(str(p) for p in e.get('loc', ())[1:]) or '?'}: {_message(e)}"
             for e in errors]
    return JSONResponse({"detail": "; ".join(parts) or "invalid request"}, status_code=422)


def store_error(request: Request, exc: Exception) -> JSONResponse:
    """A :class:`StoreError` (the store inconsistent): 503 with its message (store messages name no value);
    any other :class:`ObservatoireError` that is not an input error is a fault of the server: 500."""
    if isinstance(exc, StoreError):
        return JSONResponse({"detail": f"{STORE_UNREADABLE}: {exc}"}, status_code=503)
    return internal_error(request, exc)


def engine_error(request: Request, exc: Exception) -> JSONResponse:
    """The query engine failed. Reading the store's files (replaced under it, a disk error): a 503 to retry,
    and never the engine's message (it names files and may quote values). Anything else the engine refuses
    (a query it cannot bind or convert) is a fault of the server: 500."""
    if engine_unavailable(exc):
        return JSONResponse({"detail": f"{STORE_UNREADABLE} right now ({type(exc).__name__}); retry"},
                            status_code=503, headers={"Retry-After": "1"})
    return internal_error(request, exc)


def _log_internal(method: str, route: str, exc: BaseException) -> None:
    frames = traceback.extract_tb(exc.__traceback__)
    where = " < ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(frames[-6:]))
    LOG.error("internal error on %s %s: %s at %s", method, route, type(exc).__name__, where or "?")


def internal_error(request: Request, exc: Exception) -> JSONResponse:
    """500, a generic message; logged with the route and where it was raised, without the query nor the
    exception's message (either may carry what the caller sent)."""
    _log_internal(request.method, _route(request), exc)
    return JSONResponse({"detail": INTERNAL}, status_code=500)


class InternalErrors:
    """ASGI middleware: an exception no handler answered becomes :func:`internal_error`'s 500, and stops there.

    Starlette's own catch-all answers too but then raises the exception again for the server to log, and the
    server's log line carries the exception's message (which may quote the request): here the one line of
    :func:`internal_error` is all that is logged."""

    def __init__(self, app) -> None:  # noqa: ANN001 - an ASGI app
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001 - the ASGI signature
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message) -> None:  # noqa: ANN001
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if started:                     # the answer is on its way: nothing else can be said
                raise
            route = str(getattr(scope.get("route"), "path", "?"))
            _log_internal(scope.get("method", "?"), route, exc)
            await JSONResponse({"detail": INTERNAL}, status_code=500)(scope, receive, send)


def method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
    """405 with ``Allow`` naming every method the path answers (RFC 9110 15.5.6), not only those of the first
    route that matched it (``/login``, ``/api/v1/tokens``... have one route per method)."""
    from starlette.routing import Route

    from observatoire.api.access import app_routes

    path = request.url.path
    allowed = {m for r in app_routes(request.app) if isinstance(r, Route) and r.path_regex.match(path)
               for m in (r.methods or ())}
    headers = dict(getattr(exc, "headers", None) or {})
    if allowed:
        headers["Allow"] = ", ".join(sorted(allowed))
    return JSONResponse({"detail": "Method Not Allowed"}, status_code=405, headers=headers)


def add_error_handlers(app: FastAPI) -> None:
    """Answer every failure for what it is (see the module's docstring)."""
    app.add_exception_handler(InputError, input_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(ObservatoireError, store_error)
    app.add_exception_handler(duckdb.Error, engine_error)
    app.add_exception_handler(OSError, engine_error)
    app.add_exception_handler(405, method_not_allowed)
    app.add_middleware(InternalErrors)
