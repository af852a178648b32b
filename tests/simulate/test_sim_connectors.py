"""Contract with the connectors: every row the simulator writes is admitted, none quarantined."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from observatoire.city.profile import CityProfile
from observatoire.gate.admit import Gate
from observatoire.ingest.pipeline import ingest
from observatoire.sources.registry import load_sources
from observatoire.store.parquet import ParquetStore


def test_when_the_exports_are_ingested_then_no_row_is_quarantined(run, city: CityProfile, tmp_path: Path,
                                                                   gate: Gate) -> None:
    sources = load_sources()
    store = ParquetStore(tmp_path / "store", zone_ids=city.zone_ids)
    reports = ingest([run.summary.out_dir / "exports"], store=store, city=city, sources=sources, gate=gate,
                     now=datetime(2026, 1, 15, tzinfo=UTC))
    assert {r.source for r in reports} == set(run.summary.rows)
    for r in reports:
        assert (r.rows_read, r.quarantined, r.reasons) == (run.summary.rows[r.source], 0, {}), r.source
