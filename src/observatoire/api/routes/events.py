"""``GET /api/v1/events``: event-level (pseudonymised) records, for a declared purpose, with the
fields the caller's role may see (``governance/access.py: EVENT_FIELDS``); every call is audited."""

from __future__ import annotations

from typing import Annotated, Any

import ibis.expr.types as ir
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from observatoire.analytics.counts import filter_events
from observatoire.api.access import AuditNoteDep, Principal
from observatoire.governance.access import EVENT_FIELDS
from observatoire.api.deps import StoreDep
from observatoire.api.models import EventRecords
from observatoire.api.params import CountFilters, count_filters, split_values
from observatoire.api.routes.cells import check_filter_sources

router = APIRouter(prefix="/api/v1", tags=["events"])
FiltersDep = Annotated[CountFilters, Depends(count_filters)]
MAX_LIMIT = 1000


def select_events(events: ir.Table, filters: CountFilters, zones: tuple[str, ...], *,
                  fields: tuple[str, ...], limit: int) -> list[dict[str, Any]]:
    """Matching events, oldest first, projected on ``fields`` (the store never shows one past its retention)."""
    kept = filter_events(events, start=filters.start, end=filters.end, sources=filters.sources,
                         categories=filters.categories)
    if zones:
        kept = kept.filter(kept.zone_id.isin(list(zones)))
    present = [f for f in fields if f in kept.columns]
    rows: list[dict[str, Any]] = (kept.order_by([kept.occurred_at, kept.event_id]).select(*present)
                                  .limit(limit).to_pyarrow().to_pylist())
    return rows


@router.get("/events")
def events(
    request: Request,
    store: StoreDep,
    note: AuditNoteDep,
    filters: FiltersDep,
    zone: Annotated[list[str] | None, Query(description="Zone id(s), repeated or comma-separated")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Most records returned (oldest first)")] = 100,
) -> EventRecords:
    """Event-level records (header ``X-Purpose`` required), with the fields of the caller's role.

    Analysts and supervisors see what, when and where; auditors also provenance and the
    scrubber's redaction trace; the data-protection officer also pseudonyms and scrubbed text.
    Records past their retention date are never returned.
    """
    principal: Principal = request.state.principal
    check_filter_sources(store, filters)
    zones = split_values(zone)
    fields = EVENT_FIELDS.get(principal.role, ())
    rows = store.query(lambda t: select_events(t, filters, zones, fields=fields, limit=limit + 1))
    truncated = len(rows) > limit
    rows = rows[:limit]
    note.rows = len(rows)
    return EventRecords(purpose=principal.purpose, role=principal.role, fields=list(fields), count=len(rows),
                        truncated=truncated, rows=rows)


EXPORT_LIMIT = 100_000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")      # what a spreadsheet reads as the start of a formula


def _cell(value: object) -> object:
    """A CSV cell: empty for None; a text a spreadsheet would run as a formula is neutralised by a leading
    apostrophe (OWASP's CSV injection rule); numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


@router.get("/events/export", response_class=Response, responses={200: {
    "content": {"text/csv": {"schema": {"type": "string"}}}, "description": "The records, ';'-separated"}})
def export_events(
    request: Request,
    store: StoreDep,
    note: AuditNoteDep,
    filters: FiltersDep,
    recipient: Annotated[str, Query(max_length=64, description="To whom the records are handed: a code of the "
                                                           "configured closed list (auth.toml [recipients])")],
    zone: Annotated[list[str] | None, Query(description="Zone id(s), repeated or comma-separated")] = None,
) -> Response:
    """The matching records as a ``;``-separated CSV file (header ``X-Purpose`` required), for the
    data-protection officer to hand over (a data subject's access request, a judicial requisition).

    Audited as ``export`` with the recipient's code (a closed, configured list: never text typed at the request)
    and the row count. At most 100,000 records: a larger
    request is refused, never cut silently.
    """
    import csv
    import io

    principal: Principal = request.state.principal
    recipients = request.app.state.auth.config.recipients
    if recipient not in recipients:
        from observatoire.errors import InputError

        raise InputError(f"unknown recipient; the configured recipients are: {', '.join(sorted(recipients))}")
    note.recipient = recipient
    check_filter_sources(store, filters)
    zones = split_values(zone)
    fields = EVENT_FIELDS.get(principal.role, ())
    rows = store.query(lambda t: select_events(t, filters, zones, fields=fields, limit=EXPORT_LIMIT + 1))
    if len(rows) > EXPORT_LIMIT:
        from observatoire.errors import InputError

        raise InputError(f"more than {EXPORT_LIMIT:,} records match: narrow the period, zones or sources")
    note.rows = len(rows)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    present = [f for f in fields if not rows or f in rows[0]]
    writer.writerow(present)
    for row in rows:
        writer.writerow([_cell(row.get(f)) for f in present])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="observatoire-export.csv"'})
