"""The built-in forecasters, by name; a plug-in implements the same :class:`Forecaster` protocol."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from observatoire.analytics.forecast.baselines import HistoricalAverage, Naive, Prospective
from observatoire.analytics.forecast.grid import Forecaster
from observatoire.analytics.forecast.grid_etas import GridEtas
from observatoire.analytics.forecast.st_etas import StEtas
from observatoire.errors import InputError

FORECASTERS: Mapping[str, type] = MappingProxyType({
    cls.name: cls for cls in (Naive, HistoricalAverage, Prospective, GridEtas, StEtas)
})


def get_forecaster(name: str, **params: Any) -> Forecaster:
    """A forecaster by name, configured at construction (``get_forecaster("grid_etas", t_max=10.0)``)."""
    try:
        cls = FORECASTERS[name]
    except KeyError:
        raise InputError(f"unknown forecaster {name!r}; known: {', '.join(sorted(FORECASTERS))}") from None
    try:
        return cls(**params)
    except TypeError as exc:
        raise InputError(f"bad parameters for forecaster {name!r}: {exc}") from None
