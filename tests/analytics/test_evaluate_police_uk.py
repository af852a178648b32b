"""Real-data backtest: West Yorkshire street crime, July 2016 + July 2017 counts as a forecast of July 2018.

Reads the police.uk street-level files in ``/work/shared/data/police_uk``
(``Longitude, Latitude, Month``; rows without coordinates skipped), projects
to metres with an equirectangular projection around the mean point, and grids
at 250 m. The study area is the set of cells with at least one recorded
crime in any of the three Julys (a proxy for the force's populated area: the
bounding box is mostly moorland, which would inflate the PAI).
"""

from __future__ import annotations

import glob
import math
from pathlib import Path

import numpy as np
import pytest

from observatoire.analytics.evaluate import (
    evaluate,
    historical_baseline,
    rolling_origin_backtest,
    uniform_baseline,
)
from observatoire.analytics.forecast import EventArrays

DATA = Path("/work/shared/data/police_uk")
CELL_M = 250.0
EARTH_RADIUS_M = 6_371_008.8
K = 0.05

pytestmark = pytest.mark.skipif(
    not DATA.is_dir() or not glob.glob(str(DATA / "*.csv.gz")),
    reason=f"police.uk files not found in {DATA} (shared data folder absent)",
)


def load_points() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Longitude, latitude (degrees) and month (datetime64[M]) of every located crime."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv

    convert = csv.ConvertOptions(
        include_columns=["Longitude", "Latitude", "Month"],
        column_types={"Longitude": pa.float64(), "Latitude": pa.float64(), "Month": pa.string()},
    )
    tables = [csv.read_csv(path, convert_options=convert) for path in sorted(DATA.glob("*.csv.gz"))]
    table = pa.concat_tables(tables)
    located = pc.and_(pc.is_valid(table["Longitude"]), pc.is_valid(table["Latitude"]))
    table = table.filter(located)
    months = np.array(table["Month"].to_pylist(), dtype="datetime64[M]")
    return table["Longitude"].to_numpy(), table["Latitude"].to_numpy(), months


def project(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Equirectangular projection in metres around the mean point (error well under 1 % at this scale)."""
    lon0, lat0 = math.radians(lon.mean()), math.radians(lat.mean())
    x = EARTH_RADIUS_M * (np.radians(lon) - lon0) * math.cos(lat0)
    y = EARTH_RADIUS_M * (np.radians(lat) - lat0)
    return x, y


@pytest.fixture(scope="module")
def gridded() -> tuple[EventArrays, int]:
    lon, lat, months = load_points()
    x, y = project(lon, lat)
    col = np.floor((x - x.min()) / CELL_M).astype(np.int64)
    row = np.floor((y - y.min()) / CELL_M).astype(np.int64)
    raw_cell = row * (col.max() + 1) + col
    # Study area: cells with at least one crime in any July; renumber them 0..n_cells-1.
    active, cells = np.unique(raw_cell, return_inverse=True)
    return EventArrays.in_cells(months, cells), active.size


def test_when_2016_and_2017_counts_forecast_july_2018_then_pai_beats_random(gridded):
    events, n_cells = gridded
    area = np.ones(n_cells)
    origin = np.datetime64("2018-07")
    table = rolling_origin_backtest(
        historical_baseline(n_cells), events, None, area, [origin], np.timedelta64(1, "M"), K,
        np.random.default_rng(20180701), baseline=uniform_baseline(n_cells),
        method="historical 2016+2017", baseline_method="uniform random",
    )
    rows = {row["method"]: row for row in table.to_pylist()}
    hist, rand = rows["historical 2016+2017"], rows["uniform random"]
    print(
        f"\npolice.uk West Yorkshire, July 2018, {int(hist['n_events'])} crimes, {n_cells} active 250 m cells, "
        f"k = {K:.0%} (area share {hist['area_share']:.4f})"
    )
    for name, row in rows.items():
        print(f"  {name:22s} hit rate {row['hit_rate']:.3f}  PAI {row['pai']:.2f}  PEI {row['pei']:.3f}")
    assert hist["pai"] > 1.5
    assert hist["pai"] > rand["pai"]
    assert 0.0 < hist["pei"] <= 1.0
    # Uniform selection: expected PAI 1; averaged over draws it must sit near 1.
    observed = events.between(origin, origin + np.timedelta64(1, "M")).counts(n_cells)
    gen = np.random.default_rng(7)
    random_pai = np.mean([evaluate(np.zeros(n_cells), observed, area, K, child).pai for child in gen.spawn(50)])
    print(f"  uniform random, mean of 50 draws: PAI {random_pai:.2f}")
    assert abs(random_pai - 1.0) < 0.15
