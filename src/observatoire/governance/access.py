"""Who may reach which route, and which fields of a record each role may see: the access policy, as data.

``ACCESS`` declares a :class:`Requirement` for each route of the app, keyed by ``(METHOD, path template)``;
``EVENT_FIELDS`` the fields of an event-level record each role may see. This is policy, not plumbing: the API
enforces it (:mod:`observatoire.api.access`: an app-wide dependency that authenticates, authorises and audits
every request, and refuses to start with a route missing here), and the regulator documents publish it
(:mod:`observatoire.regulator.collect`). See ``docs/access.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from observatoire.auth.roles import ACCOUNT_ROLES, ROLES
from observatoire.errors import InputError


@dataclass(frozen=True, slots=True)
class Requirement:
    """What a route needs.

    Attributes
    ----------
    roles
        Roles allowed (``public`` in it: anonymous callers too).
    purpose
        A declared purpose (header ``X-Purpose``) open to the caller's role is required.
    dataset
        When set, the route reads data: every request is audited as ``consult`` of this dataset.
    csrf
        For unsafe methods: ``"session"`` (the session's synchroniser token, when the caller
        authenticates with the session cookie) or ``"login"`` (the login form's double-submit token).
    action
        How a data route's requests are audited: ``consult`` (read on screen) or ``export`` (records
        handed over; the route names the recipient on its :class:`~observatoire.api.access.AuditNote`).
    """

    roles: frozenset[str]
    purpose: bool = False
    dataset: str | None = None
    csrf: str = "session"
    action: str = "consult"

    def __post_init__(self) -> None:
        unknown = set(self.roles) - set(ROLES)
        if unknown or not self.roles:
            raise InputError(f"a requirement names unknown roles: {sorted(unknown)}")


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


PUBLIC = frozenset(ROLES)                                   # anyone, logged in or not
STAFF = frozenset(ACCOUNT_ROLES)                            # any account or token
ANALYSIS = roles("analyst", "supervisor", "auditor")         # cell-level places, indicators
ALERTS = roles("operator", "supervisor", "auditor")          # real-time alerts
EVENTS = roles("analyst", "supervisor", "dpo", "auditor")    # event-level pseudonymised records
AUDIT = roles("dpo", "auditor")                              # the audit log
MAP = roles("analyst", "operator", "supervisor", "dpo", "auditor")    # exact zone-level figures (staff map)
ADMIN = roles("admin")
ADMIN_READ = roles("admin", "auditor")

ACCESS: dict[tuple[str, str], Requirement] = {
    # pages, documentation, liveness: published
    ("GET", "/"): Requirement(roles=PUBLIC),
    ("GET", "/static"): Requirement(roles=PUBLIC),
    ("GET", "/health"): Requirement(roles=PUBLIC),
    ("GET", "/openapi.json"): Requirement(roles=PUBLIC),
    ("GET", "/docs"): Requirement(roles=PUBLIC),
    ("GET", "/docs/oauth2-redirect"): Requirement(roles=PUBLIC),
    ("GET", "/redoc"): Requirement(roles=PUBLIC),
    # the public edge: releases only (release/, docs/release.md), never the store; every answer audited
    ("GET", "/public"): Requirement(roles=PUBLIC),
    ("GET", "/public/methodologie"): Requirement(roles=PUBLIC),
    ("GET", "/controle/equite"): Requirement(roles=EVENTS),      # its figures come from the audit routes
    ("GET", "/api/v1/public/releases"): Requirement(roles=PUBLIC, dataset="releases"),
    ("GET", "/api/v1/public/releases/{release_id}"): Requirement(roles=PUBLIC, dataset="releases"),
    ("GET", "/api/v1/public/releases/{release_id}/{name}"): Requirement(roles=PUBLIC, dataset="releases"),
    ("GET", "/api/v1/public/ledger"): Requirement(roles=PUBLIC, dataset="releases"),
    ("GET", "/api/v1/public/report"): Requirement(roles=PUBLIC, dataset="releases"),
    # published documents: the rule registry, the regulator documents (configuration, not data)
    ("GET", "/api/v1/rules"): Requirement(roles=PUBLIC),
    # exact zone-level figures and the store's holdings, for staff (the map page)
    ("GET", "/api/v1/meta"): Requirement(roles=MAP, dataset="events"),
    ("GET", "/api/v1/zones"): Requirement(roles=MAP, dataset="events"),
    ("GET", "/api/v1/register"): Requirement(roles=PUBLIC),
    ("GET", "/api/v1/aipd"): Requirement(roles=PUBLIC),
    ("POST", "/api/v1/rules/{rule_id}/versions"): Requirement(roles=roles("analyst", "supervisor")),
    ("POST", "/api/v1/rules/{rule_id}/versions/{version}/approve"): Requirement(roles=roles("supervisor")),
    ("POST", "/api/v1/rules/{rule_id}/versions/{version}/reject"): Requirement(roles=roles("supervisor")),
    # analysis: cell-level places and indicators
    ("GET", "/api/v1/hotspots"): Requirement(roles=ANALYSIS, dataset="events"),
    ("GET", "/api/v1/forecasts"): Requirement(roles=ANALYSIS, dataset="events"),
    ("GET", "/api/v1/indicators"): Requirement(roles=ANALYSIS, dataset="events"),
    ("GET", "/api/v1/dark-figure"): Requirement(roles=ANALYSIS, dataset="events"),
    # real-time alerts, and operators' verdicts on them
    ("GET", "/api/v1/alerts"): Requirement(roles=ALERTS, dataset="events"),
    ("POST", "/api/v1/alerts/{alert_id}/feedback"): Requirement(roles=roles("operator", "supervisor")),
    # effectiveness evaluations: plans registered by a supervisor before a deployment are published (documents,
    # not data); their bound analyses read the store, so they are for staff (the control report carries them)
    ("POST", "/api/v1/evaluations"): Requirement(roles=roles("supervisor")),
    ("GET", "/api/v1/evaluations"): Requirement(roles=PUBLIC),
    ("GET", "/api/v1/evaluations/{plan_id}"): Requirement(roles=PUBLIC),
    ("GET", "/api/v1/evaluations/{plan_id}/analysis"): Requirement(roles=EVENTS, dataset="events"),
    # event-level pseudonymised records: a purpose, fields per role (EVENT_FIELDS)
    ("GET", "/api/v1/events"): Requirement(roles=EVENTS, purpose=True, dataset="events"),
    # handing records over (a data subject's access request, a judicial requisition): the DPO only, to a named
    # recipient, audited as an export
    ("GET", "/api/v1/events/export"): Requirement(roles=roles("dpo"), purpose=True, dataset="events",
                                                  action="export"),
    # the audit log
    ("GET", "/api/v1/audit"): Requirement(roles=AUDIT, dataset="audit"),
    # authentication
    ("GET", "/login"): Requirement(roles=PUBLIC),
    ("POST", "/login"): Requirement(roles=PUBLIC, csrf="login"),
    ("POST", "/logout"): Requirement(roles=STAFF),
    ("GET", "/login/oidc"): Requirement(roles=PUBLIC),
    ("GET", "/login/oidc/callback"): Requirement(roles=PUBLIC),
    ("GET", "/api/v1/me"): Requirement(roles=PUBLIC),
    # API tokens for machines
    ("GET", "/api/v1/tokens"): Requirement(roles=ADMIN_READ),
    ("POST", "/api/v1/tokens"): Requirement(roles=ADMIN),
    ("DELETE", "/api/v1/tokens/{token_id}"): Requirement(roles=ADMIN),
    # audits of places (docs/fairness.md)
    ("GET", "/api/v1/audits/provenance"): Requirement(roles=EVENTS, dataset="events"),
    ("GET", "/api/v1/audits/fairness"): Requirement(roles=EVENTS, dataset="events"),
    ("GET", "/api/v1/audits/feedback-loop"): Requirement(roles=EVENTS, dataset="events"),
    ("GET", "/api/v1/audits/urn"): Requirement(roles=EVENTS),
    ("GET", "/api/v1/audits/stops"): Requirement(roles=EVENTS, dataset="events"),
}

# The fields of an event-level record each role may see (GET /api/v1/events). Analysts never see
# pseudonym tokens nor free text; the DPO does, for data-subject requests.
_BASE = ("event_id", "source", "category", "occurred_at", "time_precision", "reported_at", "zone_id",
         "h3_r8", "h3_r7", "discovery", "attributes", "retention_until")
_PLACE = ("lon", "lat", "location_precision_m", "h3_r9")
_PROVENANCE = ("batch_id", "source_file", "source_row", "ingested_at")
EVENT_FIELDS: Mapping[str, tuple[str, ...]] = {
    "analyst": _BASE + _PLACE,
    "supervisor": _BASE + _PLACE,
    "auditor": _BASE + _PLACE + _PROVENANCE + ("redactions",),
    "dpo": _BASE + _PLACE + _PROVENANCE + ("redactions", "pseudonyms", "text"),
}
