"""Mains courantes: the municipal police logbook (CSV export). Format: docs/sources.md."""

from __future__ import annotations

from pathlib import Path
from collections.abc import Collection, Mapping
from typing import ClassVar, Literal

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from observatoire.sources.base import (DOCS, ROW, Canonical, Context, Processing, RawFile, Retention, Sample,
                                       SourceDescriptor, Vocabulary)
from observatoire.sources.canonical import mask, Rejects, attributes_for, build_events, zones_of_postcodes
from observatoire.sources.formats import extract_postcode, parse_decimal, parse_local, read_csv, read_jsonl
from observatoire.sources.labels import LABELS_FR, categories_of

DATETIME_FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S")
ORIGIN_DISCOVERY = {"initiative": "directed", "videoprotection": "directed",
                    "appel_usager": "independent", "requisition": "independent"}
POSTCODE = "code_postal"   # derived at read time from the address; the address itself never passes the gate


def _persons(value: str | None) -> str | None:
    """A JSON Lines ``personnes_impliquees`` as the CSV writes it: names separated by ``|``. A list may hold
    names or objects (their text values, in order, make the name: ``{"nom": "X", "prenom": "Y"}`` is "X Y");
    a value that is not a JSON list stays one name. The names go on to the gate, which pseudonymises them."""
    if not value or not value.startswith("["):
        return value
    try:
        items = orjson.loads(value)
    except orjson.JSONDecodeError:
        return value
    if not isinstance(items, list):
        return value
    names = []
    for item in items:
        if isinstance(item, dict):
            item = " ".join(str(v) for v in item.values() if isinstance(v, (str, int, float)) and str(v).strip())
        names.append(str(item).replace("|", " ").strip())
    return "|".join(n for n in names if n) or None


class MainsCourantes:
    name: ClassVar[str] = "mains_courantes"
    kind: ClassVar[Literal["events", "reference"]] = "events"
    patterns: ClassVar[tuple[str, ...]] = ("mains_courantes*.csv", "mains_courantes*.jsonl")
    needs: ClassVar[tuple[str, ...]] = ()
    descriptor: ClassVar[SourceDescriptor] = SourceDescriptor(
        label="Mains courantes (police municipale)",
        fields={"numero": "key", "date_heure": "data", "date_saisie": "data", "adresse": "free_text",
                "longitude": "data", "latitude": "data", "categorie": "data", "origine": "data", "recit": "free_text",
                "agent": "identifier", "personnes_impliquees": "identifier",
                POSTCODE: "data", "nb_personnes": "data"},            # derived at read time
        attributes=pa.struct([
            pa.field("logbook_ref", pa.string()),        # the logbook's own entry number (its keyed digest)
            pa.field("logbook_category", pa.string()),   # the category as the logbook names it (French)
            pa.field("persons_involved", pa.int16()),    # how many persons the entry names (never who)
        ]),
        discovery="mixed",        # initiative and videoprotection are directed; residents' calls are not
        retention=Retention(1825),   # the municipal police's usual five years
        processing=Processing(
            label="Main courante de la police municipale",
            legal_basis="Code de la sécurité intérieure, art. L. 511-1 ; RGPD art. 6(1)(e) ; directive (UE) 2016/680 "
                        "pour les faits susceptibles de poursuites",
            data_subjects=("personnes impliquées dans un fait", "agents"),
            recipients=("cellule d'analyse", "superviseur du CSU", "DPO", "auditeurs")),
        sample=Sample(DOCS / "samples" / "mains_courantes_sample.csv"),
        doc=DOCS / "sources.md",
    )
    vocabularies: ClassVar[Mapping[str, Collection[str] | Vocabulary]] = {
        "categorie": Vocabulary(tuple(LABELS_FR), "unknown_category", "categorie is not a known logbook label"),
        "origine": Vocabulary(tuple(ORIGIN_DISCOVERY), "unknown_origin",
                              "origine is not one of " + "/".join(ORIGIN_DISCOVERY))}
    columns = ("numero", "date_heure", "adresse", "longitude", "latitude", "categorie", "origine", "recit")
    optional = ("date_saisie", "agent", "personnes_impliquees")

    def read(self, path: Path, timezone: str) -> RawFile:
        if path.suffix == ".jsonl":  # the same fields, one object per line; persons may be a JSON list
            raw = read_jsonl(path, {c: c for c in self.columns + self.optional})
            persons = [_persons(v) for v in raw.table["personnes_impliquees"].to_pylist()]
            i = raw.table.schema.get_field_index("personnes_impliquees")
            raw = RawFile(raw.table.set_column(i, "personnes_impliquees", pa.array(persons, pa.string())),
                          raw.malformed_rows)
        else:
            raw = read_csv(path, self.columns, self.optional)
        table = raw.table.append_column(POSTCODE, extract_postcode(raw.table["adresse"]))
        persons = pc.list_value_length(pc.split_pattern(pc.fill_null(raw.table["personnes_impliquees"], ""), "|"))
        named = pc.if_else(pc.is_null(raw.table["personnes_impliquees"]), 0, persons)
        # A count of persons is data; their names are identifiers and stop at the gate.
        table = table.append_column("nb_personnes", named.cast(pa.int16()))
        return RawFile(table, raw.malformed_rows)

    def canonicalise(self, admitted: pa.RecordBatch, ctx: Context) -> Canonical:
        t = admitted
        rejects = Rejects(t[ROW].to_numpy())
        occurred, bad_time = parse_local(t["date_heure"], ctx.city.timezone, DATETIME_FORMATS)
        # A record is written after the facts: in the repeated autumn hour, read its time as the later instant.
        reported, bad_report = parse_local(t["date_saisie"], ctx.city.timezone, DATETIME_FORMATS, ambiguous="latest")
        lon, bad_lon = parse_decimal(t["longitude"])
        lat, bad_lat = parse_decimal(t["latitude"])
        category = categories_of(t["categorie"])
        origin = np.asarray(pc.fill_null(t["origine"], "").to_pylist(), dtype=object)
        discovery = np.array([ORIGIN_DISCOVERY.get(o.strip().lower(), None) for o in origin], dtype=object)
        rejects.reject(bad_time, "bad_timestamp", "date_heure is not dd/mm/yyyy HH:MM")
        rejects.reject(bad_report, "bad_timestamp", "date_saisie is not dd/mm/yyyy HH:MM")
        rejects.reject(bad_lon | bad_lat, "bad_coordinates", "longitude/latitude are not numbers")
        rejects.reject(category == None, "unknown_category", "categorie is not a known logbook label")  # noqa: E711
        rejects.reject(discovery == None, "unknown_origin", "origine is not one of " + "/".join(ORIGIN_DISCOVERY))  # noqa: E711
        rejects.reject(mask(pc.is_null(t["numero"])),
                       "missing_key", "numero is empty")
        zone = zones_of_postcodes(ctx, t[POSTCODE])
        attrs = attributes_for(self.name, logbook_ref=t["numero"], logbook_category=t["categorie"],
                               persons_involved=t["nb_personnes"])
        events, quarantine = build_events(
            source=self.name, ctx=ctx, rejects=rejects, keys=pc.fill_null(t["numero"], "").to_pylist(),
            category=category, occurred_at=occurred, time_precision="minute", discovery=discovery,
            attributes=attrs, reported_at=reported, lon=lon, lat=lat, precision_m=25.0, zone_id=zone,
            admitted=t, text=t["recit"],
        )
        return Canonical(events, None, quarantine)
