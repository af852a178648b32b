"""The canary test: identifiers planted in every source never come out anywhere.

Known names, plates, phones, a NIR, an IBAN, e-mails, addresses and a date of
birth are planted in every identifier and free-text field of every source (and
in rows that will be quarantined). After `observatoire ingest` (a real
process), the whole store (every Parquet file decoded, the manifest), the
quarantine, the command's output and every API response are searched, in any
casing or spacing: zero occurrences. The pseudonymisation key never appears either.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from observatoire.api.app import create_app
from observatoire.auth.tokens import Tokens
from observatoire.gate.pseudonym import load_keyring
from observatoire.settings import Settings
from tests.conftest import write

NIR = "1 85 03 13 055 123 " + f"{97 - 1850313055123 % 97:02d}"
CANARIES = {
    # Lower-case names are caught through the first-name gazetteer: the lower-case canary has a common first name.
    "name": ["Zéphyrin QUASIMODO", "rachid quasimodo", "QUASIMODO Zéphyrin", "Mme Eulalie Fandango-Trémière"],
    "phone": ["07 98 76 54 32", "0798765432", "+33 7 98 76 54 32", "07.98.76.54.32"],
    "plate": ["ZQ-987-XW", "zq 987 xw", "9876 ZQ 13"],
    "nir": [NIR],
    "iban": ["FR76 3000 6000 0112 3456 7890 189"],
    "email": ["zephyrin.quasimodo@exemple.fr"],
    "address": ["17 impasse des Canaris"],
    "birth": ["né le 3 mars 1987", "née le douze juin 1990"],
}
# What must not be found, once text is folded (lower case, no accents, letters and digits only).
NEEDLES = ["quasimodo", "zephyrin", "fandango", "tremiere", "798765432", "zq987xw", "9876zq13", "1850313055123",
           "30006000011234567890189", "canaris", "mars1987", "douzejuin1990", "pm4242", "author77441",
           "1799000123456789", "mc77001"]
# A public post id: its plain SHA-256 (the event id before record keys were keyed) must not be computable.
POST_ID = "1799000123456789"


def fold(text: str) -> str:
    s = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()
    return re.sub(r"[^a-z0-9]", "", s)


def sentence(i: int) -> str:
    name = CANARIES["name"][i % 4]
    return (f"Intervention pour un différend, {name} (tél. {CANARIES['phone'][i % 4]}, "
            f"{CANARIES['birth'][i % 2]}, NIR {NIR}) au {CANARIES['address'][0]}, véhicule "
            f"{CANARIES['plate'][i % 3]}, IBAN {CANARIES['iban'][0]}, courriel {CANARIES['email'][0]}")


def exports(root: Path) -> Path:
    d = root / "exports"
    mc = ["numero;date_heure;date_saisie;adresse;longitude;latitude;categorie;origine;recit;agent;personnes_impliquees"]
    for i in range(6):
        mc.append(f"MC-{i};0{i + 1}/03/2025 14:05;;{CANARIES['address'][0]}, 13001 Marseille;5,3790;43,2920;"
                  f"Violences;appel_usager;{sentence(i)};PM4242;{CANARIES['name'][i % 4]}|{CANARIES['name'][(i + 1) % 4]}")
    mc.append(f"MC-bad;99/99/2025 14:05;;;5,37;43,29;Vol;initiative;{sentence(7)};PM4242;QUASIMODO Zéphyrin")
    mc.append(f"MC-ragged;{sentence(8)};PM4242")
    write(d, "mains_courantes_c.csv", "\n".join(mc) + "\n")
    fines = ["numero_avis;date_infraction;heure_infraction;natinf;libelle_infraction;lieu;longitude;latitude;"
             "immatriculation;montant_eur;matricule_agent"]
    for i, plate in enumerate(CANARIES["plate"]):
        fines.append(f"A{i};03/03/2025;09:1{i};11302;x;{CANARIES['address'][0]} 13001 Marseille;5,3780;43,2950;"
                     f"{plate};35,00;PM4242")
    write(d, "verbalisations_c.csv", "\n".join(fines) + "\n")
    reports = [f'{{"id": "R{i}", "type": "intervention", "horodatage": "2025-03-0{i + 1}T14:05:00+01:00", '
               f'"lon": 5.379, "lat": 43.292, "nature": "Vol", "note": "{sentence(i)}", "agent": "PM4242"}}'
               for i in range(4)]
    write(d, "municipal_reports_c.jsonl", "\n".join(reports) + "\n")
    ids = [POST_ID, "P1", "P2", "P3"]
    posts = [f'{{"id": "{ids[i]}", "created_at": "2025-03-0{i + 1}T20:00:00Z", "text": "{sentence(i)}", "lang": "fr", '
             f'"author": {{"id": "author77441", "handle": "@quasimodo13"}}, "geo": null}}' for i in range(4)]
    posts.append('{"id": "P9", "created_at": "2025-03-09T20:00:00Z", "text": "x", "lang": "fr", '
                 '"author": {"id": "author77441", "handle": "@quasimodo13", "followers": ["Zéphyrin QUASIMODO"]}}')
    # A kept field carrying a person: a language that is an object with a name in it, a code that is a phone.
    posts.append('{"id": "P10", "created_at": "2025-03-09T20:00:00Z", "text": "x", '
                 '"lang": {"code": "fr", "auteur": "Zéphyrin QUASIMODO"}, "author": {"id": "author77441"}}')
    posts.append('{"id": "P11", "created_at": "2025-03-09T20:00:00Z", "text": "x", "lang": "0798765432", '
                 '"author": {"id": "author77441"}}')
    write(d, "social_media_quasimodo13.jsonl", "\n".join(posts) + "\n")   # a file named after its author
    # The calendar: an event named after a person, a venue that is an organiser's e-mail and address.
    write(d, "planned_events_c.csv", "id;nom;type;lieu;longitude;latitude;debut;fin;affluence_attendue\n"
          f"E1;Marche blanche pour {CANARIES['name'][0]};manifestation;{CANARIES['email'][0]}, "
          f"{CANARIES['address'][0]};5,3790;43,2920;08/03/2025 14:00;08/03/2025 17:00;2000\n"
          f"E2;Match;match;Stade;5,3959;43,2699;08/03/2025 21:00;08/03/2025 23:00;{CANARIES['phone'][1]}\n"
          f"E3;Concert;{CANARIES['name'][1]};Dôme;5,40;43,30;08/03/2025 21:00;08/03/2025 23:00;8000\n")
    # Open data whose kept fields carry a person: a force, an outcome, an indicator, a unit, a code.
    write(d, "2025-03-canary-street.csv",
          "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,"
          "Last outcome category,Context\n"
          f"abc1,2025-03,{CANARIES['name'][0]},West Yorkshire Police,-1.5,53.8,On or near X,E01011264,Leeds 1,"
          f"Burglary,Appeler {CANARIES['phone'][0]},\n"
          f"abc2,2025-03,West Yorkshire Police,West Yorkshire Police,-1.5,53.8,On or near X,{CANARIES['phone'][1]},"
          f"Leeds 1,{CANARIES['name'][2]},Under investigation,\n")
    write(d, "ssmsi_canary.csv", "CODGEO_2024;annee;indicateur;unite_de_compte;nombre;taux_pour_mille;est_diffuse;"
          "insee_pop;insee_pop_millesime;insee_log;insee_log_millesime\n"
          f"13201;24;Plainte de {CANARIES['name'][0]};Victime;12;1,5;diff;40000;21;20000;21\n"
          f"13201;24;Vols avec armes;{CANARIES['email'][0]};12;1,5;diff;40000;21;20000;21\n"
          f"13201;24;Vols avec armes;Infraction;{CANARIES['phone'][0]};1,5;diff;40000;21;20000;21\n")
    write(d, "mains_courantes_k.csv", "numero;date_heure;adresse;longitude;latitude;categorie;origine;recit\n"
          f"MC77001;09/03/2025 14:05;1 rue X, 13001 Marseille;5,3790;43,2920;Violences;appel_usager;Rixe\n"
          f"MC77002;09/03/2025 14:05;1 rue X, 13001 Marseille;5,3790;43,2920;{CANARIES['name'][0]};appel_usager;x\n")
    write(d, "cctv_cameras_c.csv", "camera_id;longitude;latitude;proprietaire;orientation_deg;angle_champ_deg;"
                                   "portee_m;mise_en_service\nCAM-1;5,3790;43,2920;ville;90;60;50;01/01/2020\n")
    write(d, "cctv_events_c.jsonl",
          '{"event_id": "V1", "camera_id": "CAM-1", "detected_at": "2025-03-01T14:05:00Z", "type": "arme", '
          '"confidence": 0.9, "person_descriptor": "Zéphyrin QUASIMODO, veste rouge"}\n')
    return d


@pytest.mark.slow
def test_planted_identifiers_are_found_nowhere(tmp_path: Path) -> None:
    store, keys = tmp_path / "store", tmp_path / "keys" / "pseudonym.key"
    env = {**os.environ, "OBSERVATOIRE_STORE": str(store), "OBSERVATOIRE_KEYS": str(keys), "COLUMNS": "200",
           "OBSERVATOIRE_AUDIT": str(tmp_path / "audit")}
    out = subprocess.run([sys.executable, "-m", "observatoire.cli", "ingest", str(exports(tmp_path))], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    seen = {"command output": out.stdout + out.stderr, "manifest": (store / "manifest.json").read_text()}
    quarantine = [r for path in store.rglob("*.parquet") if "quarantine" in path.parts
                  for r in pq.read_table(path).to_pylist()]
    checked = {(r["source"], r["source_row"]) for r in quarantine}   # kept fields that failed their check
    assert checked >= {("planned_events", 2), ("planned_events", 3), ("ssmsi", 1), ("ssmsi", 2), ("ssmsi", 3),
                       ("social_media", 6), ("social_media", 7), ("police_uk", 1), ("police_uk", 2),
                       ("mains_courantes", 2)}, sorted(checked)
    for path in store.rglob("*.parquet"):
        seen[str(path.relative_to(store))] = str(pq.read_table(path).to_pylist())
    settings = Settings(store_dir=store, key_path=keys, auth_dir=tmp_path / "auth", audit_dir=tmp_path / "audit",
                        releases_dir=tmp_path / "releases")
    _, token = Tokens(settings.auth_dir, settings.clock).issue("canary", "analyst", issued_by="test")
    client = TestClient(create_app(settings), headers={"Authorization": f"Bearer {token}"})
    for url in ("/", "/health", "/api/v1/meta", "/api/v1/zones", "/api/v1/zones?source=mains_courantes",
                "/api/v1/zones?start=2025-01-01&end=2026-01-01&category=violence", "/api/v1/public/releases",
                "/api/v1/public/ledger"):
        response = client.get(url)
        assert response.status_code == 200, url
        seen[url] = response.text
    dpo = Tokens(settings.auth_dir, settings.clock).issue("canary-dpo", "dpo", issued_by="test")[1]
    for url in ("/api/v1/events?limit=1000", "/api/v1/events/export?recipient=cnil&format=csv"):
        response = client.get(url, headers={"Authorization": f"Bearer {dpo}", "X-Purpose": "audit_control"})
        assert response.status_code == 200, (url, response.text)
        seen[url] = response.text
    assert "Marche blanche pour" in seen["/api/v1/events?limit=1000"]   # the calendar's name kept, scrubbed
    plain = hashlib.sha256(b"social_media\x1f" + POST_ID.encode()).hexdigest()[:24]
    for where, text in seen.items():
        assert plain not in text, f"the post's unkeyed id found in {where}"
    report = tmp_path / "report.html"                              # the DPO's generated control report
    out = subprocess.run([sys.executable, "-m", "observatoire.cli", "report", "--period", "2025-03", "--format",
                          "html", "--version", "restricted", "--out", str(report)], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    seen["control report"] = report.read_text(encoding="utf-8") + out.stdout + out.stderr
    for path in (tmp_path / "audit").rglob("*"):                  # the audit log and its control files
        if path.is_file():
            seen[f"audit/{path.name}"] = path.read_bytes().decode("utf-8", errors="replace")
    stored_text = " ".join(v for k, v in seen.items() if k.startswith("events"))
    assert "<PERSONNE>" in stored_text or "PERSON" in stored_text   # the texts were kept, scrubbed
    key = load_keyring(keys)
    for where, text in seen.items():
        folded = fold(text)
        for needle in NEEDLES:
            assert needle not in folded, f"{needle!r} found in {where}"
        for secret in key.keys.values():
            assert secret.hex() not in text.lower(), f"the key found in {where}"
