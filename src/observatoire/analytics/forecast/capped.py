"""A forecaster trained on at most a given number of events: the most recent ones of its window.

With ``n`` training events in ``[start, end)`` and a cap ``m < n``, training starts at
the time of the ``m``-th most recent event, ``t_(n-m+1)`` in increasing order, but
never later than ``end - horizon`` (the last period always trains):

.. math:: \\text{start}' = \\min(\\max(\\text{start}, t_{(n-m+1)}), \\text{end} - \\text{horizon}).

Events at that very time all train, so a fit may see a few more than ``m``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from observatoire.analytics.forecast.grid import EventArrays, Forecast, Forecaster, Grid


@dataclass(frozen=True, eq=False)
class CappedForecaster:
    """``inner`` trained on at most ``max_events`` events: the most recent ones of its window.

    Keeps response times bounded on a city-year; ``fit_predict`` reports the
    training start actually used in ``params["train_start"]``.
    """

    inner: Forecaster
    max_events: int

    @property
    def name(self) -> str:
        return str(self.inner.name)

    def effective_start(self, events: EventArrays, *, start: float, end: float, horizon: float) -> float:
        """The training start actually used for ``[start, end)`` (see the module docstring)."""
        t = events.t[(events.t >= start) & (events.t < end)]
        if t.size <= self.max_events:
            return start
        cut = float(np.sort(t)[t.size - self.max_events])
        return min(max(start, cut), end - horizon)

    def fit_predict(
        self, events: EventArrays, grid: Grid, *, start: float, end: float, horizon: float, rng: np.random.Generator
    ) -> Forecast:
        first = self.effective_start(events, start=start, end=end, horizon=horizon)
        train = events.select((events.t >= first) & (events.t < end))
        result = self.inner.fit_predict(train, grid, start=first, end=end, horizon=horizon, rng=rng)
        return Forecast(result.method, result.scores, {**dict(result.params), "train_start": first})
