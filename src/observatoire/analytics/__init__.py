"""Analytics: pure functions over an Ibis table of canonical events.

Every function takes an Ibis table expression (the store's ``events()``) and
returns plain Arrow or Python values, so the same code runs on any Ibis backend
(DuckDB today, Spark later). Nothing here reads settings or writes anything.
"""

from observatoire.analytics.counts import (
    available_months,
    category_counts,
    default_period,
    filter_events,
    source_counts,
    unlocated_count,
    zone_counts,
    zone_rates,
)

__all__ = [
    "available_months",
    "category_counts",
    "default_period",
    "filter_events",
    "source_counts",
    "unlocated_count",
    "zone_counts",
    "zone_rates",
]
