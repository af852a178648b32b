"""The one noise mechanism of the release gate: OpenDP's discrete Laplace on a vector of counts.

A release measures one table of counts (zones x categories of one month). Adding or removing one event
changes one cell by one, so the table's L1 sensitivity is 1, and ``opendp.measurements.make_laplace`` on
integer vectors with ``scale = 1 / epsilon`` is ``epsilon``-differentially private (pure DP; OpenDP's
``map(1)`` gives the loss recorded in the ledger, not our own arithmetic). The noise is drawn by OpenDP's
own cryptographically secure sampler, which cannot be seeded: a release is reproduced from its stored
measurement (see :mod:`observatoire.release.build`), not by drawing again.

The margins of error stated to the public are exact quantiles of the noise of a published number: the sum
of ``n`` independent discrete Laplace variables of scale ``b`` (pmf ``(1 - p) / (1 + p) * p**|x|``,
``p = exp(-1 / b)``), computed by convolution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from observatoire.errors import InputError

MECHANISM = "discrete_laplace"
SENSITIVITY = 1          # L1: one event is one cell of one table, changed by one


@dataclass(frozen=True, slots=True)
class Measurement:
    """Noisy counts and what they cost."""

    values: tuple[int, ...]
    epsilon: float           # as OpenDP's privacy map states it
    scale: float


def _measurement(scale: float):
    # The modules themselves, not opendp.prelude (which imports its scikit-learn extras: seconds).
    from opendp.domains import atom_domain, vector_domain
    from opendp.measurements import make_laplace
    from opendp.metrics import l1_distance
    from opendp.mod import enable_features

    enable_features("contrib")
    return make_laplace(vector_domain(atom_domain(T=int)), l1_distance(T=int), scale=scale)


def privacy_loss(epsilon: float) -> float:
    """The loss OpenDP's privacy map states for the measurement of scale ``1 / epsilon`` (sensitivity 1)."""
    if not epsilon > 0 or not math.isfinite(epsilon):
        raise InputError(f"epsilon must be a positive number, not {epsilon!r}")
    return float(_measurement(1.0 / epsilon).map(SENSITIVITY))


def measure(counts: list[int] | np.ndarray, epsilon: float) -> Measurement:
    """Add discrete Laplace noise of scale ``1 / epsilon`` to every count (OpenDP).

    Raises
    ------
    InputError
        When ``epsilon`` is not positive or a count is negative or not an integer.
    """
    if not epsilon > 0 or not math.isfinite(epsilon):
        raise InputError(f"epsilon must be a positive number, not {epsilon!r}")
    values = [int(v) for v in counts]
    if any(v < 0 for v in values) or any(int(v) != v for v in counts):
        raise InputError("counts must be non-negative integers")
    scale = 1.0 / epsilon
    meas = _measurement(scale)
    spent = float(meas.map(SENSITIVITY))
    return Measurement(tuple(int(v) for v in meas(values)), spent, scale)


@lru_cache(maxsize=256)
def _sum_pmf(n: int, scale: float) -> tuple[np.ndarray, int]:
    """pmf of the sum of ``n`` discrete Laplace(scale) variables on ``[-m, m]`` and ``m``."""
    p = math.exp(-1.0 / scale)
    half = int(math.ceil(scale * 40)) + 1                     # tail mass p**half < 1e-17
    x = np.arange(-half, half + 1)
    one = (1 - p) / (1 + p) * p ** np.abs(x)
    pmf = np.array([1.0])
    for _ in range(n):
        pmf = np.convolve(pmf, one)
    return pmf, (len(pmf) - 1) // 2


def margin(n_cells: int, scale: float, level: float = 0.95) -> int:
    """The smallest ``m`` with ``P(|noise| <= m) >= level`` for a number summing ``n_cells`` noisy cells.

    >>> margin(1, 1.0)        # discrete Laplace of scale 1: P(|X| <= 3) = 1 - 2 p**4 / (1 + p) = 0.973
    3
    """
    if n_cells < 1:
        raise InputError("a published number sums at least one cell")
    pmf, m = _sum_pmf(n_cells, float(scale))
    inside = pmf[m]
    for r in range(1, m + 1):
        inside += pmf[m - r] + pmf[m + r]
        if inside >= level:
            return r
    return m


def noise_sd(n_cells: int, scale: float) -> float:
    """Standard deviation of the noise of a number summing ``n_cells`` noisy cells:
    ``sqrt(n * 2p / (1 - p)**2)``, ``p = exp(-1 / scale)``."""
    p = math.exp(-1.0 / scale)
    return math.sqrt(n_cells * 2 * p / (1 - p) ** 2)
