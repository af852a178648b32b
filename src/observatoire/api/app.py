"""The application factory: settings in, a FastAPI app out; nothing happens at import time.

Run it with uvicorn's factory mode (settings from ``OBSERVATOIRE_*`` variables)::

    uvicorn --factory observatoire.api.app:app_from_env --port 8000
"""

from __future__ import annotations

import logging
from collections import OrderedDict

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from observatoire.analytics.forecast.registry import load_forecasters
from observatoire.analytics.forecast.service import ForecastService
from observatoire.api.access import check_routes, enforce
from observatoire.api.deps import GridCache, StoreReader
from observatoire.api.errors import add_error_handlers
from observatoire.api.openapi import document_responses
from observatoire.api.tally import Tally
from observatoire.api.routes import (alerts, audit, audits, auth, evaluations, events, forecasts, health, hotspots,
                                    indicators, meta, pages, public, regulator, rules, zones)
from observatoire.auth.service import Auth
from observatoire.api.routes.pages import static_dir
from observatoire.settings import Settings
from observatoire.store.cache import CachingReadStore


def create_app(settings: Settings) -> FastAPI:
    """Build the app: load the city profile, open the store, mount the routes and the page.

    Parameters
    ----------
    settings
        Where the store and the city profile are.

    Returns
    -------
    fastapi.FastAPI
        An app whose routes read ``app.state.city`` (the :class:`CityProfile`) and
        ``app.state.store`` (a :class:`StoreReader`) through ``CityDep``/``StoreDep``. Every route
        passes :func:`observatoire.api.access.enforce` (``app.state.auth``, ``app.state.audit``).

    Raises
    ------
    InputError
        When a route has no requirement in :data:`observatoire.api.access.ACCESS`.
    """
    city = settings.city()
    store = settings.store(city)
    app = FastAPI(
        title="Observatoire",
        summary=f"Counts, hotspots and place-based forecasts of public-safety events in {city.name}",
        version="1",
        dependencies=[Depends(enforce)],
    )
    app.state.settings = settings
    app.state.city = city
    app.state.store = StoreReader(CachingReadStore(store, clock=settings.clock))   # answers kept per store state
    app.state.grids = GridCache(city)
    app.state.forecasts = ForecastService(load_forecasters())   # plug-ins loaded, or refused, at start-up
    app.state.auth = Auth.from_settings(settings)
    app.state.audit = settings.audit_log()          # its signing key, pinned keys and witness (docs/audit.md)
    app.state.tally = Tally(app.state.audit, settings.clock,      # anonymous traffic, counted per minute
                            counters=app.state.auth.counters)
    app.router.add_event_handler("shutdown", app.state.tally.flush)
    app.state.releases = settings.releases()
    app.state.release_config = settings.release_config()
    app.state.audit_config = settings.audit_config()      # the deployment's area groups (OBSERVATOIRE_AUDITS)
    app.state.public_reports = OrderedDict()              # the public control reports built today (routes/public.py)
    add_error_handlers(app)                               # api/errors.py: each failure for what it is
    # The public edge first: routes are matched in order, and the public map is what the most callers ask for
    # (every router's prefix is its own, so the order changes no match).
    for router in (public.router, health.router, meta.router, zones.router, hotspots.router, forecasts.router,
                   indicators.router, alerts.router, rules.router, events.router, audit.router, audits.router,
                   evaluations.router, regulator.router, auth.router, pages.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=static_dir()), name="static")
    app.add_middleware(SecurityHeaders)
    check_routes(app)
    document_responses(app)                               # api/openapi.py: the refusals each route may answer
    return app


# Every answer: no inline or foreign script, no framing, no sniffing, no referrer (a URL can carry a zone or a
# period an analyst looked at). Inline *styles* stay allowed: the legends colour their swatches with them.
SECURITY_HEADERS = (
    (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                                 b"img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
                                 b"base-uri 'self'; form-action 'self'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
PUBLIC_PREFIXES = ("/api/v1/public/", "/public", "/static/")


class SecurityHeaders:
    """ASGI middleware: the security headers on every response, and ``Cache-Control: no-store`` on every
    answer but the public edge and static files (event-level, restricted and session pages must not sit in a
    shared cache or the browser's), unless the route set its own."""

    def __init__(self, app) -> None:  # noqa: ANN001 - an ASGI app
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001 - the ASGI signature
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        public = str(scope.get("path", "")).startswith(PUBLIC_PREFIXES)

        async def with_headers(message) -> None:  # noqa: ANN001
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"public, max-age=300" if public else b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class NoQueryStrings(logging.Filter):
    """Drops the query string from uvicorn's access-log lines (``client - "GET /path?query HTTP/1.1" 200``): what
    callers type in a query never reaches the server's log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) == 5:
            args = list(record.args)
            args[2] = str(args[2]).split("?", 1)[0]
            record.args = tuple(args)
        return True


def app_from_env() -> FastAPI:
    """The app with :meth:`Settings.from_env` (for ``uvicorn --factory``)."""
    return create_app(Settings.from_env())
