"""Stop and identity-check records (CSV or JSON Lines export). Format: docs/stops.md.

One record per stop (a vehicle or a person stopped, or an identity check): when, where (coordinates or the
zone code), why (``reason``), who initiated it (``dispatch`` or ``self``), and its outcome: whether the person
or the vehicle was searched, whether the search found something, and what followed (``no_action``,
``warning``, ``citation``, ``arrest``, ``other``). The outcome fields go into the events' attributes; the
stop audits (``/api/v1/audits/stops``, ``audits/stops.py``) read them.

Optional **group columns** (``perceived_origin``, ``age_band``, ``sex``, role ``group``) are read so that the
gate can act on them, and the packaged policy refuses them: a row that carries a value in one is quarantined
(``refused_field``) and nothing of it is stored. A deployment that may lawfully hold one
declares it in its own policies file, with its legal basis (docs/stops.md, "Group columns"): the column is
then kept as a closed vocabulary and the audit may group by it. In France such statistics are mostly
unlawful; the audits then work on area groups alone (the area group of the stop's zone).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from observatoire.gate.checks import fold
from observatoire.sources.base import (DOCS, ROW, Canonical, Context, Processing, RawFile, Retention, Sample,
                                       SourceDescriptor, Vocabulary)
from observatoire.sources.canonical import Rejects, attributes_for, build_events, mask
from observatoire.sources.formats import parse_decimal, parse_iso, parse_local, read_csv, read_jsonl

REASONS = ("traffic", "identity_check", "suspicion", "call_for_service", "warrant", "other")
INITIATED = ("dispatch", "self")
OUTCOMES = ("no_action", "warning", "citation", "arrest", "other")
TRUE = ("true", "1", "yes", "y", "oui", "vrai", "t")
FALSE = ("false", "0", "no", "n", "non", "faux", "f")
# The group columns a stop export may carry. Refused (dropped, never stored) by the packaged policy; a
# deployment declares one lawful in its policies file (keep:vocabulary with its values, and its legal basis
# under [stops.lawful]).
GROUP_COLUMNS = ("perceived_origin", "age_band", "sex")
AGE_BANDS = ("0-17", "18-24", "25-34", "35-49", "50-64", "65+")
SEXES = ("F", "M", "X")
LOCAL_FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")


def _flag(raw: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """A yes/no field: (booleans with nulls where empty, mask of present values that are neither)."""
    out: list[bool | None] = []
    bad = np.zeros(len(raw), dtype=bool)
    for i, v in enumerate(raw.to_pylist()):
        word = fold(v) if v is not None else ""
        if word in TRUE:
            out.append(True)
        elif word in FALSE:
            out.append(False)
        else:
            out.append(None)
            bad[i] = word != ""
    return pa.array(out, pa.bool_()), bad


def _word(raw: pa.Array, allowed: tuple[str, ...]) -> tuple[pa.Array, np.ndarray]:
    """A closed-list field as its canonical spelling (folded), and the mask of present values outside it."""
    canonical = {fold(a): a for a in allowed}
    values = [canonical.get(fold(v)) if v is not None and v.strip() else None for v in raw.to_pylist()]
    bad = np.array([v is not None and v.strip() != "" and c is None for v, c in zip(raw.to_pylist(), values)],
                   dtype=bool)
    return pa.array(values, pa.string()), bad


class Stops:
    name: ClassVar[str] = "stops"
    kind: ClassVar[Literal["events", "reference"]] = "events"
    patterns: ClassVar[tuple[str, ...]] = ("stops*.csv", "stops*.jsonl")
    needs: ClassVar[tuple[str, ...]] = ()
    descriptor: ClassVar[SourceDescriptor] = SourceDescriptor(
        label="Contrôles et interpellations",
        fields={"stop_id": "key", "occurred_at": "data", "longitude": "data", "latitude": "data", "zone": "data",
                "reason": "data", "initiated": "data", "person_searched": "data", "vehicle_searched": "data",
                "found": "data", "outcome": "data", "officer": "identifier",
                "perceived_origin": "group", "age_band": "group", "sex": "group"},
        attributes=pa.struct([
            pa.field("reason", pa.string()),             # traffic | identity_check | suspicion | call_for_service...
            pa.field("initiated", pa.string()),          # dispatch | self
            pa.field("person_searched", pa.bool_()),
            pa.field("vehicle_searched", pa.bool_()),
            pa.field("found", pa.bool_()),               # a search found something (null: no search, or not said)
            pa.field("outcome", pa.string()),            # no_action | warning | citation | arrest | other
            pa.field("perceived_origin", pa.string()),   # group columns: null unless declared lawful
            pa.field("age_band", pa.string()),
            pa.field("sex", pa.string()),
        ]),
        discovery="directed",     # a stop is made where officers are and choose to stop
        retention=Retention(1095),
        processing=Processing(
            label="Contrôles routiers et d'identité, fouilles et leurs suites",
            legal_basis="Code de procédure pénale, art. 78-2 et 78-2-2 ; code de la route, art. L. 233-1 ; "
                        "RGPD art. 6(1)(e) et directive (UE) 2016/680",
            data_subjects=("personnes contrôlées", "agents"),
            recipients=("cellule d'analyse", "DPO", "auditeurs", "comité de contrôle")),
        sample=Sample(DOCS / "samples" / "stops_sample.csv"),
        doc=DOCS / "stops.md",
    )
    vocabularies: ClassVar[Mapping[str, Collection[str] | Vocabulary]] = {
        "reason": Vocabulary(REASONS, "unknown_reason", "reason is not one of " + "/".join(REASONS)),
        "initiated": Vocabulary(INITIATED, "unknown_initiated", "initiated is not dispatch/self"),
        "person_searched": Vocabulary(TRUE + FALSE, "bad_flag", "person_searched is not true/false"),
        "vehicle_searched": Vocabulary(TRUE + FALSE, "bad_flag", "vehicle_searched is not true/false"),
        "found": Vocabulary(TRUE + FALSE, "bad_flag", "found is not true/false"),
        "outcome": Vocabulary(OUTCOMES, "unknown_outcome", "outcome is not one of " + "/".join(OUTCOMES)),
        "age_band": Vocabulary(AGE_BANDS, "unknown_group_value", "age_band is not one of " + "/".join(AGE_BANDS)),
        "sex": Vocabulary(SEXES, "unknown_group_value", "sex is not F/M/X"),
    }
    columns = ("stop_id", "occurred_at", "reason", "initiated", "person_searched", "vehicle_searched", "found",
               "outcome")
    optional = ("longitude", "latitude", "zone", "officer", *GROUP_COLUMNS)
    # JSON Lines: the same names, flat.
    paths = {c: c for c in (*columns, *optional)}

    def read(self, path: Path, timezone: str) -> RawFile:
        if Path(path).name.endswith((".jsonl", ".jsonl.gz")):
            return read_jsonl(path, self.paths)
        return read_csv(path, self.columns, self.optional)

    def canonicalise(self, admitted: pa.RecordBatch, ctx: Context) -> Canonical:
        t = admitted
        n = t.num_rows

        def col(name: str) -> pa.Array:
            return t[name] if name in t.column_names else pa.nulls(n, pa.string())

        rejects = Rejects(t[ROW].to_numpy())
        raw_time = col("occurred_at")
        iso, _ = parse_iso(raw_time)
        local, _ = parse_local(raw_time, ctx.city.timezone, LOCAL_FORMATS)
        occurred = pc.coalesce(iso, local)
        bad_time = mask(pc.and_(pc.is_valid(raw_time), pc.is_null(occurred)))
        lon, bad_lon = parse_decimal(col("longitude"))
        lat, bad_lat = parse_decimal(col("latitude"))
        zone = pc.utf8_trim_whitespace(col("zone"))
        reason, bad_reason = _word(col("reason"), REASONS)
        initiated, bad_initiated = _word(col("initiated"), INITIATED)
        outcome, bad_outcome = _word(col("outcome"), OUTCOMES)
        person, bad_person = _flag(col("person_searched"))
        vehicle, bad_vehicle = _flag(col("vehicle_searched"))
        found, bad_found = _flag(col("found"))
        searched = mask(pc.or_kleene(person, vehicle))
        rejects.reject(mask(pc.is_null(col("stop_id"))), "missing_key", "stop_id is empty")
        rejects.reject(bad_time, "bad_timestamp", "occurred_at is not ISO 8601 with an offset, nor dd/mm/yyyy HH:MM")
        rejects.reject(bad_lon | bad_lat, "bad_coordinates", "longitude/latitude are not numbers")
        has_point = mask(pc.and_(pc.is_valid(lon), pc.is_valid(lat)))
        rejects.reject(~has_point & mask(pc.is_null(zone)), "missing_place",
                       "neither longitude/latitude nor zone is given")
        rejects.reject(bad_reason, "unknown_reason", "reason is not one of " + "/".join(REASONS))
        rejects.reject(bad_initiated, "unknown_initiated", "initiated is not dispatch/self")
        rejects.reject(bad_outcome, "unknown_outcome", "outcome is not one of " + "/".join(OUTCOMES))
        rejects.reject(bad_person | bad_vehicle | bad_found, "bad_flag",
                       "person_searched/vehicle_searched/found are not true/false")
        rejects.reject(mask(pc.is_valid(found)) & mask(found) & ~searched, "found_without_search",
                       "found is true but neither person_searched nor vehicle_searched is")
        groups = {g: pc.utf8_trim_whitespace(col(g)) if g in t.column_names else pa.nulls(n, pa.string())
                  for g in GROUP_COLUMNS}
        attrs = attributes_for(self.name, reason=reason, initiated=initiated, person_searched=person,
                               vehicle_searched=vehicle, found=found, outcome=outcome, **groups)
        events, quarantine = build_events(
            source=self.name, ctx=ctx, rejects=rejects, keys=pc.fill_null(col("stop_id"), "").to_pylist(),
            category="intervention", occurred_at=occurred, time_precision="minute", discovery="directed",
            attributes=attrs, lon=lon, lat=lat, precision_m=25.0,
            zone_id=[z if z else None for z in zone.to_pylist()], admitted=t)
        return Canonical(events, None, quarantine)
