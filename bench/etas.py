"""Fit time and parameter recovery of grid ETAS and space-time ETAS, on simulated data with known truth.

Prints one table. For each size, events are simulated on a 10 km x 10 km city
(200 m cells, a Gamma(0.5) background across cells, so hot spots exist) over
one year, with theta = 0.5, omega = 10 per day and, for the space-time model,
sigma = 50 m. The background rate grows with the size, so the density of
candidate pairs does too (the hard case, not a longer, sparser history).
The time of each ETAS ``fit_predict`` (validation, pair search, EM, scores) is
set beside that of the simplest baseline, ``historical_average``, on the same
events in the same run, as a ratio.

    .venv/bin/python bench/etas.py [--sizes 10000 50000 200000] [--seed 2025]

Run it on one core (BLAS threads are set to 1 here, before NumPy is imported).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from observatoire.analytics.forecast import (  # noqa: E402
    Forecast,
    Forecaster,
    GridEtas,
    HistoricalAverage,
    StEtas,
    grid_from_bbox,
    simulate_grid_etas,
    simulate_st_etas,
)

THETA, OMEGA, SIGMA, DAYS = 0.5, 10.0, 50.0, 365.0


def timed(model: Forecaster, events, grid, rng: np.random.Generator) -> tuple[Forecast, float]:
    t0 = time.perf_counter()
    f = model.fit_predict(events, grid, start=0.0, end=DAYS, horizon=7.0, rng=rng)
    return f, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 200_000])
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()

    import scipy.spatial  # noqa: F401  (imported lazily by st_etas: not counted in the first fit)
    import scipy.special  # noqa: F401

    grid = grid_from_bbox(0.0, 0.0, 10_000.0, 10_000.0, 200.0)
    shape = np.random.default_rng(args.seed).gamma(0.5, 1.0, grid.n_cells)
    table = Table(title=f"ETAS fits, truth theta={THETA}, omega={OMEGA}/day, sigma={SIGMA} m, {DAYS:.0f} days")
    for col in ("model", "target N", "events", "pairs", "iters", "fit s", "baseline s", "ratio",
                "theta", "omega", "sigma"):
        table.add_column(col, justify="right")
    for size in args.sizes:
        mu = shape / shape.sum() * size * (1 - THETA) / DAYS
        for label in ("grid_etas", "st_etas"):
            rng = np.random.default_rng([args.seed, size, label == "st_etas"])
            if label == "grid_etas":
                sim = simulate_grid_etas(grid, mu, theta=THETA, omega=OMEGA, duration=DAYS, rng=rng)
                model: Forecaster = GridEtas()
            else:
                sim = simulate_st_etas(grid, mu, theta=THETA, omega=OMEGA, sigma=SIGMA, duration=DAYS, rng=rng)
                model = StEtas()
            _, base_s = timed(HistoricalAverage(), sim.events, grid, rng)
            f, fit_s = timed(model, sim.events, grid, rng)
            p = f.params
            sigma = f"{p['sigma']:.2f}" if "sigma" in p else "-"
            table.add_row(label, f"{size:,}", f"{len(sim.events):,}", f"{int(p['n_pairs']):,}",
                          f"{int(p['iterations'])}", f"{fit_s:.2f}", f"{base_s:.4f}", f"{fit_s / base_s:,.0f}x",
                          f"{p['theta']:.4f}", f"{p['omega']:.3f}", sigma)
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
