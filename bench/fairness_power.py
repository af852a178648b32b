"""Power and false-flag rate of the fairness audit's flag rule on simulations with known truth.

Two area groups at equal need per resident (``audits.fairness.simulate_allocation``); the allocation
gives group "b" ``attention_ratio`` times the attention its need calls for. For each size and ratio,
``REPS`` simulations; a simulation is flagged when the need-adjusted ratio's whole 95 % bootstrap
interval lies outside [0.8, 1.25]. Prints a table (share flagged, mean ratio, mean interval width).

    .venv/bin/python bench/fairness_power.py [REPS]
"""

from __future__ import annotations

import sys
import time

import numpy as np

from observatoire.audits.fairness import exposure_audit, simulate_allocation

SIZES = (25, 50, 100, 150, 300)
RATIOS = (1.0, 1.2, 1.3, 1.5, 2.0)


def main(reps: int = 500) -> None:
    rng = np.random.default_rng(20250601)
    t0 = time.perf_counter()
    print(f"{'units/group':>11} {'ratio':>6} {'flagged':>8} {'mean ratio':>10} {'CI width':>9}")
    for size in SIZES:
        for ratio in RATIOS:
            flags, points, widths = 0, [], []
            for _ in range(reps):
                s = simulate_allocation(rng, units_per_group=size, attention_ratio=ratio)
                audit = exposure_audit(s["group"], s["residents"], s["exposure"], s["need"], reference="a", rng=rng,
                                       n_boot=1000)
                r = next(x for x in audit.ratios if x.measure == "per_need")
                flags += r.flagged
                points.append(r.ratio)
                widths.append(r.ci_high - r.ci_low)
            print(f"{size:>11} {ratio:>6.2f} {flags / reps:>8.1%} {np.mean(points):>10.3f} {np.mean(widths):>9.3f}")
    print(f"# {reps} simulations per row, {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
