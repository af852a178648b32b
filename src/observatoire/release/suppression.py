"""Small-cell protection: primary suppression under ``k``, secondary suppression checked by an attacker.

Every published number of a release is a sum over cells of one measured table ``y`` (noisy integers,
of any sign). Numbers under ``k`` are suppressed (shown "< k": the attacker learns ``q <= k - 1``);
numbers suppressed to protect them are shown as masked (the attacker learns ``q >= k``). The attacker
knows every other number exactly and solves the linear system: :func:`bounds` bounds each suppressed
number by two linear programmes (HiGHS) over integer-valued ``y`` under all of that (with
``nonnegative=True``, also ``y >= 0``), and a number is recovered when its bounds leave at most one integer.
:func:`protect` adds secondary suppressions, each time the smallest of the published numbers the attacker's
proof uses, until none is recovered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

PUBLISHED, PRIMARY, SECONDARY = "published", "primary", "secondary"


@dataclass(frozen=True, slots=True)
class Bounds:
    low: float
    high: float
    used: frozenset[int] = frozenset()      # published numbers the attacker's optimal certificates use

    @property
    def exact(self) -> bool:
        """At most one integer lies within the bounds."""
        return np.floor(self.high + 1e-7) - np.ceil(self.low - 1e-7) < 1


def _lp(supports: Sequence[Sequence[int]], values: Sequence[int], status: Sequence[str], k: int, n_cells: int,
        nonnegative: bool):
    """The attacker's feasible set as one HiGHS model: a row per published or suppressed number."""
    import highspy

    rows = [i for i, s in enumerate(status)]
    inf = highspy.kHighsInf
    lower = [float(values[i]) if status[i] == PUBLISHED else (-inf if status[i] == PRIMARY else float(k))
             for i in rows]
    upper = [float(values[i]) if status[i] == PUBLISHED else (k - 1.0 if status[i] == PRIMARY else inf)
             for i in rows]
    start, index = [0], []
    for i in rows:
        index += list(supports[i])
        start.append(len(index))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cells, len(rows)
    lp.col_cost_ = np.zeros(n_cells)
    lp.col_lower_ = np.full(n_cells, 0.0 if nonnegative else -inf)
    lp.col_upper_ = np.full(n_cells, inf)
    lp.row_lower_, lp.row_upper_ = np.array(lower), np.array(upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.array(start, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.ones(len(index))
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("presolve", "off")             # keep the basis between objectives (warm starts)
    h.passModel(lp)
    return h


def _settled() -> tuple:
    import highspy

    m = highspy.HighsModelStatus
    return (m.kOptimal, m.kUnbounded, m.kUnboundedOrInfeasible)


def _optimum(h, cost: np.ndarray) -> tuple[float, np.ndarray]:
    """The minimum of ``cost . y`` over the model (``-inf`` when unbounded) and the rows whose duals are not 0
    (the numbers that prove the bound)."""
    import highspy

    h.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), cost)
    h.run()
    state = h.getModelStatus()
    if state not in _settled():
        # A warm start can leave the simplex stuck on a degenerate basis ("Unknown", rarely "Infeasible" on a
        # feasible model): solve this objective again from scratch, with presolve.
        h.clearSolver()
        h.setOptionValue("presolve", "on")
        h.run()
        state = h.getModelStatus()
        h.setOptionValue("presolve", "off")
    if state == highspy.HighsModelStatus.kOptimal:
        duals = np.asarray(h.getSolution().row_dual)
        return float(h.getInfo().objective_function_value), np.flatnonzero(np.abs(duals) > 1e-9)
    if state in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
        return -np.inf, np.array([], dtype=int)
    raise RuntimeError(f"suppression check: linear programme failed ({h.modelStatusToString(state)})")


def bounds(supports: Sequence[Sequence[int]], values: Sequence[int], status: Sequence[str], k: int,
           n_cells: int, *, nonnegative: bool = False) -> dict[int, Bounds]:
    """Per suppressed number, the least and greatest value the published ones allow.

    ``supports[i]`` are the cells number ``i`` sums, ``values[i]`` its value, ``status[i]`` one of
    ``published``, ``primary`` (shown "< k") or ``secondary`` (masked, at least ``k``). One HiGHS model
    answers every number, warm-started from one objective to the next.
    """
    hidden = [i for i, s in enumerate(status) if s != PUBLISHED]
    if not hidden:
        return {}
    h = _lp(supports, values, status, k, n_cells, nonnegative)
    out: dict[int, Bounds] = {}
    for i in hidden:
        c = np.zeros(n_cells)
        c[list(supports[i])] = 1.0
        low, low_rows = _optimum(h, c)
        high, high_rows = _optimum(h, -c)
        used = frozenset(int(r) for r in np.concatenate([low_rows, high_rows]) if status[r] == PUBLISHED)
        out[i] = Bounds(low, -high, used)
    return out


def exposed(supports: Sequence[Sequence[int]], values: Sequence[int], status: Sequence[str], k: int,
            n_cells: int, *, nonnegative: bool = False) -> list[int]:
    """The suppressed numbers an attacker recovers exactly from the published ones."""
    found = bounds(supports, values, status, k, n_cells, nonnegative=nonnegative)
    return sorted(i for i, b in found.items() if b.exact)


def protect(supports: Sequence[Sequence[int]], values: Sequence[int], k: int, n_cells: int) -> list[str]:
    """Status of each number: primary suppression under ``k``, then secondary until none is recovered.

    For each exposed number, the published numbers its attacker's certificate uses (the rows with non-zero
    duals of the two linear programmes) are the candidates; the smallest is masked. Rounds repeat until no
    suppressed number is recovered; at worst every number is masked.
    """
    status = [PRIMARY if v < k else PUBLISHED for v in values]
    while True:
        found = {i: b for i, b in bounds(supports, values, status, k, n_cells).items() if b.exact}
        if not found:
            return status
        changed = False
        for b in found.values():
            if any(status[r] != PUBLISHED for r in b.used):
                continue                                  # already broken by a mask of this round
            candidates = [r for r in b.used if status[r] == PUBLISHED]
            if candidates:
                status[min(candidates, key=lambda r: (values[r], len(supports[r]), r))] = SECONDARY
                changed = True
        if not changed:                                   # no certificate left to break: mask everything
            return [SECONDARY if s == PUBLISHED else s for s in status]
