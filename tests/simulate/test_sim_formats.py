"""Every export parses with exactly the columns, formats and vocabularies of docs/sources.md."""

from __future__ import annotations

import re

import numpy as np
import pyarrow.compute as pc
import pytest

from observatoire.city.geo import assign_zones
from observatoire.city.profile import CityProfile
from observatoire.event.taxonomy import category
from observatoire.simulate.vocab import FRENCH_LABELS, check_vocabularies
from observatoire.sources.natinf import NATINF
from sim_helpers import french_float, read_csv, read_jsonl

COLUMNS = {
    "mains_courantes": ["numero", "date_heure", "date_saisie", "adresse", "longitude", "latitude", "categorie",
                        "origine", "recit", "agent", "personnes_impliquees"],
    "verbalisations": ["numero_avis", "date_infraction", "heure_infraction", "natinf", "libelle_infraction", "lieu",
                       "longitude", "latitude", "immatriculation", "montant_eur", "matricule_agent"],
    "cctv_cameras": ["camera_id", "longitude", "latitude", "proprietaire", "orientation_deg", "angle_champ_deg",
                     "portee_m", "mise_en_service"],
    "hospital": ["date_agression", "heure_agression", "code_insee_lieu", "categorie_arme", "tranche_age", "sexe",
                 "date_admission", "heure_admission"],
    "planned_events": ["id", "nom", "type", "lieu", "longitude", "latitude", "debut", "fin", "affluence_attendue"],
    "patrols": ["date", "creneau", "code_insee", "effectif", "heures_patrouille"],
    "stops": ["stop_id", "occurred_at", "zone", "reason", "initiated", "person_searched", "vehicle_searched", "found",
              "outcome"],
}
JSON_KEYS = {
    "municipal_reports": ["id", "type", "horodatage", "lon", "lat", "nature", "note", "agent"],
    "cctv_events": ["event_id", "camera_id", "detected_at", "type", "confidence"],
    "social_media": ["id", "created_at", "text", "lang", "author", "geo"],
}
DECREE = {"objet_abandonne", "arme", "sens_interdit", "zone_interdite", "personne_au_sol", "mouvement_de_foule",
          "densite_excessive", "depart_de_feu"}
DATE = re.compile(r"^\d{2}/\d{2}/2025$")
DATETIME = re.compile(r"^\d{2}/\d{2}/2025 \d{2}:\d{2}$")
TIME = re.compile(r"^\d{2}:\d{2}$")
DECIMAL = re.compile(r"^-?\d+(,\d+)?$")
ISO_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0[12]:00$")
ISO_Z = re.compile(r"^20\d{2}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _all(pattern: re.Pattern[str], values: list[str | None], allow_null: bool = False) -> bool:
    return all((v is None and allow_null) or (v is not None and pattern.match(v)) for v in values)


def test_vocabularies_agree_with_the_taxonomy() -> None:
    check_vocabularies()
    assert category("cctv_fire_start").kind == "detection"


def test_when_the_run_ends_then_each_source_has_one_export_named_after_it(run) -> None:
    for source, path in run.exports.items():
        assert path.name.startswith(source) and path.name.endswith("_2025" + path.suffix)
        assert path.suffix == (".jsonl" if source in JSON_KEYS else ".csv")
        assert run.summary.rows[source] > 0


@pytest.mark.parametrize("source", sorted(COLUMNS))
def test_csv_exports_have_exactly_the_documented_header(run, source: str) -> None:
    table = read_csv(run.exports[source])
    assert table.column_names == COLUMNS[source]
    assert table.num_rows == run.summary.rows[source]
    raw = run.exports[source].read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    raw.decode("utf-8")


@pytest.mark.parametrize("source", sorted(JSON_KEYS))
def test_jsonl_exports_have_exactly_the_documented_keys(run, source: str) -> None:
    rows = read_jsonl(run.exports[source])
    assert len(rows) == run.summary.rows[source]
    assert all(list(r) == JSON_KEYS[source] for r in rows)


def test_mains_courantes_fields(run, city: CityProfile) -> None:
    t = read_csv(run.exports["mains_courantes"]).to_pydict()
    assert _all(re.compile(r"^MC-2025-\d{6}$"), t["numero"]) and len(set(t["numero"])) == len(t["numero"])
    assert _all(DATETIME, t["date_heure"])
    # an entry may be written in the next year for facts of late December
    assert _all(re.compile(r"^\d{2}/\d{2}/202[56] \d{2}:\d{2}$"), t["date_saisie"])
    assert set(t["origine"]) <= {"initiative", "videoprotection", "appel_usager", "requisition"}
    assert set(t["categorie"]) <= set(FRENCH_LABELS.values()) - {"Signalement vidéo"}
    assert {"Assistance à personne", "Intervention diverse"} <= set(t["categorie"])
    assert _all(re.compile(r"^PM\d{4}$"), t["agent"])
    assert _all(DECIMAL, t["longitude"], allow_null=True) and _all(DECIMAL, t["latitude"], allow_null=True)
    missing = np.array([v is None for v in t["longitude"]])
    assert 0.02 < missing.mean() < 0.09  # documented 5 %
    postcodes = city.zone_of_postcode()
    assert all(re.search(r", (\d{5}) Marseille$", a).group(1) in postcodes for a in t["adresse"])
    names = [p for p in t["personnes_impliquees"] if p]
    assert names and any("|" in p for p in names)


def test_date_saisie_is_after_date_heure(run) -> None:
    t = read_csv(run.exports["mains_courantes"]).to_pydict()

    def key(s: str) -> str:
        d, h = s.split(" ")
        return d[6:] + d[3:5] + d[:2] + h

    late = [(a, b) for a, b in zip(t["date_heure"], t["date_saisie"]) if key(b) <= key(a)]
    # the only exception a wall clock allows: the repeated hour of the autumn change
    assert all(a.startswith("26/10/2025 02") for a, _ in late)


def test_verbalisations_fields(run) -> None:
    t = read_csv(run.exports["verbalisations"]).to_pydict()
    assert _all(DATE, t["date_infraction"]) and _all(TIME, t["heure_infraction"])
    codes = [int(c) for c in t["natinf"]]
    assert set(codes) <= set(NATINF)
    assert all(lbl == NATINF[c][0] for c, lbl in zip(codes, t["libelle_infraction"]))
    assert all(m == f"{NATINF[c][2]:.2f}".replace(".", ",") for c, m in zip(codes, t["montant_eur"]))
    siv = re.compile(r"^[A-HJ-NP-TV-Z]{2}-\d{3}-[A-HJ-NP-TV-Z]{2}$")
    fni = re.compile(r"^\d{1,4} [A-Z]{2,3} \d{2}$")
    plates = t["immatriculation"]
    assert all(siv.match(p) or fni.match(p) for p in plates)
    assert any(fni.match(p) for p in plates) and any(siv.match(p) for p in plates)
    assert len(set(plates)) < len(plates)  # repeat offenders
    assert len(set(t["numero_avis"])) == len(plates)


def test_municipal_reports_fields(run) -> None:
    rows = read_jsonl(run.exports["municipal_reports"])
    assert {r["type"] for r in rows} == {"intervention", "rapport_operateur"}
    assert all(ISO_OFFSET.match(r["horodatage"]) for r in rows)
    assert {r["nature"] for r in rows} <= set(FRENCH_LABELS.values())
    assert all(r["lon"] is not None for r in rows if r["type"] == "rapport_operateur")
    assert any(r["lon"] is None for r in rows)
    assert all(re.match(r"^PM\d{4}$", r["agent"]) for r in rows)
    assert len({r["id"] for r in rows}) == len(rows)


def test_cctv_registry_and_events(run, city: CityProfile) -> None:
    cams = read_csv(run.exports["cctv_cameras"]).to_pydict()
    assert len(cams["camera_id"]) == 1600
    assert set(cams["proprietaire"]) == {"ville", "rtm", "amp", "bailleur"}
    rng = [int(v) for v in cams["portee_m"]]
    assert min(rng) >= 30 and max(rng) <= 80
    assert all(0 <= int(v) < 360 for v in cams["orientation_deg"])
    assert _all(re.compile(r"^\d{2}/\d{2}/20[12]\d$"), cams["mise_en_service"])
    lon, lat = french_float(cams["longitude"]), french_float(cams["latitude"])
    assert all(z is not None for z in assign_zones(city, lon, lat))
    events = read_jsonl(run.exports["cctv_events"])
    assert {e["type"] for e in events} <= DECREE
    assert {e["camera_id"] for e in events} <= set(cams["camera_id"])
    assert all(ISO_Z.match(e["detected_at"]) and 0 <= e["confidence"] <= 1 for e in events)


def test_hospital_fields(run, city: CityProfile) -> None:
    t = read_csv(run.exports["hospital"]).to_pydict()
    assert set(t["code_insee_lieu"]) <= city.zone_ids
    assert set(t["categorie_arme"]) <= {"aucune", "contondant", "tranchant", "arme_a_feu", "autre", "inconnue"}
    assert set(t["tranche_age"]) <= {"0-17", "18-24", "25-34", "35-49", "50-64", "65+"}
    assert set(t["sexe"]) <= {"F", "M", "X"}
    assert _all(TIME, t["heure_agression"], allow_null=True) and None in t["heure_agression"]
    assert _all(DATE, t["date_agression"]) and _all(TIME, t["heure_admission"])


def test_social_media_fields(run, city: CityProfile) -> None:
    posts = read_jsonl(run.exports["social_media"])
    assert all(ISO_Z.match(p["created_at"]) for p in posts)
    assert {p["lang"] for p in posts} <= {"fr", "en"}
    assert all(set(p["author"]) == {"id", "handle"} and p["author"]["handle"].startswith("@") for p in posts)
    geo = [p["geo"] for p in posts if p["geo"] is not None]
    assert all(set(g) == {"lon", "lat"} for g in geo)
    zones = assign_zones(city, np.array([g["lon"] for g in geo]), np.array([g["lat"] for g in geo]))
    assert all(z is not None for z in zones)
    assert len({p["id"] for p in posts}) == len(posts)
    text = " ".join(p["text"] for p in posts)
    for quartier in ("Belsunce", "Noailles", "Panier", "Castellane", "Vélodrome"):
        assert quartier in text


def test_planned_events_and_patrols(run, city: CityProfile) -> None:
    ev = read_csv(run.exports["planned_events"]).to_pydict()
    assert set(ev["type"]) == {"match", "concert", "festival", "manifestation", "marche"}
    assert 140 <= len(ev["id"]) <= 160
    assert _all(DATETIME, ev["debut"])
    velodrome = [i for i, v in enumerate(ev["lieu"]) if v == "Orange Vélodrome"]
    assert ev["longitude"][velodrome[0]] == "5,3959" and ev["latitude"][velodrome[0]] == "43,2699"
    assert all(z is not None for z in assign_zones(city, french_float(ev["longitude"]), french_float(ev["latitude"])))
    pt = read_csv(run.exports["patrols"])
    assert pt.num_rows == 365 * 3 * 16
    assert set(pc.unique(pt["creneau"]).to_pylist()) == {"matin", "apres-midi", "nuit"}
    assert set(pc.unique(pt["code_insee"]).to_pylist()) == city.zone_ids
    assert _all(DECIMAL, pt["heures_patrouille"].to_pylist())
