"""The scrubber on the simulator's free text: every planted personal-data string is removed."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from observatoire.city.profile import load_city
from observatoire.gate.pii import Scrubber
from observatoire.simulate import simulate_city_year


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pii_sim")
    simulate_city_year(load_city(), out, scale=0.02)
    return out


def _free_texts(out: Path) -> dict[tuple[str, str, str], str]:
    """(source, record id, field) -> text, for the fields the truth records personal data in."""
    texts: dict[tuple[str, str, str], str] = {}
    [logbook] = (out / "exports").glob("mains_courantes_*.csv")
    with logbook.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter=";"):
            texts["mains_courantes", row["numero"], "recit"] = row["recit"]
            texts["mains_courantes", row["numero"], "adresse"] = row["adresse"]
    [reports] = (out / "exports").glob("municipal_reports_*.jsonl")
    for line in reports.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row.get("note"):
            texts["municipal_reports", row["id"], "note"] = row["note"]
    return texts


def test_when_simulated_texts_are_scrubbed_then_no_planted_personal_data_is_left(pii: Scrubber,
                                                                                  simulated: Path) -> None:
    texts = _free_texts(simulated)
    keys = list(texts)
    scrubbed = dict(zip(keys, (s.text for s in pii.scrub_many([texts[k] for k in keys]))))
    truth = pq.read_table(simulated / "truth" / "pii.parquet").to_pylist()
    checked = left = 0
    leaks = []
    for row in truth:
        k = (row["source"], row["record_id"], row["field"])
        if k not in scrubbed:
            continue                       # identifier fields (personnes_impliquees) are pseudonymised, not scrubbed
        checked += 1
        if row["value"] in (scrubbed[k] or ""):
            left += 1
            leaks.append((row["kind"], row["value"], scrubbed[k]))
    kinds = {r["kind"] for r in truth if (r["source"], r["record_id"], r["field"]) in scrubbed}
    assert checked > 1000 and kinds == {"name", "phone", "plate", "address", "birth_date", "email"}
    assert left == 0, leaks[:10]
