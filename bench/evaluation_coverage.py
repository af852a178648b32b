"""Coverage and rejection rates of the evaluation designs over repeated simulations with known truth.

For each design, ``--reps`` panels are drawn with a -10 % effect on treated units and as many
with none (``observatoire.evaluation.panel.simulate_panel``: negative binomial counts, unit
levels, common period shocks). Printed per design: the mean estimated rate ratio, the coverage
of the 95 % interval, and the rejection rate at 5 % (power with the effect; size without).

    .venv/bin/python bench/evaluation_coverage.py --reps 200
"""

from __future__ import annotations

import argparse
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
    return r.estimate.rate_ratio, r.estimate.ci, r.p_value_ri


def did_run(effect: float, rng: np.random.Generator):
    first = np.full(24, -1)
    first[:6], first[6:12] = 8, 11
    y, _ = simulate_panel(24, 16, first_treated=first, effect=effect, mean=30.0, dispersion=0.05, rng=rng)
    r = staggered_did(y, first)
    lo, hi = r.ci_effect
    return 1 + r.effect, (1 + lo, 1 + hi), None


def sc_run(effect: float, rng: np.random.Generator):
    first = np.full(14, -1)
    first[:2] = 16
    y, _ = simulate_panel(14, 24, first_treated=first, effect=effect, mean=40.0, dispersion=0.02, rng=rng)
    r = synthetic_control(y, first >= 0, 16, max_placebos=60, rng=rng)
    return 1 + r.effect, (1 + r.ci_effect[0], 1 + r.ci_effect[1]), r.p_value


DESIGNS = {
    "randomised (zone)": lambda e, rng: randomised_run("zone", e, rng),
    "randomised (day)": lambda e, rng: randomised_run("day", e, rng),
    "staggered DiD (csdid, log)": did_run,
    "synthetic control (pysyncon)": sc_run,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    print(f"{'design':<30} {'mean RR':>8} {'coverage':>9} {'power':>7} {'size(CI)':>9} {'size(test)':>10} {'s/rep':>6}")
    for name, run in DESIGNS.items():
        rng = np.random.default_rng(args.seed)
        t0 = time.perf_counter()
        rows = [run(-0.10, rng) for _ in range(args.reps)]
        nulls = [run(0.0, rng) for _ in range(args.reps)]
        per = (time.perf_counter() - t0) / (2 * args.reps)
        rr = np.mean([r[0] for r in rows])
        coverage = np.mean([lo <= 0.9 <= hi for _, (lo, hi), _ in rows])
        power = np.mean([hi < 1 for _, (lo, hi), _ in rows])
        size_ci = np.mean([not lo <= 1 <= hi for _, (lo, hi), _ in nulls])
        tests = [p for _, _, p in nulls if p is not None]
        size_test = f"{np.mean([p < 0.05 for p in tests]):.3f}" if tests else "-"
        print(f"{name:<30} {rr:>8.3f} {coverage:>9.3f} {power:>7.3f} {size_ci:>9.3f} {size_test:>10} {per:>6.2f}")


if __name__ == "__main__":
    main()
