"""Runaway feedback loops: the Pólya-urn model of Ensign et al. (2018) and a city-scale version.

Two-zone urn
------------
The urn holds ``n_A`` and ``n_B`` balls (past discovered incidents). Each day
one patrol is sent to zone A with probability ``p_A = n_A / (n_A + n_B)``
(the urn's *attention share*), else to B. Where it goes it discovers an
incident with the zone's true rate ``λ_i``, and a discovered incident adds a
ball of that zone. The increments are ``p_i λ_i``: attention feeds on itself,
and A's share drifts towards 1 whenever ``λ_A > λ_B`` (it never settles at
the true share ``λ_A / (λ_A + λ_B)``).

The correction (Ensign et al. 2018, §5)
---------------------------------------
A discovered incident in zone ``i`` is kept (added to the urn) with
probability ``(1 − p_i) / max_j (1 − p_j)``, where ``p_i`` is the probability
that the patrol was *sent* to ``i`` — the current attention share, **not** the
true rate. With two zones ``1 − p_A = p_B``, so this keeps an incident with
probability ``min_j p_j / p_i``: importance weighting by ``1 / p_i`` written as
rejection sampling, and the expected increments become ``λ_i min_j p_j``,
proportional to the true rates. The share then converges to
``λ_A / (λ_A + λ_B)``. For more than two zones ``(1 − p_i)`` is no longer
proportional to ``1 / p_i``; :func:`city_urn` uses the general form
``min_j p_j / p_i`` (which equals the paper's for two zones).

Measured (``tests/audits/test_urn.py``, seed 2018, 400 runs of 10,000 days,
one ball each at the start): uncorrected, A's share ends at 0.881 on average
(median 0.933; true 0.6); corrected, 0.5995 on average with 99 % of runs
within 0.6 ± 0.03.

Reference: Ensign, D., Friedler, S. A., Neville, S., Scheidegger, C. &
Venkatasubramanian, S. (2018). Runaway feedback loops in predictive policing.
*Proceedings of the 1st Conference on Fairness, Accountability and
Transparency*, PMLR 81, 160-171.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from observatoire.errors import InputError

__all__ = ["UrnResult", "two_zone_urn", "CityUrnResult", "city_urn", "MAX_DAYS", "MAX_RUNS"]

MAX_DAYS = 100_000
MAX_RUNS = 2_000


@dataclass(frozen=True)
class UrnResult:
    """Final attention share of zone A per run, and its mean trajectory (every ``record_every`` days)."""

    final_share: np.ndarray        # (runs,)
    mean_path: np.ndarray          # (days // record_every,)
    record_every: int
    true_share: float


def _check(days: int, runs: int) -> None:
    if not (1 <= days <= MAX_DAYS) or not (1 <= runs <= MAX_RUNS) or days * runs > 20_000_000:
        raise InputError(f"days must lie in [1, {MAX_DAYS}], runs in [1, {MAX_RUNS}] and days × runs "
                         "≤ 20,000,000")


def two_zone_urn(
    rate_a: float,
    rate_b: float,
    *,
    days: int,
    runs: int,
    rng: np.random.Generator,
    corrected: bool = False,
    start: tuple[float, float] = (1.0, 1.0),
    record_every: int = 100,
) -> UrnResult:
    """Simulate ``runs`` independent two-zone urns for ``days`` days (vectorised over runs).

    Parameters
    ----------
    rate_a, rate_b
        True probability that a patrol sent to the zone discovers an incident, in (0, 1].
    corrected
        Apply the importance-weighting correction (module docstring).
    start
        Initial balls (prior discovered incidents) of A and B, positive.

    Examples
    --------
    >>> r = two_zone_urn(0.3, 0.2, days=5000, runs=50, rng=np.random.default_rng(1), corrected=True)
    >>> abs(float(r.final_share.mean()) - 0.6) < 0.03
    True
    """
    _check(days, runs)
    if not (0 < rate_a <= 1 and 0 < rate_b <= 1) or min(start) <= 0 or record_every < 1:
        raise InputError("rates must lie in (0, 1], the starting balls be positive and record_every ≥ 1")
    a = np.full(runs, float(start[0]))
    b = np.full(runs, float(start[1]))
    path = []
    for day in range(days):
        p = a / (a + b)
        u = rng.random((3, runs))
        to_a = u[0] < p
        found = u[1] < np.where(to_a, rate_a, rate_b)
        if corrected:
            p_sent = np.where(to_a, p, 1.0 - p)
            found &= u[2] < np.minimum(p, 1.0 - p) / p_sent
        a += found & to_a
        b += found & ~to_a
        if (day + 1) % record_every == 0:
            path.append(float((a / (a + b)).mean()))
    return UrnResult(a / (a + b), np.array(path), record_every, rate_a / (rate_a + rate_b))


@dataclass(frozen=True)
class CityUrnResult:
    """Per day and zone: patrols sent, directed discoveries kept, independent reports (arrays ``(days, Z)``)."""

    patrols: np.ndarray
    directed: np.ndarray
    reported: np.ndarray
    final_share: np.ndarray        # attention share per zone at the end
    true_share: np.ndarray


def city_urn(
    rates: np.ndarray,
    *,
    days: int,
    patrols_per_day: int,
    rng: np.random.Generator,
    update: str = "discovered",
    report_rate: float = 0.0,
    start: np.ndarray | None = None,
) -> CityUrnResult:
    """A city of ``Z`` zones: each day's patrols are split by the urn's shares, and the urn learns.

    Each day ``patrols_per_day`` patrols are allocated to zones by a multinomial draw with the
    attention shares ``p`` (the urn's balls, normalised); a patrol in zone ``i`` discovers an incident
    with probability ``rates[i]``. Independently of patrols, each zone produces
    ``Poisson(report_rate × rates[i])`` reported incidents (citizen calls, hospital) per day.

    ``update`` says what feeds the urn: ``"discovered"`` (every directed discovery: the runaway loop),
    ``"corrected"`` (directed discoveries kept with probability ``min_j p_j / p_i``, Ensign et al.'s
    importance weighting), ``"reported"`` (only independent reports: the restriction of training to
    independently reported incidents), or ``"true"`` (patrols fixed at the true shares: a fair,
    loop-free allocation).

    Examples
    --------
    >>> r = city_urn(np.array([0.3, 0.2, 0.1]), days=3000, patrols_per_day=5, rng=np.random.default_rng(0),
    ...              update="corrected")
    >>> np.round(r.final_share, 1).tolist()
    [0.5, 0.3, 0.2]
    """
    lam = np.asarray(rates, dtype=np.float64)
    if lam.ndim != 1 or lam.size < 2 or not np.all((lam > 0) & (lam <= 1)):
        raise InputError("rates must be at least two probabilities in (0, 1]")
    if update not in {"discovered", "corrected", "reported", "true"}:
        raise InputError("update must be one of discovered, corrected, reported, true")
    if not (1 <= patrols_per_day <= 10_000) or report_rate < 0 or days * lam.size > 20_000_000:
        raise InputError("patrols_per_day must lie in [1, 10000], report_rate be ≥ 0, days × zones ≤ 20,000,000")
    _check(days, 1)
    if update == "reported" and report_rate <= 0:
        raise InputError("update='reported' needs a positive report_rate")
    z = lam.size
    balls = np.ones(z) if start is None else np.asarray(start, dtype=np.float64).copy()
    if balls.shape != (z,) or np.any(balls <= 0):
        raise InputError("start must hold one positive number of balls per zone")
    true_share = lam / lam.sum()
    patrols = np.zeros((days, z), dtype=np.int64)
    directed = np.zeros((days, z), dtype=np.int64)
    reported = np.zeros((days, z), dtype=np.int64)
    for day in range(days):
        p = true_share if update == "true" else balls / balls.sum()
        sent = rng.multinomial(patrols_per_day, p)
        found = rng.binomial(sent, lam)
        rep = rng.poisson(report_rate * lam) if report_rate > 0 else np.zeros(z, dtype=np.int64)
        if update == "corrected":
            found = rng.binomial(found, p.min() / p)
        patrols[day], directed[day], reported[day] = sent, found, rep
        if update == "reported":
            balls += rep
        elif update != "true":
            balls += found
    final = true_share if update == "true" else balls / balls.sum()
    return CityUrnResult(patrols, directed, reported, final, true_share)
