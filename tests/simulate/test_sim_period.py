"""A multi-year period ending on a given day: long-lived sources over all of it, short-lived ones over their
last days, ids numbered per year, byte-identical for the same seed and dates."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from observatoire.errors import InputError
from observatoire.simulate import RECENT_DAYS, simulate_city

from sim_helpers import read_csv, read_jsonl

END = dt.date(2025, 3, 31)


def _digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def period(city, tmp_path_factory):
    out = tmp_path_factory.mktemp("period")
    return simulate_city(city, out, seed=5, end=END, years=2, scale=0.02), out


def test_files_are_named_by_the_period_and_cover_it(period) -> None:
    summary, out = period
    assert summary.exports["mains_courantes"].name == "mains_courantes_20230401_20250331.csv"
    p = json.loads((out / "truth" / "parameters.json").read_text())
    assert p["period"]["first_day"] == "2023-04-01" and p["period"]["last_day"] == "2025-03-31"
    assert p["recent_days"] == dict(RECENT_DAYS) and p["year"] == 2025
    days = read_csv(summary.exports["mains_courantes"])["date_heure"].to_pylist()
    years = {d[6:10] for d in days}
    assert years == {"2023", "2024", "2025"}
    numeros = read_csv(summary.exports["mains_courantes"])["numero"].to_pylist()
    assert {"MC-2023-000001", "MC-2024-000001", "MC-2025-000001"} <= set(numeros)   # numbered per year
    assert len(set(numeros)) == len(numeros)
    t = pq.read_table(out / "truth" / "incidents.parquet")["occurred_at"].cast("int64").to_numpy() / 1e6
    assert t.min() >= dt.datetime(2023, 3, 31, 22, tzinfo=dt.UTC).timestamp()
    assert t.max() < dt.datetime(2025, 3, 31, 22, tzinfo=dt.UTC).timestamp()
    # two years of background incidents: about twice a year's 150,000 x scale / (1 - theta)
    assert 0.85 < len(t) / (2 * 150_000 * 0.02 / 0.7) < 1.15


def test_short_lived_sources_cover_only_their_last_days(period) -> None:
    summary, _ = period
    first = {name: END - dt.timedelta(days=d - 1) for name, d in RECENT_DAYS.items()}
    cctv = {r["detected_at"][:10] for r in read_jsonl(summary.exports["cctv_events"])}
    posts = {r["created_at"][:10] for r in read_jsonl(summary.exports["social_media"])}
    assert cctv and min(cctv) >= (first["cctv_events"] - dt.timedelta(days=1)).isoformat()
    assert posts and min(posts) >= (first["social_media"] - dt.timedelta(days=1)).isoformat()
    days = read_csv(summary.exports["hospital"])["date_agression"].to_pylist()
    iso = sorted(f"{d[6:10]}-{d[3:5]}-{d[0:2]}" for d in days)
    assert iso and iso[0] >= first["hospital"].isoformat() and iso[-1] <= END.isoformat()


def test_same_seed_and_dates_give_the_same_bytes_and_bad_arguments_are_refused(city, period, tmp_path) -> None:
    _, out = period
    again = simulate_city(city, tmp_path / "again", seed=5, end=END, years=2, scale=0.02)
    assert _digest(again.out_dir) == _digest(out)
    now = lambda: dt.datetime(2025, 4, 1, 3, tzinfo=dt.UTC)  # noqa: E731
    assert simulate_city(city, tmp_path / "now", seed=5, years=1, now=now, scale=0.005).exports[
        "patrols"].name == "patrols_20240401_20250331.csv"
    for bad in (dict(years=0), dict(years=2.5), dict(recent_days={"fines": 3}), dict(scale=0)):
        with pytest.raises(InputError):
            simulate_city(city, tmp_path / "bad", end=END, **bad)
