"""Small-cell protection: primary suppression under ``k``, secondary suppression checked by an attacker.

Every published number of a release is a sum over cells of one measured table ``y`` (noisy integers,
of any sign). Numbers under ``k`` are suppressed (shown "< k": the attacker learns ``q <= k - 1``);
numbers suppressed to protect them are shown as masked (the attacker learns ``q >= k``). The attacker
knows every other number exactly and solves the linear system: :func:`exposed` bounds each suppressed
number by two linear programmes (HiGHS, through SciPy) over integer-valued ``y`` under all of that (with
``nonnegative=True``, also ``y >= 0``), and a number is recovered when its bounds leave at most one integer. :func:`protect` adds secondary suppressions, the
smallest published sibling first (a number sharing a margin with the exposed one), until none is recovered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix, vstack

PUBLISHED, PRIMARY, SECONDARY = "published", "primary", "secondary"


@dataclass(frozen=True, slots=True)
class Bounds:
    low: float
    high: float

    @property
    def exact(self) -> bool:
        """At most one integer lies within the bounds."""
        return np.floor(self.high + 1e-7) - np.ceil(self.low - 1e-7) < 1


def _rows(supports: Sequence[Sequence[int]], which: Sequence[int], n: int) -> csr_matrix:
    data, cols, ptr = [], [], [0]
    for i in which:
        cols += list(supports[i])
        data += [1.0] * len(supports[i])
        ptr.append(len(cols))
    return csr_matrix((data, cols, ptr), shape=(len(which), n))


def bounds(supports: Sequence[Sequence[int]], values: Sequence[int], status: Sequence[str], k: int,
           n_cells: int, *, nonnegative: bool = False) -> dict[int, Bounds]:
    """Per suppressed number, the least and greatest value the published ones allow.

    ``supports[i]`` are the cells number ``i`` sums, ``values[i]`` its value, ``status[i]`` one of
    ``published``, ``primary`` (shown "< k") or ``secondary`` (masked, at least ``k``).
    """
    pub = [i for i, s in enumerate(status) if s == PUBLISHED]
    prim = [i for i, s in enumerate(status) if s == PRIMARY]
    sec = [i for i, s in enumerate(status) if s == SECONDARY]
    a_eq = _rows(supports, pub, n_cells) if pub else None
    b_eq = np.array([values[i] for i in pub], float) if pub else None
    ub_rows = [_rows(supports, prim, n_cells)] if prim else []
    ub_vals = [np.full(len(prim), k - 1.0)] if prim else []
    if sec:
        ub_rows.append(-_rows(supports, sec, n_cells))
        ub_vals.append(np.full(len(sec), -float(k)))
    a_ub = vstack(ub_rows).tocsr() if ub_rows else None
    b_ub = np.concatenate(ub_vals) if ub_vals else None
    out: dict[int, Bounds] = {}
    cells = (0, None) if nonnegative else (None, None)
    for i in prim + sec:
        c = np.zeros(n_cells)
        c[list(supports[i])] = 1.0
        low = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=cells, method="highs")
        high = linprog(-c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=cells, method="highs")
        for res in (low, high):
            if res.status not in (0, 3):                    # 3: unbounded
                raise RuntimeError(f"suppression check: linear programme failed ({res.message})")
        ends = (-np.inf if low.status == 3 else low.fun, np.inf if high.status == 3 else -high.fun)
        out[i] = Bounds(ends[0], ends[1])
    return out


def exposed(supports: Sequence[Sequence[int]], values: Sequence[int], status: Sequence[str], k: int,
            n_cells: int, *, nonnegative: bool = False) -> list[int]:
    """The suppressed numbers an attacker recovers exactly from the published ones."""
    found = bounds(supports, values, status, k, n_cells, nonnegative=nonnegative)
    return sorted(i for i, b in found.items() if b.exact)


def protect(supports: Sequence[Sequence[int]], values: Sequence[int], k: int, n_cells: int) -> list[str]:
    """Status of each number: primary suppression under ``k``, then secondary until none is recovered.

    For an exposed number ``q``, the candidates are the published numbers that share a margin with it
    (their cells and ``q``'s are disjoint parts of one other number), from the most specific margin; the
    smallest is masked. When no margin has a published part left, the smallest published margin of ``q``
    is masked instead.
    """
    sets = [frozenset(s) for s in supports]
    status = [PRIMARY if v < k else PUBLISHED for v in values]
    while True:
        found = exposed(supports, values, status, k, n_cells)
        if not found:
            return status
        changed = False
        for q in found:
            pick = _candidate(q, sets, values, status)
            if pick is None:
                continue
            status[pick] = SECONDARY
            changed = True
        if not changed:                                   # nothing left to mask: mask every published number
            status = [SECONDARY if s == PUBLISHED else s for s in status]
            return status


def _candidate(q: int, sets: Sequence[frozenset[int]], values: Sequence[int], status: Sequence[str]) -> int | None:
    mine = sets[q]
    parents = sorted((i for i, s in enumerate(sets) if s > mine), key=lambda i: len(sets[i]))
    for p in parents:
        siblings = [i for i, s in enumerate(sets)
                    if status[i] == PUBLISHED and s < sets[p] and not (s & mine)]
        if siblings:
            return min(siblings, key=lambda i: (values[i], len(sets[i]), i))
    margins = [p for p in parents if status[p] == PUBLISHED]
    return min(margins, key=lambda i: (values[i], i)) if margins else None
