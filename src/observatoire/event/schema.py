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
``attributes``          one typed struct per source, null for the others (see ``ATTRIBUTES``).
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


import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from observatoire.errors import SchemaError
from observatoire.event.taxonomy import codes

TIME_PRECISIONS = ("second", "minute", "hour", "day", "month")
DISCOVERY = ("directed", "independent", "automated", "unknown")
PSEUDONYM_PATTERN = r"^[a-z0-9_-]{1,16}:[0-9a-f]{24}$"
EVENT_ID_PATTERN = r"^[a-z_]+:[0-9a-f]{24}$"

UTC = pa.timestamp("us", tz="UTC")

# Source-specific attributes: typed, one struct per source. A new source adds its struct here.
ATTRIBUTES: dict[str, pa.StructType] = {
    "mains_courantes": pa.struct([
        pa.field("logbook_ref", pa.string()),        # the logbook's own entry number
        pa.field("logbook_category", pa.string()),   # the category as the logbook names it (French)
        pa.field("persons_involved", pa.int16()),    # how many persons the entry names (never who)
    ]),
    "verbalisations": pa.struct([
        pa.field("natinf", pa.int32()),              # NATINF offence code
        pa.field("amount_eur", pa.float64()),        # fine amount in euros
    ]),
    "municipal_reports": pa.struct([
        pa.field("report_type", pa.string()),        # intervention | operator_report
        pa.field("nature", pa.string()),             # the report's own type label (French)
    ]),
    "cctv_events": pa.struct([
        pa.field("camera_id", pa.string()),          # camera of the registry (infrastructure, not a person)
        pa.field("confidence", pa.float32()),        # detector confidence in [0, 1]
    ]),
    "hospital": pa.struct([
        pa.field("weapon", pa.string()),             # none | blunt | sharp | firearm | other | unknown
        pa.field("age_band", pa.string()),           # 0-17 | 18-24 | 25-34 | 35-49 | 50-64 | 65+
        pa.field("sex", pa.string()),                # F | M | X (as recorded by the hospital)
    ]),
    "social_media": pa.struct([
        pa.field("lang", pa.string()),               # ISO 639-1 language of the post
        pa.field("geotagged", pa.bool_()),           # whether the place came from a geotag
        pa.field("place_from", pa.string()),         # geotag | gazetteer (a quartier named in the text) | null
        pa.field("topics", pa.list_(pa.string())),   # public-order topics (sources/social_topics.py)
    ]),
    "police_uk": pa.struct([
        pa.field("crime_id", pa.string()),           # police.uk's public record id (null for anti-social behaviour)
        pa.field("crime_type", pa.string()),         # the crime type as police.uk names it
        pa.field("last_outcome", pa.string()),       # last outcome category when the file was published
        pa.field("reported_by", pa.string()),        # force that reported the record
        pa.field("falls_within", pa.string()),       # force whose area the record falls within
    ]),
    "planned_events": pa.struct([
        pa.field("name", pa.string()),               # public name of the event
        pa.field("event_type", pa.string()),         # match | concert | festival | demonstration | market
        pa.field("venue", pa.string()),
        pa.field("expected_attendance", pa.int32()),
        pa.field("ends_at", UTC),
    ]),
}

EVENT_SCHEMA = pa.schema([
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
    pa.field("attributes", pa.struct([pa.field(k, v) for k, v in ATTRIBUTES.items()])),
    pa.field("pseudonyms", pa.list_(pa.struct([
        pa.field("role", pa.string(), nullable=False),
        pa.field("token", pa.string(), nullable=False),
    ]))),
    pa.field("text", pa.string()),
    pa.field("redactions", pa.list_(pa.struct([
        pa.field("field", pa.string(), nullable=False),
        pa.field("entity", pa.string(), nullable=False),
        pa.field("detector", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
    ]))),
    pa.field("batch_id", pa.string(), nullable=False),
    pa.field("source_file", pa.string(), nullable=False),
    pa.field("source_row", pa.int64(), nullable=False),
    pa.field("ingested_at", UTC, nullable=False),
    pa.field("retention_until", pa.date32(), nullable=False),
    pa.field("month", pa.string(), nullable=False),
])


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
    """Check ``table`` against the canonical schema and its invariants; return it cast exactly.

    Raises :class:`SchemaError` naming the first broken rule (never a value).
    """
    if table.schema.names != EVENT_SCHEMA.names:
        _fail(f"columns {table.schema.names} differ from {EVENT_SCHEMA.names}")
    try:
        table = table.cast(EVENT_SCHEMA)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        _fail(f"types do not match ({type(exc).__name__})")
    for f in EVENT_SCHEMA:
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
