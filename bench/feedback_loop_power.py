"""Alarm rate of the feedback-loop monitor on the city urn, with a runaway loop and without one.

The city urn (``audits.urn.city_urn``: 8 zones with known incident rates, 900 days in 20 windows of
45 days, 50 patrols a day, 50 independent reports a day) is run ``REPS`` times with the runaway update
(patrols follow what patrols found) and ``REPS`` times loop-free (patrols at the true shares); the
monitor (``audits.feedback_loop.feedback_monitor``, 499 permutations, alpha 5 %) is applied to each.
Prints the share of runs that alarmed, per update rule.

    .venv/bin/python bench/feedback_loop_power.py [REPS]
"""

from __future__ import annotations

import sys
import time

import numpy as np

from observatoire.audits.feedback_loop import feedback_monitor
from observatoire.audits.urn import city_urn

RATES = np.array([0.3, 0.25, 0.2, 0.15, 0.1, 0.1, 0.05, 0.05])
WINDOW_DAYS = 45


def _windows(x: np.ndarray) -> np.ndarray:
    return x[: (x.shape[0] // WINDOW_DAYS) * WINDOW_DAYS].reshape(-1, WINDOW_DAYS, x.shape[1]).sum(axis=1)


def main(reps: int = 100) -> None:
    rng = np.random.default_rng(2018)
    t0 = time.perf_counter()
    print(f"{'update':>8} {'runs':>5} {'alarmed':>8}")
    for update, label in (("discovered", "runaway"), ("true", "loop-free")):
        alarms = 0
        for _ in range(reps):
            s = city_urn(RATES, days=900, patrols_per_day=50, rng=rng, update=update, report_rate=50)
            alarms += feedback_monitor(_windows(s.directed), _windows(s.reported), rng=rng, permutations=499).alarm
        print(f"{label:>8} {reps:>5} {alarms / reps:>8.3f}")
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
