"""The labelled corpus: reproducible, varied, and the scrubber's precision and recall on it per entity type."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from observatoire.gate.pii import ENTITIES, STRUCTURED, Scrubber
from observatoire.gate.pii.evaluation import Counts, Span, score

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent / "data" / "pii_corpus.jsonl"
RECALL_STRUCTURED = 0.99       # phone, plate, NIR, IBAN, e-mail
RECALL_SEMI_STRUCTURED = 0.98  # address, birth date
RECALL_PERSON = 0.95
PRECISION_FLOOR = 0.90


def _rows() -> list[dict]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return _rows()


@pytest.fixture(scope="module")
def results(pii: Scrubber, rows: list[dict]) -> dict[str, Counts]:
    found = pii.find_many([r["text"] for r in rows])
    gold = [[Span(s["entity"], s["start"], s["end"]) for s in r["spans"]] for r in rows]
    return score(gold, [[Span(f.entity, f.start, f.end) for f in fs] for fs in found])


def test_when_the_generator_runs_again_then_it_writes_the_committed_corpus(rows: list[dict]) -> None:
    spec = importlib.util.spec_from_file_location("pii_make_corpus", HERE / "make_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.generate() == rows


def test_when_the_corpus_is_read_then_it_is_large_varied_and_well_labelled(rows: list[dict]) -> None:
    assert len(rows) >= 1000
    assert {r["genre"] for r in rows} >= {"logbook", "municipal", "social", "decoy"}
    entities = {s["entity"] for r in rows for s in r["spans"]}
    assert entities == set(ENTITIES)
    for r in rows:
        for s in r["spans"]:
            piece = r["text"][s["start"]:s["end"]]
            assert piece and piece == piece.strip(), (r["id"], piece)
    persons = [r["text"][s["start"]:s["end"]] for r in rows for s in r["spans"] if s["entity"] == "PERSON"]
    assert sum(p == p.lower() for p in persons) >= 100                       # lower-case names
    dates = [r["text"][s["start"]:s["end"]] for r in rows for s in r["spans"] if s["entity"] == "BIRTH_DATE"]
    assert sum(bool(re.search(r"[a-zé]{3}", d)) for d in dates) >= 50        # dates in words
    bare_phones = [r for r in rows for s in r["spans"] if s["entity"] == "PHONE"
                   and not re.search(r"(?i)(t[ée]l|portable|num[ée]ro|joignable|appelez|contact)\W*$",
                                     r["text"][max(0, s["start"] - 15):s["start"]])]
    assert len(bare_phones) >= 50                                              # phones without a context word


def test_when_the_scrubber_reads_the_corpus_then_it_meets_its_recall_and_precision_targets(
        results: dict[str, Counts], capsys: pytest.CaptureFixture[str]) -> None:
    report = "\n".join(f"{e:11s} labelled={c.labelled:5d} recall={c.recall:.3f} precision={c.precision:.3f}"
                       for e, c in results.items())
    with capsys.disabled():
        print("\nPII corpus, per entity type:\n" + report)
    for entity, c in results.items():
        target = (RECALL_STRUCTURED if entity in STRUCTURED else RECALL_PERSON if entity == "PERSON"
                  else RECALL_SEMI_STRUCTURED)
        assert c.recall >= target, f"{entity} recall {c.recall:.3f} < {target}\n{report}"
        assert c.precision >= PRECISION_FLOOR, f"{entity} precision {c.precision:.3f} < {PRECISION_FLOOR}\n{report}"
