"""A release's public files, rendered deterministically from its published numbers.

``release.json`` (the tables, for the API and the portal), ``zones.csv`` and ``city.csv`` (``;``-separated,
UTF-8, one number per line, for spreadsheets) and ``zones.geojson`` (the zones with their boundaries).
Suppressed numbers have no value: their ``affichage`` is ``< k`` (under the threshold) or ``masqué`` (masked
so that another cannot be recovered). Rates per 1,000 residents are computed from the released counts.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from shapely.geometry import mapping

from observatoire.city.profile import CityProfile
from observatoire.event.taxonomy import category
from observatoire.release.config import ReleaseConfig
from observatoire.release.tables import Published


def _labels(config: ReleaseConfig) -> dict[str, str]:
    out = {g.code: g.label_fr for g in config.groups}
    out.update({c: category(c).label_fr for c in config.categories})
    out["total"] = "Total des faits publiés"
    return out


def tables(month: str, published: list[Published], city: CityProfile, config: ReleaseConfig,
           k: int) -> dict[str, Any]:
    """The release's tables as one JSON document."""
    labels = _labels(config)
    zones = {z.zone_id: z for z in city.zones}
    zone_rows: dict[str, dict[str, Any]] = {}
    city_rows = []
    for p in published:
        n = p.number
        cell = {"value": p.value, "shown": p.shown(k), "status": p.status, "margin_95": p.margin}
        if n.table == "zones":
            zone = zones[n.row]
            row = zone_rows.setdefault(n.row, {"zone_id": n.row, "name": zone.name, "short_name": zone.short_name,
                                               "population": zone.population, "values": {}})
            rate = (round(p.value / zone.population * 1000, 2)
                    if p.value is not None and zone.population else None)
            row["values"][n.column] = {**cell, "rate_per_1000": rate,
                                       "rate_margin_95": (round(p.margin / zone.population * 1000, 2)
                                                          if zone.population else None)}
        else:
            city_rows.append({"row": n.row, "column": n.column, "label_fr": labels.get(n.column, n.column), **cell})
    return {
        "month": month,
        "k": k,
        "columns": [{"code": g.code, "label_fr": g.label_fr, "categories": list(g.categories)} for g in config.groups]
                   + [{"code": "total", "label_fr": labels["total"], "categories": list(config.categories)}],
        "zones": [zone_rows[z.zone_id] for z in city.zones],
        "city": city_rows,
        "attribution": city.attribution,
    }


def zones_csv(doc: dict[str, Any]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\n")
    w.writerow(["periode", "zone_id", "zone", "population", "groupe", "libelle", "valeur", "affichage",
                "marge_95", "taux_pour_1000", "statut"])
    labels = {c["code"]: c["label_fr"] for c in doc["columns"]}
    for row in doc["zones"]:
        for code, v in row["values"].items():
            w.writerow([doc["month"], row["zone_id"], row["name"], row["population"], code, labels[code],
                        "" if v["value"] is None else v["value"], v["shown"], v["margin_95"],
                        "" if v["rate_per_1000"] is None else v["rate_per_1000"], v["status"]])
    return out.getvalue().encode("utf-8")


def city_csv(doc: dict[str, Any]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\n")
    w.writerow(["periode", "ligne", "colonne", "libelle", "valeur", "affichage", "marge_95", "statut"])
    for r in doc["city"]:
        w.writerow([doc["month"], r["row"], r["column"], r["label_fr"], "" if r["value"] is None else r["value"],
                    r["shown"], r["margin_95"], r["status"]])
    return out.getvalue().encode("utf-8")


def zones_geojson(doc: dict[str, Any], city: CityProfile) -> bytes:
    geometry = {z.zone_id: z.geometry for z in city.zones}
    features = [{"type": "Feature", "id": row["zone_id"],
                 "properties": {"month": doc["month"], "k": doc["k"], **{k: v for k, v in row.items()}},
                 "geometry": mapping(geometry[row["zone_id"]]) if city.has_boundaries else None}
                for row in doc["zones"]]
    return json.dumps({"type": "FeatureCollection", "features": features,
                       "attribution": doc["attribution"]}, ensure_ascii=False, sort_keys=True).encode("utf-8")


def files(doc: dict[str, Any], city: CityProfile) -> dict[str, bytes]:
    return {"release.json": json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8"),
            "zones.csv": zones_csv(doc), "city.csv": city_csv(doc), "zones.geojson": zones_geojson(doc, city)}
