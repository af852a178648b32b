"""CompStat-style indicators per zone: pure statistics apart from the data access.

==============  ================================================================  =========
``stats.py``    the statistic on a zones × days count matrix: windows (7 days,    pure
                28 days, year to date), previous period, K-year baseline, exact
                Poisson test, control band, trend and criticality (``Thresholds``)
``daily.py``    a theme's counts per zone and local day per source                pure
                (``DailyCounts``), the sources that compare like with like
                (``comparable``), the statistic at a reference day
``queries.py``  the store's rollups or Ibis queries over its events into          data access
                ``DailyCounts``; the indicators straight from the events
==============  ================================================================  =========

The pure modules take NumPy arrays and plain values (a city profile for zones and
populations) and import neither Ibis nor the store; only ``queries.py`` reads data.
Callers import from here (the names below) or from the module that defines a name.
The method, its thresholds and references are in :mod:`.stats`.
"""

from observatoire.analytics.indicators.daily import Comparable, DailyCounts, comparable, indicators_from_daily
from observatoire.analytics.indicators.queries import (daily_counts, daily_from_rollup, daily_matrix,
                                                       indicators_from_events)
from observatoire.analytics.indicators.stats import (CRITICALITY, INDICATORS_SCHEMA, TRENDS, WINDOWS, Thresholds,
                                                     indicators, poisson_test, required_start)

__all__ = [
    "CRITICALITY",
    "INDICATORS_SCHEMA",
    "TRENDS",
    "WINDOWS",
    "Comparable",
    "DailyCounts",
    "Thresholds",
    "comparable",
    "daily_counts",
    "daily_from_rollup",
    "daily_matrix",
    "indicators",
    "indicators_from_daily",
    "indicators_from_events",
    "poisson_test",
    "required_start",
]
