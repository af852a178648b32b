"""Utility of the release gate on a simulated city-year: error, suppression and zone ranking, per ε.

Simulates one year of the city (``simulate_city``, seeded), ingests only the exports of the sources the
release gate publishes (``release.toml``'s ``publication.sources``; the simulator writes the logbook,
``mains_courantes*``) through the real pipeline (gate, PII scrubbing, zones, commit) into a temporary
deployment, then, for each whole UTC month of the year, counts the exact zones x categories matrix the
way a release does (``tables.exact_matrix``) and, for each ε and repetition, measures it once with the
release gate's own OpenDP discrete Laplace mechanism (``mechanism.measure``) and post-processes it with
``tables.publish`` (sums, primary and secondary suppression) -- exactly what ``release build`` publishes.

Per table of the release (zone x group cells; zone totals; city group totals; city categories; the city's
unlocated and grand totals), it prints

- the median and 90th percentile of the absolute and relative error of the PUBLISHED numbers against the
  exact ones (the same sums over the exact matrix; relative error over ``max(exact, 1)``; suppressed
  numbers have no value and are not in these rows: see the suppression table);
- the share of numbers suppressed, primary ("< k") and secondary ("masqué");
- per category group, the Spearman rank correlation of the 16 zones' published values against the exact
  ones within each month, summarised over months x repetitions (median and 10th percentile), suppressed
  numbers ranked as a reader of the release would read them: "< k" as (k - 1) / 2, the middle of what it
  says, and "masqué" as k, the least it can be.

OpenDP draws its noise from a cryptographically secure sampler that cannot be seeded, so two runs differ
slightly in the noise (the simulation is seeded); ``--noise numpy`` draws the same discrete Laplace
distribution from a seeded NumPy generator instead, for reproducible numbers.

    .venv/bin/python bench/release_utility.py [--scale 1.0] [--eps 0.25 0.5 1 2 4] [--reps 5] [--seed 2025]
    .venv/bin/python bench/release_utility.py --quick        # scale 0.1, 2 months, 1 repetition, ε 0.25 and 1

Secondary suppression (``suppression.protect``: linear programmes per suppressed number and round) is the
cost of a release; the releases run in ``--jobs`` processes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import multiprocessing as mp
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from rich.console import Console
from rich.table import Table
from scipy.stats import spearmanr

from observatoire.ingest.pipeline import ingest
from observatoire.release.build import month_bounds, next_month, sources_for
from observatoire.release.mechanism import measure
from observatoire.release.suppression import PRIMARY, PUBLISHED, SECONDARY
from observatoire.release.tables import Layout, Number, exact_matrix, numbers, publish
from observatoire.settings import Settings
from observatoire.simulate import simulate_city
from observatoire.sources.registry import load_sources, resolve

END = dt.date(2025, 12, 31)             # the simulated year: 2025, local days
NOW = dt.datetime(2026, 1, 20, tzinfo=dt.UTC)   # the deployment's clock: every 2025 month closed, none expired
MAIN_GROUPS = ("atteintes_biens", "ordre_public", "atteintes_personnes")
TARGET = 0.95
TABLES = ("zone × group", "zone totals", "city group totals", "city categories", "city unlocated + total")


def table_of(n: Number) -> str:
    if n.table == "zones":
        return TABLES[1] if n.column == "total" else TABLES[0]
    if n.row == "groupe":
        return TABLES[2]
    if n.row == "categorie":
        return TABLES[3]
    return TABLES[4]


def whole_months(tz: str, end: dt.date, years: int) -> list[str]:
    """The UTC calendar months wholly inside the simulated local days (a release counts UTC months)."""
    first_day = dt.date(end.year - years, end.month, end.day) + dt.timedelta(days=1)
    start = dt.datetime.combine(first_day, dt.time(), ZoneInfo(tz)).astimezone(dt.UTC)
    stop = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), ZoneInfo(tz)).astimezone(dt.UTC)
    month, out = start.strftime("%Y-%m"), []
    while month_bounds(month)[0] < stop:
        lo, hi = month_bounds(month)
        if lo >= start and hi <= stop:
            out.append(month)
        month = next_month(month)
    return out


def numpy_measure(rng: np.random.Generator, counts: np.ndarray, epsilon: float) -> np.ndarray:
    """The discrete Laplace of ``mechanism.measure`` (scale 1 / ε), from a seeded generator: the
    difference of two geometric variables of success probability ``1 - exp(-ε)``."""
    q = 1.0 - math.exp(-epsilon)
    return counts + rng.geometric(q, counts.shape) - rng.geometric(q, counts.shape)


def release_once(task: tuple) -> list[tuple[int | None, str]]:
    """One release of one month: measure the exact matrix once, publish; (value, status) of every number."""
    flat, eps, k, noise, seed, layout, config = task
    if noise == "opendp":
        m = measure(flat, eps)
        noisy, scale = np.array(m.values), m.scale
    else:
        noisy, scale = numpy_measure(np.random.default_rng(list(seed)), flat, eps), 1.0 / eps
    return [(p.value, p.status) for p in publish(noisy, layout, config, k, scale)]


def q(values: list[float], p: float) -> float:
    return float(np.percentile(values, p)) if values else float("nan")


def fmt(x: float, pct: bool = False, digits: int = 0) -> str:
    if math.isnan(x):
        return "–"
    return f"{x:.{digits}%}" if pct else f"{x:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="event volume of the simulation (1.0: the city)")
    parser.add_argument("--eps", type=float, nargs="+", default=[0.25, 0.5, 1.0, 2.0, 4.0],
                        help="values of ε (the configured one is always added)")
    parser.add_argument("--reps", type=int, default=5, help="measurements per month and ε")
    parser.add_argument("--months", type=int, default=None, help="only the first N whole months")
    parser.add_argument("--seed", type=int, default=2025, help="seed of the simulation (and of --noise numpy)")
    parser.add_argument("--noise", choices=("opendp", "numpy"), default="opendp",
                        help="opendp: the release gate's own mechanism (unseeded); numpy: same law, seeded")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="processes measuring and publishing in parallel (default: every core)")
    parser.add_argument("--quick", action="store_true", help="scale 0.1, 2 months, 1 repetition, ε 0.25 and 1 (the smoke test)")
    args = parser.parse_args()
    if args.quick:
        args.scale, args.months, args.reps, args.eps = 0.1, 2, 1, [0.25, 1.0]
    t_start = time.perf_counter()
    console = Console(width=150)

    with tempfile.TemporaryDirectory(prefix="release-utility-") as tmp:
        home = Path(tmp)
        settings = Settings(**Settings.layout(home), clock=lambda: NOW)
        city = settings.city()
        config = settings.release_config()
        eps_list = sorted(set(args.eps) | {config.epsilon})

        t0 = time.perf_counter()
        summary = simulate_city(city, home / "simulation", seed=args.seed, end=END, years=1, now=settings.clock,
                                scale=args.scale)
        t_sim = time.perf_counter() - t0

        catalogue = load_sources()
        files = sorted(p for p in summary.exports.values() if resolve(p, catalogue).name in config.sources)
        t0 = time.perf_counter()
        store = settings.store(city)
        reports = ingest(files, store=store, city=city, sources=catalogue, gate=settings.gate(create_keys=True),
                         retention_days=dict(settings.retention_days), now=NOW)
        t_ingest = time.perf_counter() - t0
        admitted = sum(r.admitted for r in reports)

        t0 = time.perf_counter()
        events = store.events()
        present = set(events.select("source").distinct().to_pyarrow()["source"].to_pylist())
        layout = Layout.of(city, config)
        nums = numbers(layout, config)
        kinds = [table_of(n) for n in nums]
        months = whole_months(city.timezone, END, 1)[: args.months]
        zone_ids = layout.zones[:-1]
        # errors[table][eps] -> (abs, rel); status[table][eps] -> statuses; rho[group][eps] -> [(rho, all published)]
        errors: dict[str, dict[float, tuple[list[float], list[float]]]] = defaultdict(
            lambda: defaultdict(lambda: ([], [])))
        statuses: dict[str, dict[float, list[str]]] = defaultdict(lambda: defaultdict(list))
        rho: dict[str, dict[float, list[tuple[float, bool]]]] = defaultdict(lambda: defaultdict(list))
        constant: set[str] = set()
        k_used, exact_total = set(), 0
        exacts = []
        for month in months:
            start, _ = month_bounds(month)
            included, _why = sources_for(config, settings.retention_days, start, NOW)
            k = config.k_for(included)
            k_used.add(k)
            exact = exact_matrix(events, layout, month=month, sources=included)
            exact_total += int(exact.sum())
            flat = exact.reshape(-1)
            truth = [int(flat[list(n.cells)].sum()) for n in nums]
            where = {(n.row, n.column): i for i, n in enumerate(nums) if n.table == "zones"}
            exacts.append((flat, truth, where, k))
        tasks = [(mi, ei, rep) for mi in range(len(exacts)) for ei in range(len(eps_list)) for rep in range(args.reps)]
        work = [(exacts[mi][0], eps_list[ei], exacts[mi][3], args.noise, (args.seed, mi, ei, rep), layout, config)
                for mi, ei, rep in tasks]
        if args.jobs > 1 and len(work) > 1:
            with mp.get_context("spawn").Pool(min(args.jobs, len(work))) as pool:
                results = pool.map(release_once, work, chunksize=1)
        else:
            results = [release_once(w) for w in work]
        for (mi, ei, _rep), published in zip(tasks, results):
            _flat, truth, where, k = exacts[mi]
            eps = eps_list[ei]
            for kind, (value, status), x in zip(kinds, published, truth):
                statuses[kind][eps].append(status)
                if status == PUBLISHED:
                    err = abs(value - x)
                    errors[kind][eps][0].append(err)
                    errors[kind][eps][1].append(err / max(x, 1))
            for g in config.groups:
                idx = [where[(z, g.code)] for z in zone_ids]
                exact_z = [truth[i] for i in idx]
                if len(set(exact_z)) == 1:
                    constant.add(g.code)
                    continue
                read = [published[i][0] if published[i][1] == PUBLISHED
                        else (k - 1) / 2 if published[i][1] == PRIMARY else float(k) for i in idx]
                r = spearmanr(exact_z, read).statistic if len(set(read)) > 1 else math.nan
                rho[g.code][eps].append((0.0 if math.isnan(r) else float(r),   # nothing to rank: no agreement
                                         all(published[i][1] == PUBLISHED for i in idx)))
        t_measure = time.perf_counter() - t0

    k_text = "/".join(str(k) for k in sorted(k_used))
    noise = "OpenDP discrete Laplace (unseeded)" if args.noise == "opendp" else f"NumPy discrete Laplace (seed {args.seed})"
    console.print(f"Simulated city-year {END.year} (seed {args.seed}, scale {args.scale:g}); ingested "
                  f"{', '.join(p.name for p in files)}: {admitted:,} events; sources counted: "
                  f"{', '.join(sorted(s for s in config.sources if s in present))}; {len(months)} whole UTC months "
                  f"({months[0]}..{months[-1]}), {exact_total:,} events in published categories; k = {k_text}; "
                  f"{args.reps} measurement(s) per month and ε; noise: {noise}")

    def per_eps_table(title: str, rows: list[tuple[str, list[str]]], first: str = "table") -> None:
        t = Table(title=title)
        t.add_column(first)
        for eps in eps_list:
            t.add_column(f"ε = {eps:g}" + (" (config)" if eps == config.epsilon else ""), justify="right")
        for label, cells in rows:
            t.add_row(label, *cells)
        console.print(t)

    per_eps_table("Absolute error of published numbers |published − exact|: median / 90th percentile", [
        (kind, [f"{fmt(q(errors[kind][e][0], 50), digits=1)} / {fmt(q(errors[kind][e][0], 90), digits=1)}"
                for e in eps_list]) for kind in TABLES])
    per_eps_table("Relative error of published numbers |published − exact| / max(exact, 1): median / 90th percentile", [
        (kind, [f"{fmt(q(errors[kind][e][1], 50), True, 1)} / {fmt(q(errors[kind][e][1], 90), True, 1)}"
                for e in eps_list]) for kind in TABLES])
    per_eps_table(f"Numbers suppressed: primary (< k) / secondary (masqué), share of all numbers of the table", [
        (f"{kind} ({len(statuses[kind][eps_list[0]]) // max(1, len(months) * args.reps)} per month)",
         [f"{np.mean([s == PRIMARY for s in statuses[kind][e]]):.1%} / "
          f"{np.mean([s == SECONDARY for s in statuses[kind][e]]):.1%}" for e in eps_list]) for kind in TABLES])

    def rho_cells(values: list[tuple[float, bool]]) -> str:
        if not values:
            return "–"
        r = [v for v, _ in values]
        full = sum(a for _, a in values) / len(values)
        return f"{q(r, 50):.3f} ({q(r, 10):.3f}) {full:.0%}"

    rows = []
    for g in config.groups:
        label = g.code + (" *" if g.code in MAIN_GROUPS else "")
        if g.code in constant and not rho[g.code]:
            rows.append((label, ["n/a: same exact count in every zone"] * len(eps_list)))
        else:
            rows.append((label, [rho_cells(rho[g.code][e]) for e in eps_list]))
    rows.append(("main groups (*) pooled", [rho_cells([v for g in MAIN_GROUPS for v in rho[g][e]]) for e in eps_list]))
    per_eps_table("Spearman rank correlation of the 16 zones, published vs exact, within each month and group: "
                  "median (10th percentile) over months × repetitions, and the share of months × repetitions with "
                  "every zone published. Suppressed numbers ranked as read: '< k' as (k − 1)/2, 'masqué' as k.",
                  rows, first="group")

    eps0 = config.epsilon
    meds = {g: q([v for v, _ in rho[g][eps0]], 50) for g in MAIN_GROUPS}
    p10s = {g: q([v for v, _ in rho[g][eps0]], 10) for g in MAIN_GROUPS}
    ok = all(m >= TARGET for m in meds.values())
    console.print(
        f"[bold]Defaults (ε = {eps0:g} from release.toml, k = {k_text}): the zone-month ranking of the main groups "
        f"{'KEEPS' if ok else 'does NOT keep'} Spearman ≥ {TARGET} (median over months × repetitions: "
        + ", ".join(f"{g} {meds[g]:.3f}" for g in MAIN_GROUPS) + "; 10th percentile: "
        + ", ".join(f"{g} {p10s[g]:.3f}" for g in MAIN_GROUPS)
        + f"; every 10th percentile ≥ {TARGET}: {'yes' if all(v >= TARGET for v in p10s.values()) else 'no'}).[/bold]")
    console.print(f"wall time {time.perf_counter() - t_start:.0f} s (simulate {t_sim:.0f} s, ingest {t_ingest:.0f} s, "
                  f"measure + publish {t_measure:.0f} s)")


if __name__ == "__main__":
    main()
