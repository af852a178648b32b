"""A seeded, deterministic simulator of a city-year: every source's exports, and the ground truth apart.

See ``docs/simulator.md`` for the generative model and ``docs/sources.md``
for the export formats it writes.
"""

from observatoire.simulate.parameters import SimulationParameters
from observatoire.simulate.run import RECENT_DAYS, SOURCES, SimulationSummary, simulate_city, simulate_city_year

__all__ = ["RECENT_DAYS", "SOURCES", "SimulationParameters", "SimulationSummary", "simulate_city", "simulate_city_year"]
