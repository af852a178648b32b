"""Candidate (parent, child) pairs for self-exciting fits, truncated in time and space.

An event ``i`` can trigger ``j`` only if ``0 < t_j - t_i <= t_max`` (and, in
space, ``|x_j - x_i| <= d_max``). Events at exactly the same time never trigger
each other (the intensity is a sum over ``t_i < t``), so exact duplicates are
both left to the background instead of producing a zero time gap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Pairs:
    """Parallel arrays over candidate pairs: parent ``i``, child ``j``, time gap ``dt`` > 0, squared distance ``d2``."""

    i: np.ndarray
    j: np.ndarray
    dt: np.ndarray
    d2: np.ndarray

    def __len__(self) -> int:
        return int(self.i.shape[0])


def _ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All ``(k, m)`` with ``lo[m] <= k < hi[m]``, vectorised (no Python loop over events)."""
    counts = hi - lo
    total = int(counts.sum())
    m = np.repeat(np.arange(lo.shape[0]), counts)
    starts = np.cumsum(counts) - counts
    k = np.repeat(lo, counts) + (np.arange(total) - np.repeat(starts, counts))
    return k, m


def same_cell_pairs(t: np.ndarray, cell: np.ndarray, t_max: float) -> Pairs:
    """Pairs of events in the same cell with ``0 < t_j - t_i <= t_max``.

    Sorts by (cell, time) and finds, for each event, the first earlier event of
    its cell within ``t_max`` with one ``searchsorted``; O(N log N + pairs).
    """
    order = np.lexsort((t, cell))
    ts = t[order]
    cs = cell[order]
    # Each cell's events are moved to their own stretch of the line, far apart.
    span = float(ts.max() - ts.min()) + 2.0 * t_max + 1.0 if ts.size else 1.0
    key = (cs - cs.min() if cs.size else cs) * span + (ts - (ts.min() if ts.size else 0.0))
    lo = np.searchsorted(key, key - t_max, side="left")
    hi = np.searchsorted(key, key, side="left")  # strictly earlier times only
    k, m = _ranges(lo, hi)
    dt = ts[m] - ts[k]
    keep = (dt > 0) & (dt <= t_max) & (cs[k] == cs[m])
    i, j = order[k[keep]], order[m[keep]]
    return Pairs(i, j, dt[keep], np.zeros(int(keep.sum())))


def space_time_pairs(t: np.ndarray, x: np.ndarray, y: np.ndarray, t_max: float, d_max: float) -> Pairs:
    """Pairs with ``0 < t_j - t_i <= t_max`` and distance ``<= d_max``, found with a k-d tree.

    Time is rescaled by ``d_max / t_max`` so that one Chebyshev-ball query of
    radius ``d_max`` in (x, y, scaled t) returns the space-time box; the box is
    then cut to the disc and the time window. Memory and time grow with the
    number of pairs in the box, not with N².
    """
    from scipy.spatial import cKDTree  # heavy import, only when a space-time fit is asked for

    if t.size < 2:
        empty = np.zeros(0)
        return Pairs(empty.astype(np.int64), empty.astype(np.int64), empty, empty)
    scale = d_max / t_max
    pts = np.column_stack([x, y, (t - t.min()) * scale])
    raw = cKDTree(pts).query_pairs(d_max * (1 + 1e-12), p=np.inf, output_type="ndarray")
    a, b = raw[:, 0], raw[:, 1]
    later = t[b] >= t[a]
    i = np.where(later, a, b)
    j = np.where(later, b, a)
    dt = t[j] - t[i]
    d2 = (x[j] - x[i]) ** 2 + (y[j] - y[i]) ** 2
    keep = (dt > 0) & (dt <= t_max) & (d2 <= d_max**2)
    return Pairs(i[keep], j[keep], dt[keep], d2[keep])
