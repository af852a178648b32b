"""Coverage and rejection rates of the evaluation designs over repeated simulations with known truth.

For each design, ``--reps`` panels are drawn with a -10 % effect on treated units and as many
with none (``observatoire.evaluation.panel.simulate_panel``: negative binomial counts, unit
levels, common period shocks). Printed per design: the mean estimated rate ratio, the coverage
of the 95 % interval, the power and size of the interval (it excludes 1), the size of the
design's test at 5 % (randomisation inference; for the synthetic control the in-space placebo
test, then the conformal test), the binomial standard error of a 0.95 coverage and of a 0.05
size at this many repetitions, and seconds per repetition.

    .venv/bin/python bench/evaluation_coverage.py --reps 200 [--designs zone,day,did,did16,sc]

``did16`` is the staggered DiD on a Marseille-sized panel (16 zones, cohorts of 3 and 2).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from observatoire.evaluation.did import staggered_did
from observatoire.evaluation.panel import simulate_panel
from observatoire.evaluation.randomised import randomised
from observatoire.evaluation.synthetic import synthetic_control


def randomised_run(scheme: str, effect: float, rng: np.random.Generator):
    u, t, pre = 20, 40, 10
    a = np.zeros((u, t), bool)
    if scheme == "zone":
        a[rng.choice(u, u // 2, replace=False), pre:] = True
    else:
        for j in range(pre, t):
            a[rng.choice(u, u // 2, replace=False), j] = True
    y, _ = simulate_panel(u, t, assignment=a, effect=effect, mean=6.0, dispersion=0.1, rng=rng)
    r = randomised(y[:, pre:], a[:, pre:], baseline=y[:, :pre].mean(axis=1), scheme=scheme, permutations=199, rng=rng)
    return r.estimate.rate_ratio, r.estimate.ci, (r.p_value_ri,)


def did_run(effect: float, rng: np.random.Generator, units: int = 24, cohorts: tuple[int, int] = (6, 6)):
    first = np.full(units, -1)
    first[:cohorts[0]], first[cohorts[0]:sum(cohorts)] = 8, 11
    y, _ = simulate_panel(units, 16, first_treated=first, effect=effect, mean=30.0, dispersion=0.05, rng=rng)
    r = staggered_did(y, first)
    lo, hi = r.ci_effect
    return 1 + r.effect, (1 + lo, 1 + hi), ()


def sc_run(effect: float, rng: np.random.Generator):
    first = np.full(14, -1)
    first[:2] = 16
    y, _ = simulate_panel(14, 24, first_treated=first, effect=effect, mean=40.0, dispersion=0.02, rng=rng)
    # The placebo test only matters without an effect (its size); it is skipped with one, to save time.
    r = synthetic_control(y, first >= 0, 16, max_placebos=0 if effect else 39, rng=rng)
    return 1 + r.effect, (1 + r.ci_effect[0], 1 + r.ci_effect[1]), (r.p_value, r.p_value_conformal)


DESIGNS = {
    "zone": ("randomised (zone)", lambda e, rng: randomised_run("zone", e, rng)),
    "day": ("randomised (day)", lambda e, rng: randomised_run("day", e, rng)),
    "did": ("staggered DiD (csdid, log, CR2)", did_run),
    "did16": ("staggered DiD, 16 zones (3 + 2)", lambda e, rng: did_run(e, rng, 16, (3, 2))),
    "sc": ("synthetic control (conformal)", sc_run),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--designs", default=",".join(DESIGNS), help="comma-separated: " + ",".join(DESIGNS))
    args = parser.parse_args()
    se_cov = math.sqrt(0.95 * 0.05 / args.reps)
    print(f"reps {args.reps}, seed {args.seed}; binomial SE: ±{se_cov:.3f} around 0.95 or 0.05")
    print(f"{'design':<34} {'mean RR':>8} {'coverage':>9} {'power':>7} {'size(CI)':>9} "
          f"{'size(tests)':>13} {'s/rep':>6}")
    for key in args.designs.split(","):
        name, run = DESIGNS[key]
        rng = np.random.default_rng(args.seed)
        t0 = time.perf_counter()
        rows = [run(-0.10, rng) for _ in range(args.reps)]
        nulls = [run(0.0, rng) for _ in range(args.reps)]
        per = (time.perf_counter() - t0) / (2 * args.reps)
        rr = np.mean([r[0] for r in rows])
        coverage = np.mean([lo <= 0.9 <= hi for _, (lo, hi), _ in rows])
        power = np.mean([hi < 1 for _, (lo, hi), _ in rows])
        size_ci = np.mean([not lo <= 1 <= hi for _, (lo, hi), _ in nulls])
        tests = np.array([p for _, _, p in nulls], float)
        size_test = (" / ".join(f"{np.mean(tests[:, j] <= 0.05):.3f}" for j in range(tests.shape[1]))
                     if tests.size else "-")
        print(f"{name:<34} {rr:>8.3f} {coverage:>9.3f} {power:>7.3f} {size_ci:>9.3f} {size_test:>13} {per:>6.2f}",
              flush=True)


if __name__ == "__main__":
    main()
