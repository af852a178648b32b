"""Place-based forecasts of where and when incidents are likely: cells and days, never persons.

Every method implements :class:`Forecaster`: ``fit_predict(events, grid, *,
start, end, horizon, rng) -> Forecast``, training on ``start <= t < end`` and
scoring each grid cell for ``[end, end + horizon)``; :class:`EventArrays` is
the one event container. Built-ins are in :data:`FORECASTERS`, plug-ins come
through the ``observatoire.forecasters`` entry points (:func:`load_forecasters`).
The forecasting use-case the API serves is
:mod:`observatoire.analytics.forecast.service` (not imported here: it reads the
store). See ``docs/forecasts.md``. scipy is imported only when a space-time fit
or score is computed.
"""

from observatoire.analytics.forecast.baselines import (
    HistoricalAverage,
    Naive,
    Prospective,
    historical_average_scores,
    naive_scores,
    prospective_scores,
)
from observatoire.analytics.forecast.capped import CappedForecaster
from observatoire.analytics.forecast.grid import (
    EventArrays,
    Forecast,
    Forecaster,
    Grid,
    MethodDefaults,
    assign_cells,
    grid_from_bbox,
    training_events,
)
from observatoire.analytics.forecast.grid_etas import GridEtas, GridEtasFit, fit_grid_etas, grid_etas_scores
from observatoire.analytics.forecast.registry import (
    FORECASTERS,
    GROUP,
    build_forecaster,
    get_forecaster,
    load_forecasters,
    method_defaults,
)
from observatoire.analytics.forecast.simulate import Simulation, simulate_grid_etas, simulate_st_etas
from observatoire.analytics.forecast.st_etas import StEtas, StEtasFit, fit_st_etas, st_etas_scores

__all__ = [
    "FORECASTERS",
    "GROUP",
    "CappedForecaster",
    "EventArrays",
    "Forecast",
    "Forecaster",
    "Grid",
    "GridEtas",
    "GridEtasFit",
    "HistoricalAverage",
    "MethodDefaults",
    "Naive",
    "Prospective",
    "Simulation",
    "StEtas",
    "StEtasFit",
    "assign_cells",
    "build_forecaster",
    "fit_grid_etas",
    "fit_st_etas",
    "get_forecaster",
    "grid_etas_scores",
    "grid_from_bbox",
    "historical_average_scores",
    "load_forecasters",
    "method_defaults",
    "naive_scores",
    "prospective_scores",
    "simulate_grid_etas",
    "simulate_st_etas",
    "st_etas_scores",
    "training_events",
]
