"""Forecasts against the oracle: each method's hit rate and PAI at 5 % of the area beside the simulator's truth.

On a simulated city-year, every method is trained on what the observatory sees (the true incidents the
municipal logbook recorded, with their true points) and judged on *all* the true incidents of the following
week, at weekly rolling origins. The oracle ranks the cells by the simulator's own expected count for that
week: the background intensity (zone rates × hotspot mixture, Monte Carlo over the simulator's sampler, × the
share of the week in the seasonal, weekly and daily profiles) plus the expected offspring of every true
incident before the origin (branching ratio θ, exponential delay, Gaussian displacement), first generation.
No method can beat it on average; the gap is what is left to learn.

    .venv/bin/python bench/oracle.py                       # scale 1 (about 210,000 true incidents)
    .venv/bin/python bench/oracle.py --scale 0.1 --origins 4
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from observatoire.analytics.evaluate import evaluate  # noqa: E402
from observatoire.analytics.forecast import FORECASTERS, get_forecaster, method_defaults  # noqa: E402
from observatoire.analytics.forecast.grid import EventArrays, assign_cells  # noqa: E402
from observatoire.analytics.places import city_grid  # noqa: E402
from observatoire.city.profile import CityProfile, load_city  # noqa: E402
from observatoire.simulate import SimulationParameters, simulate_city_year  # noqa: E402
from observatoire.simulate.clock import make_clock  # noqa: E402
from observatoire.simulate.geography import make_frame, make_hotspots, sample_in_zones  # noqa: E402
from observatoire.simulate.incidents import background_rates, time_weights  # noqa: E402
from observatoire.simulate.run import STEPS  # noqa: E402
from observatoire.simulate.vocab import INCIDENT_CATEGORIES  # noqa: E402

DAY_S = 86_400
METHODS = ("naive", "historical_average", "prospective", "grid_etas")
TRAIN_CAP = 20_000   # most recent training events per fit, as the API does for grid ETAS


@dataclass(frozen=True)
class Score:
    method: str
    hit_rate: float
    pai: float
    origins: int


def oracle_comparison(city: CityProfile, out_dir: Path, *, seed: int = 2025, year: int = 2025, scale: float = 1.0,
                      cell_m: float = 250.0, k: float = 0.05, horizon_days: int = 7, origins: int = 8,
                      methods: tuple[str, ...] = METHODS, samples: int = 400_000) -> list[Score]:
    """Simulate a city-year under ``out_dir`` and score each method and the oracle at weekly origins.

    The last origin is ``horizon_days`` before the year's end, the others a week apart before it.
    Returns one :class:`Score` per method, then ``oracle``: mean hit rate and PAI over the origins.
    """
    params = SimulationParameters()
    simulate_city_year(city, out_dir, seed=seed, year=year, scale=scale)
    truth = pq.read_table(out_dir / "truth" / "incidents.parquet",
                          columns=["occurred_at", "lon", "lat", "recorded_logbook"])
    clock = make_clock(city.timezone, year)
    cgrid = city_grid(city, cell_m)
    grid = cgrid.grid
    active = grid.active
    t = (truth["occurred_at"].cast("int64").to_numpy() / 1e6 - clock.start) / DAY_S
    x, y = cgrid.project(truth["lon"].to_numpy(), truth["lat"].to_numpy())
    cell = assign_cells(grid, x, y)
    recorded = truth["recorded_logbook"].to_numpy(zero_copy_only=False)
    seen = EventArrays.on_grid(t[recorded], x[recorded], y[recorded], grid)

    # The oracle's spatial background: the simulator's own sampler, with the run's hotspots.
    rng_sim = dict(zip(STEPS, np.random.default_rng(seed).spawn(len(STEPS))))
    frame = make_frame(city)
    hotspots = make_hotspots(rng_sim["hotspots"], frame, params.incidents.hotspots_per_zone,
                             params.incidents.hotspot_sigma_m)
    rates = background_rates(frame, params.incidents, scale)
    rng = np.random.default_rng(seed + 1)
    zone = rng.choice(frame.n_zones, samples, p=rates.per_zone / rates.per_zone.sum())
    bx, by = sample_in_zones(rng, frame, hotspots, zone, params.incidents.hotspot_weight)
    bcell = assign_cells(grid, bx, by)
    background = np.bincount(bcell[bcell >= 0], minlength=grid.n_cells) / samples
    bins, cdfs = time_weights(clock, params.incidents)
    shares = np.array([params.incidents.category_shares[c] for c in INCIDENT_CATEGORIES])
    shares = shares / shares.sum()
    theta = params.incidents.branching_ratio
    tau = params.incidents.offspring_delay_mean_days
    sigma = params.incidents.offspring_sigma_m
    offsets = rng.standard_normal((2, 32)) * sigma

    def oracle_scores(origin: float) -> np.ndarray:
        lo, hi = clock.start + origin * DAY_S, clock.start + (origin + horizon_days) * DAY_S
        a, b = np.searchsorted(bins, [lo, hi]) - 1
        mass = sum(s * (cdfs[c][min(b, len(bins) - 1)] - cdfs[c][max(a, 0)]) for c, s in zip(INCIDENT_CATEGORIES,
                                                                                              shares))
        expected = background * rates.per_zone.sum() * mass
        parents = np.flatnonzero((t < origin) & (t > origin - 10 * tau))
        dt = origin - t[parents]
        m = theta * (np.exp(-dt / tau) - np.exp(-(dt + horizon_days) / tau))
        ox = (x[parents, None] + offsets[0]).ravel()
        oy = (y[parents, None] + offsets[1]).ravel()
        oc = assign_cells(grid, ox, oy)
        w = np.repeat(m / offsets.shape[1], offsets.shape[1])
        return expected + np.bincount(oc[oc >= 0], weights=w[oc >= 0], minlength=grid.n_cells)

    last = float(clock.days - horizon_days)
    starts = [last - 7 * i for i in range(origins - 1, -1, -1)]
    area = np.ones(int(active.sum()))
    results: dict[str, list[tuple[float, float]]] = {m: [] for m in (*methods, "oracle")}
    for i, origin in enumerate(starts):
        target = (t >= origin) & (t < origin + horizon_days) & (cell >= 0)
        observed = np.bincount(cell[target], minlength=grid.n_cells)[active]
        fit_rng, eval_rng = np.random.default_rng([seed, i]).spawn(2)
        for name in methods:
            train = seen.select((seen.t < origin) & (seen.t >= origin - 365))
            if len(train) > TRAIN_CAP:
                train = train.select(np.arange(len(train)) >= len(train) - TRAIN_CAP)
            start = float(train.t.min()) if name.endswith("etas") and len(train) else max(0.0, origin - 365)
            model = get_forecaster(name, **method_defaults(FORECASTERS[name]).settings)
            forecast = model.fit_predict(train, grid, start=start, end=origin, horizon=float(horizon_days),
                                         rng=fit_rng)
            ev = evaluate(np.asarray(forecast.scores)[active], observed, area, k, eval_rng)
            results[name].append((ev.hit_rate, ev.pai))
        ev = evaluate(oracle_scores(origin)[active], observed, area, k, eval_rng)
        results["oracle"].append((ev.hit_rate, ev.pai))
    return [Score(m, float(np.nanmean([r[0] for r in v])), float(np.nanmean([r[1] for r in v])), len(v))
            for m, v in results.items()]


def main() -> None:
    from rich.console import Console
    from rich.table import Table

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--origins", type=int, default=8)
    ap.add_argument("--cell-m", type=float, default=250.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scores = oracle_comparison(load_city(), Path(tmp), seed=args.seed, scale=args.scale,
                                   cell_m=args.cell_m, origins=args.origins)
    table = Table(title=f"Hit rate and PAI at 5 % of the area, {args.origins} weekly origins, "
                        f"{args.cell_m:g} m cells, scale {args.scale:g}, seed {args.seed} "
                        "(trained on logbook-recorded incidents, judged on all true incidents)")
    for col in ("method", "hit rate", "PAI", "share of the oracle's hit rate"):
        table.add_column(col, justify="left" if col == "method" else "right")
    oracle = next(s for s in scores if s.method == "oracle")
    for s in scores:
        table.add_row(s.method, f"{s.hit_rate:.3f}", f"{s.pai:.2f}", f"{s.hit_rate / oracle.hit_rate:.0%}")
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
