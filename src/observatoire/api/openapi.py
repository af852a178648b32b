"""The OpenAPI document says what each route may answer besides its result, from the access policy.

FastAPI documents a route's result and, for a route with parameters, a 422 in Pydantic's shape (a list of
errors); this app answers every refusal and failure as one line, ``{"detail": "..."}``
(:class:`~observatoire.api.errors.ErrorMessage`). :func:`document_responses` makes the document say so, and
adds to each operation the refusals the access dependency may give it
(:data:`observatoire.governance.access.ACCESS`):

* **401** on every route: credentials presented and refused (a bad token, an expired session), or none on a
  route that is not public;
* **403** where a role may be refused (a route not open to every role), an unsafe method checks its CSRF
  token, or a purpose must be open to the role;
* **422** where a parameter, a body or a declared purpose (header ``X-Purpose``) is checked;
* **429** on every route: an anonymous network refused too often this minute (``api/tally.py``);
* **503** on every route that reads the store (``Retry-After``: the engine could not read its files).

A route that answers **404** for an unknown resource of its path declares it itself (``responses=`` on its
decorator, :data:`NOT_FOUND`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from observatoire.api.errors import ErrorMessage
from observatoire.governance.access import ACCESS, PUBLIC

SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
ERROR_REF = {"$ref": "#/components/schemas/ErrorMessage"}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorMessage, "description": "No such resource"}}

DESCRIPTIONS = {
    "401": "Authentication failed (credentials refused), or required on a route that is not public",
    "403": "The caller's role may not use this route, the CSRF token is missing or wrong, or the purpose "
           "declared is not open to the role",
    "422": "A parameter, the body or the declared purpose cannot be used as given (one line says which and why)",
    "429": "Too many refused requests from this network this minute; retry after Retry-After seconds",
    "503": "The store cannot be read right now; retry after Retry-After seconds",
}


def _reads_store(route: APIRoute) -> bool:
    from observatoire.api.deps import get_store

    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        if dependant.call is get_store:
            return True
        stack.extend(dependant.dependencies)
    return False


def _has_input(route: APIRoute) -> bool:
    d = route.dependant
    stack, found = [d], False
    while stack and not found:
        dependant = stack.pop()
        found = bool(dependant.query_params or dependant.path_params or dependant.header_params
                     or dependant.body_params or dependant.cookie_params)
        stack.extend(dependant.dependencies)
    return found or route.body_field is not None


def refusals(method: str, route: APIRoute) -> list[str]:
    """The statuses (as the document's keys) the access dependency and the app may answer ``method route``."""
    req = ACCESS.get((method, route.path))
    out = ["401", "429"]
    if req is None or req.roles != PUBLIC or method not in SAFE or req.purpose:
        out.append("403")
    if _has_input(route) or (req is not None and req.purpose):
        out.append("422")
    if _reads_store(route):
        out.append("503")
    return sorted(out)


def amend(schema: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    """Document each operation's refusals and failures as :class:`ErrorMessage` (in place; returned)."""
    from observatoire.api.access import app_routes

    routes = {(m, r.path): r for r in app_routes(app) if isinstance(r, APIRoute) for m in r.methods}
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorMessage"] = ErrorMessage.model_json_schema()
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            route = routes.get((method.upper(), path))
            if route is None:
                continue
            responses = operation.setdefault("responses", {})
            for status in refusals(method.upper(), route):
                responses[status] = {"description": DESCRIPTIONS[status],
                                     "content": {"application/json": {"schema": ERROR_REF}}}
            for status, answer in responses.items():            # 404 and the like, declared by the route
                if status.startswith(("4", "5")):
                    answer["content"] = {"application/json": {"schema": ERROR_REF}}
            if "503" in responses:
                responses["503"]["headers"] = {"Retry-After": {"schema": {"type": "integer"},
                                                               "description": "Seconds to wait"}}
            if "429" in responses:
                responses["429"]["headers"] = {"Retry-After": {"schema": {"type": "integer"},
                                                               "description": "Seconds to wait"}}
    used = str(schema.get("paths"))
    for name in ("HTTPValidationError", "ValidationError"):
        if f"#/components/schemas/{name}'" not in used:
            schemas.pop(name, None)
    return schema


def document_responses(app: FastAPI) -> None:
    """Make ``app.openapi()`` document every route's refusals and failures (see the module's docstring)."""
    original: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = amend(original(), app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
