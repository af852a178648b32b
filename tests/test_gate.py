"""The privacy gate: policies enforced field by field, refusals with reasons, coarsening."""

from __future__ import annotations

from pathlib import Path

import pytest

from observatoire.city.profile import CityProfile
from observatoire.errors import InputError
from observatoire.gate.admit import Gate
from observatoire.gate.policy import load_policies
from observatoire.ingest.pipeline import ingest
from observatoire.store.parquet import ParquetStore
from tests.conftest import NOW, write

CAMERAS = ("camera_id;longitude;latitude;proprietaire;orientation_deg;angle_champ_deg;portee_m;mise_en_service\n"
           "CAM-1;5,3790;43,2920;ville;90;60;50;01/01/2020\n")
CCTV = (
    '{"event_id": "V1", "camera_id": "CAM-1", "detected_at": "2025-03-01T14:05:00Z", "type": "arme", "confidence": 0.9}\n'
    '{"event_id": "V2", "camera_id": "CAM-1", "detected_at": "2025-03-01T14:06:00Z", "type": "arme", "confidence": 0.9,'
    ' "face_embedding": [0.1, 0.2, 0.3]}\n'
    '{"event_id": "V3", "camera_id": "CAM-1", "detected_at": "2025-03-01T14:07:00Z", "type": "arme", "confidence": 0.9,'
    ' "image": "iVBORw0KGgo="}\n'
    '{"event_id": "V4", "camera_id": "CAM-1", "detected_at": "2025-03-01T14:08:00Z", "type": "arme", "confidence": 0.9,'
    ' "tracking_id": "person-77"}\n'
)
HOSPITAL = ("date_agression;heure_agression;code_insee_lieu;categorie_arme;tranche_age;sexe;date_admission;heure_admission\n"
            "01/03/2025;23:37;13201;tranchant;18-24;M;02/03/2025;00:10\n")
FINES = ("numero_avis;date_infraction;heure_infraction;natinf;libelle_infraction;lieu;longitude;latitude;"
         "immatriculation;montant_eur;matricule_agent\n"
         "A1;03/03/2025;09:15;11302;x;;5,3780;43,2950;AB-123-CD;35,00;PM0007\n"
         "A2;03/03/2025;09:20;11302;x;;5,3780;43,2950;ab 123 cd;35,00;PM0008\n")


def _ingest(tmp_path, store, city, sources, gate, *files):
    return ingest([write(tmp_path / "in", n, t) for n, t in files], store=store, city=city, sources=sources,
                  gate=gate, now=NOW)


def test_when_a_line_carries_an_image_or_a_face_then_it_is_quarantined_as_refused(
        tmp_path: Path, store: ParquetStore, city: CityProfile, sources: dict, gate: Gate) -> None:
    _ingest(tmp_path, store, city, sources, gate, ("cctv_cameras_a.csv", CAMERAS), ("cctv_events_a.jsonl", CCTV))
    q = store.quarantine().to_pyarrow()
    got = {r["source_row"]: (r["reason"], r["detail"]) for r in q.to_pylist()}
    digest = gate.keyring.tokens_of_normalised("field_name", ["tracking_id"])[0].split(":")[-1][:12]
    assert got == {2: ("refused_field", "field face_embedding must never be sent"),
                   3: ("refused_field", "field image must never be sent"),
                   4: ("undeclared_field", f"1 field(s) named by no privacy policy (unknown field {digest})")}
    assert store.events().count().to_pyarrow().as_py() == 1
    blob = b"".join(p.read_bytes() for p in store.root.rglob("*.parquet"))
    assert b"iVBORw0KGgo" not in blob and b"person-77" not in blob


def test_when_a_csv_has_a_column_no_policy_names_then_the_file_is_refused_and_the_store_untouched(
        tmp_path: Path, store: ParquetStore, city: CityProfile, sources: dict, gate: Gate) -> None:
    text = FINES.replace("matricule_agent\n", "matricule_agent;nom_conducteur\n").replace("PM0007\n", "PM0007;Karim\n")
    text = text.replace("PM0008\n", "PM0008;Léa\n")
    with pytest.raises(InputError, match=r"1 field\(s\) named by no privacy policy \(unknown field [0-9a-f]{12}\)"):
        _ingest(tmp_path, store, city, sources, gate, ("verbalisations_a.csv", text))
    assert not store.manifest_path.exists()


@pytest.mark.parametrize("header", ["0612345678", "__extra", "jean.dupont@mail.fr"])
def test_what_a_header_or_a_key_says_never_reaches_the_quarantine_or_an_error(
        tmp_path: Path, store: ParquetStore, city: CityProfile, sources: dict, gate: Gate, header: str) -> None:
    text = FINES.replace("matricule_agent\n", f"matricule_agent;{header}\n").replace("PM0007\n", "PM0007;x\n")
    text = text.replace("PM0008\n", "PM0008;y\n")
    with pytest.raises(InputError) as refused:
        _ingest(tmp_path, store, city, sources, gate, ("verbalisations_a.csv", text))
    assert header not in str(refused.value) and not store.manifest_path.exists()
    line = ('{"event_id": "V9", "camera_id": "CAM-1", "detected_at": "2025-03-01T14:05:00Z", "type": "arme", '
            f'"confidence": 0.9, "{header}": "Zéphyrin QUASIMODO"}}\n')
    _ingest(tmp_path, store, city, sources, gate, ("cctv_cameras_a.csv", CAMERAS), ("cctv_events_b.jsonl", line))
    q = store.quarantine().to_pyarrow().to_pylist()
    assert [r["reason"] for r in q] == ["undeclared_field"]
    assert header not in str(q) and "QUASIMODO" not in str(q)


def test_a_csv_the_parser_refuses_is_reported_without_its_cells(
        tmp_path: Path, store: ParquetStore, city: CityProfile, sources: dict, gate: Gate) -> None:
    text = FINES.replace("PM0008\n", 'PM0008\n"A3;0612345678;unterminated\n')
    try:
        _ingest(tmp_path, store, city, sources, gate, ("verbalisations_a.csv", text))
    except InputError as exc:
        assert "0612345678" not in str(exc)
    q = store.quarantine().to_pyarrow().to_pylist() if store.manifest_path.exists() else []
    assert "0612345678" not in str(q)


def test_when_the_csv_parser_fails_its_message_quoting_a_cell_is_not_repeated(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow as pa

    from observatoire.errors import UnreadableFileError
    from observatoire.sources import formats

    def refuse(*_a, **_k):
        raise pa.ArrowInvalid("CSV parse error: Expected 11 columns, got 3: A3;0612345678;unterminated")

    monkeypatch.setattr(formats.pacsv, "read_csv", refuse)
    with pytest.raises(UnreadableFileError) as refused:
        formats.read_csv(write(tmp_path, "verbalisations_a.csv", FINES), ("numero_avis",))
    assert "0612345678" not in str(refused.value) and "ArrowInvalid" in str(refused.value)


def test_plates_written_differently_get_one_token_and_officers_theirs(
        tmp_path: Path, store: ParquetStore, city: CityProfile, sources: dict, gate: Gate) -> None:
    _ingest(tmp_path, store, city, sources, gate, ("verbalisations_a.csv", FINES))
    rows = store.events().order_by("source_row").to_pyarrow().to_pylist()
    plates = [[p["token"] for p in r["pseudonyms"] if p["role"] == "plate"] for r in rows]
    officers = [[p["token"] for p in r["pseudonyms"] if p["role"] == "officer"] for r in rows]
    assert plates[0] == plates[1] and len(plates[0]) == 1
    assert officers[0] != officers[1]
    assert plates[0][0] == gate.keyring.token("plate", "AB 123 CD")


def test_hospital_records_are_coarsened_to_the_hour_and_the_zone(
        tmp_path: Path, store: ParquetStore, city: CityProfile, sources: dict, gate: Gate) -> None:
    _ingest(tmp_path, store, city, sources, gate, ("hospital_a.csv", HOSPITAL))
    [row] = store.events().to_pyarrow().to_pylist()
    assert row["occurred_at"].minute == 0 and row["time_precision"] == "hour"
    assert row["reported_at"].minute == 0
    assert row["lon"] is None and row["h3_r9"] is None and row["zone_id"] == "13201"


def test_an_admission_time_is_coarsened_even_when_the_assault_time_is_unknown(
        tmp_path: Path, store: ParquetStore, city: CityProfile, sources: dict, gate: Gate) -> None:
    no_hour = HOSPITAL.replace(";23:37;", ";;")                 # the assault known to the day: precision "day"
    _ingest(tmp_path, store, city, sources, gate, ("hospital_a.csv", no_hour))
    [row] = store.events().to_pyarrow().to_pylist()
    assert row["time_precision"] == "day"                      # never made finer than it was
    assert (row["reported_at"].minute, row["reported_at"].second) == (0, 0)   # the admission, to the hour only


def test_free_text_is_stored_scrubbed_with_its_decision_trace(
        tmp_path: Path, store: ParquetStore, city: CityProfile, sources: dict, gate: Gate) -> None:
    mc = ("numero;date_heure;date_saisie;adresse;longitude;latitude;categorie;origine;recit;agent;personnes_impliquees\n"
          "MC-1;01/03/2025 14:05;;12 rue de Rome, 13006 Marseille;5,3790;43,2920;Violences;appel_usager;"
          "Rixe devant le bar, M. Karim BENALI (tél. 06 12 34 56 78) blessé, véhicule AB-123-CD;PM0421;BENALI Karim\n")
    _ingest(tmp_path, store, city, sources, gate, ("mains_courantes_a.csv", mc))
    [row] = store.events().to_pyarrow().to_pylist()
    assert "BENALI" not in row["text"] and "06 12" not in row["text"] and "AB-123" not in row["text"]
    assert row["text"].startswith("Rixe devant le bar")
    entities = {r["entity"] for r in row["redactions"]}
    assert {"PERSON", "PHONE", "PLATE"} <= entities
    assert all(r["field"] == "recit" and r["detector"] and r["reason"] for r in row["redactions"])
    assert {p["role"] for p in row["pseudonyms"]} == {"officer", "person"}


def test_a_policy_file_with_an_unknown_action_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "p.toml"
    bad.write_text('[hospital.fields]\nsexe = "publish"\n')
    with pytest.raises(InputError, match="unknown action 'publish'"):
        load_policies(bad)
    bad.write_text('[hospital.fields]\nsexe = "pseudonymise"\n')
    with pytest.raises(InputError, match="needs a kind"):
        load_policies(bad)


def test_every_registered_source_has_a_policy_naming_every_field_it_reads(sources: dict) -> None:
    policies = load_policies()
    for name, source in sources.items():
        policy = policies.of(name)
        declared = getattr(source, "columns", ()) + getattr(source, "optional", ())
        paths = tuple(getattr(source, "paths", {}))
        assert all(policy.named(c) for c in declared + paths), name


def test_the_gate_puts_the_loaded_model_out_of_the_collectors_sight_once_per_process(monkeypatch, tmp_path) -> None:
    import gc

    import observatoire.gate.pii as pii
    from observatoire.settings import Settings

    frozen: list[int] = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(1))
    monkeypatch.setattr(gc, "get_freeze_count", lambda: len(frozen))
    loaded: list[str] = []

    class Model:   # what the gate's scrubber factory builds, without loading spaCy
        def __init__(self, model: str) -> None:
            loaded.append(model)

        def scrub_many(self, texts):  # noqa: ANN001, ANN202
            return [None for _ in texts]

    monkeypatch.setattr(pii, "Scrubber", Model)
    settings = Settings(store_dir=tmp_path / "store", key_path=tmp_path / "keys" / "k.key")
    for n in range(2):   # two gates in one process (as in a test session): two models, one freeze
        gate = settings.gate(create_keys=True)
        assert len(loaded) == n   # built on first use only
        gate.scrubber.scrub_many(["texte"])
    assert loaded == [settings.spacy_model] * 2
    assert frozen == [1]
