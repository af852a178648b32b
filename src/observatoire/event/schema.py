"""The canonical event as an Arrow schema, and its validation on write.

Every source is turned into rows of this one schema before it reaches the
store. Field by field:

``event_id``            stable id, ``<source>:<24 hex>``, derived from the source's own record key,
                        so re-ingesting a record gives the same id.
``source``              registered source name.
``category``            code from :mod:`observatoire.event.taxonomy`.
``occurred_at``         when it happened, UTC; ``time_precision`` says how much of it is known
                        (``second``, ``minute``, ``hour``, ``day`` or ``month``; a coarser value is
                        truncated to the start of its period).
``reported_at``         when it was recorded by the source, UTC (null when the source does not say).
``lon``, ``lat``        WGS84 point, null when only a zone is known; ``location_precision_m`` is the
                        radius within which the true place lies (null when no point).
``zone_id``             zone of the city profile, assigned at ingest (from the point, or given by the
                        source); null when the place is unknown or outside the city.
``h3_r9/r8/r7``         H3 cells of the point at resolution 9 (~0.1 km²) and its parents; null without
                        a point.
``discovery``           how the incident came to be known: ``directed`` (found by patrols or cameras the
                        institutions directed), ``independent`` (citizen call, hospital, passer-by),
                        ``automated`` (a detector) or ``unknown``.
``attributes``          one typed struct per registered event source, null for the others; each source
                        declares its own on its connector (``sources/base.py``: ``SourceDescriptor``).
``pseudonyms``          keyed pseudonyms only (``<key id>:<24 hex>``) with their role; never a raw value.
``text``                free text after the privacy gate scrubbed it of personal data (null if none).
``redactions``          the scrubber's decision trace for ``text``: field, entity type, detector, reason
                        (never the redacted value).
``batch_id``, ``source_file``, ``source_row``  provenance: which ingest batch, file and row (1-based data row).
``ingested_at``         when the batch was committed, UTC.
``retention_until``     the date after which the row must no longer be kept.
``month``               ``YYYY-MM`` of ``occurred_at`` (UTC), the store's partition key.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from observatoire.errors import SchemaError
from observatoire.event.taxonomy import codes

if TYPE_CHECKING:
    from observatoire.sources.registry import Registry

TIME_PRECISIONS = ("second", "minute", "hour", "day", "month")
DISCOVERY = ("directed", "independent", "automated", "unknown")
PSEUDONYM_PATTERN = r"^[a-z0-9_-]{1,16}:[0-9a-f]{24}$"
# A source name: it prefixes the event ids and names a store partition (sources/registry.py refuses any other name
# when the registry loads, so that no registered source can make ids this schema refuses).
SOURCE_NAME_PATTERN = r"[a-z][a-z0-9_]{0,47}"
EVENT_ID_PATTERN = rf"^{SOURCE_NAME_PATTERN}:[0-9a-f]{{24}}$"

UTC = pa.timestamp("us", tz="UTC")

PSEUDONYMS_TYPE = pa.list_(pa.struct([
    pa.field("role", pa.string(), nullable=False),
    pa.field("token", pa.string(), nullable=False),
]))
REDACTIONS_TYPE = pa.list_(pa.struct([
    pa.field("field", pa.string(), nullable=False),
    pa.field("entity", pa.string(), nullable=False),
    pa.field("detector", pa.string(), nullable=False),
    pa.field("reason", pa.string(), nullable=False),
]))


def event_schema(attributes: Mapping[str, pa.StructType]) -> pa.Schema:
    """The canonical event schema whose ``attributes`` struct has one field per source of ``attributes``, in
    its order (the order stores hold: packaged sources first, then plug-ins by name)."""
    return pa.schema([
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("category", pa.string(), nullable=False),
        pa.field("occurred_at", UTC, nullable=False),
        pa.field("time_precision", pa.string(), nullable=False),
        pa.field("reported_at", UTC),
        pa.field("lon", pa.float64()),
        pa.field("lat", pa.float64()),
        pa.field("location_precision_m", pa.float32()),
        pa.field("zone_id", pa.string()),
        pa.field("h3_r9", pa.int64()),
        pa.field("h3_r8", pa.int64()),
        pa.field("h3_r7", pa.int64()),
        pa.field("discovery", pa.string(), nullable=False),
        pa.field("attributes", pa.struct([pa.field(k, v) for k, v in attributes.items()])),
        pa.field("pseudonyms", PSEUDONYMS_TYPE),
        pa.field("text", pa.string()),
        pa.field("redactions", REDACTIONS_TYPE),
        pa.field("batch_id", pa.string(), nullable=False),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("source_row", pa.int64(), nullable=False),
        pa.field("ingested_at", UTC, nullable=False),
        pa.field("retention_until", pa.date32(), nullable=False),
        pa.field("month", pa.string(), nullable=False),
    ])


_lock = threading.Lock()
_schemas: dict[int, tuple[Registry, pa.Schema]] = {}


def registered_schema() -> pa.Schema:
    """The event schema of the registered sources (packaged and plug-ins): what is validated and written."""
    from observatoire.sources.registry import registered

    registry = registered()
    with _lock:
        hit = _schemas.get(id(registry))
        if hit is not None and hit[0] is registry:
            return hit[1]
        schema = event_schema(registry.attributes())
        _schemas.clear()
        _schemas[id(registry)] = (registry, schema)
        return schema


class _RegisteredAttributes(Mapping[str, pa.StructType]):
    """Source name -> typed attribute struct, for every registered event source, read from the registry on first
    use (never at import time). Iterating it lists the event sources."""

    def _data(self) -> Mapping[str, pa.StructType]:
        from observatoire.sources.registry import registered

        return registered().attributes()

    def __getitem__(self, source: str) -> pa.StructType:
        return self._data()[source]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())

    def __repr__(self) -> str:
        return f"ATTRIBUTES({dict(self._data())!r})"


# Source-specific attributes of the registered event sources; a source declares its struct on its connector.
ATTRIBUTES: Mapping[str, pa.StructType] = _RegisteredAttributes()


def __getattr__(name: str) -> pa.Schema:
    """``EVENT_SCHEMA``: the event schema of the packaged sources, built on first use from their connectors (which
    import this module, hence not at its own import; no file is read). Code that reads the schema when it is
    imported gets this one; what is validated and written is :func:`registered_schema`, which adds the plug-ins'
    attributes (a table built with ``EVENT_SCHEMA`` casts to it: struct fields are matched by name)."""
    if name == "EVENT_SCHEMA":
        from observatoire.sources.registry import builtin_sources

        schema = event_schema({n: s.descriptor.attributes for n, s in builtin_sources().items() if s.kind == "events"})
        globals()["EVENT_SCHEMA"] = schema
        return schema
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def month_of(occurred_at: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``YYYY-MM`` (UTC) of each timestamp; null where the timestamp is null.

    Computed in NumPy: Arrow's ``strftime`` consults the time-zone database per value.
    """
    arr = occurred_at.combine_chunks() if isinstance(occurred_at, pa.ChunkedArray) else occurred_at
    micros = np.asarray(arr.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False), dtype="datetime64[us]")
    months = micros.astype("datetime64[M]")
    uniq, inverse = np.unique(months, return_inverse=True)
    labels = pa.array(np.datetime_as_string(uniq, unit="M"), pa.string())
    return labels.take(pa.array(inverse.ravel(), pa.int64(), mask=np.asarray(arr.is_null().to_numpy(
        zero_copy_only=False), dtype=bool)))


def _fail(message: str) -> None:
    raise SchemaError(f"canonical event schema: {message}")


def _all(mask: pa.Array | pa.ChunkedArray) -> bool:
    return bool(pc.all(mask).as_py() in (True, None))


def validate_events(table: pa.Table, zone_ids: frozenset[str] | None = None) -> pa.Table:
    """Check ``table`` against the canonical schema of the registered sources (:func:`registered_schema`) and its
    invariants; return it cast exactly.

    Raises :class:`SchemaError` naming the first broken rule (never a value).
    """
    schema = registered_schema()
    if table.schema.names != schema.names:
        _fail(f"columns {table.schema.names} differ from {schema.names}")
    given = table.schema.field("attributes").type
    if isinstance(given, pa.StructType):
        unknown = [n for n in given.names if n not in schema.field("attributes").type.names]
        if unknown:  # a cast would drop them without a word
            _fail(f"attributes of unregistered source(s) {', '.join(sorted(unknown))}")
    try:
        table = table.cast(schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        _fail(f"types do not match ({type(exc).__name__})")
    for f in schema:
        if not f.nullable and table.column(f.name).null_count:
            _fail(f"column {f.name!r} has nulls")
    if table.num_rows == 0:
        return table
    checks = {
        "category is not in the taxonomy": pc.is_in(table["category"], pa.array(codes())),
        "time_precision is not one of " + "/".join(TIME_PRECISIONS):
            pc.is_in(table["time_precision"], pa.array(TIME_PRECISIONS)),
        "discovery is not one of " + "/".join(DISCOVERY): pc.is_in(table["discovery"], pa.array(DISCOVERY)),
        "event_id is not <source>:<24 hex>": pc.match_substring_regex(table["event_id"], EVENT_ID_PATTERN),
        "month differs from occurred_at": pc.equal(table["month"], month_of(table["occurred_at"])),
        "lon and lat must be both present or both null":
            pc.equal(pc.is_null(table["lon"]), pc.is_null(table["lat"])),
        "a point needs a location precision and a precision needs a point":
            pc.equal(pc.is_null(table["lon"]), pc.is_null(table["location_precision_m"])),
        "lon outside [-180, 180]": pc.fill_null(pc.less_equal(pc.abs(table["lon"]), 180.0), True),
        "lat outside [-90, 90]": pc.fill_null(pc.less_equal(pc.abs(table["lat"]), 90.0), True),
        "reported_at precedes occurred_at":
            pc.fill_null(pc.greater_equal(table["reported_at"], table["occurred_at"]), True),
    }
    for reason, mask in checks.items():
        if not _all(mask):
            _fail(reason)
    ids = table["event_id"]
    if pc.count_distinct(ids).as_py() != len(ids):
        _fail("event_id is not unique within the batch")
    if not _all(pc.equal(pc.list_element(pc.split_pattern(ids, ":", max_splits=1), 0), table["source"])):
        _fail("event_id does not start with its source")
    tokens = pc.list_flatten(table["pseudonyms"])
    if len(tokens) and not _all(pc.match_substring_regex(pc.struct_field(tokens, "token"), PSEUDONYM_PATTERN)):
        _fail("a pseudonym is not a keyed token <key id>:<24 hex> (raw identifiers are refused)")
    if zone_ids is not None:
        known = pc.or_(pc.is_null(table["zone_id"]), pc.is_in(table["zone_id"], pa.array(sorted(zone_ids))))
        if not _all(known):
            _fail("zone_id is not a zone of the city profile")
    return table


# A refused row: where it came from and why, never its content.
QUARANTINE_SCHEMA = pa.schema([
    pa.field("batch_id", pa.string(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("source_file", pa.string(), nullable=False),
    pa.field("source_row", pa.int64(), nullable=False),
    pa.field("reason", pa.string(), nullable=False),     # machine-readable code, e.g. bad_timestamp
    pa.field("detail", pa.string(), nullable=False),     # which field and rule; never the value
    pa.field("quarantined_at", UTC, nullable=False),
])
