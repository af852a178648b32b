"""The public entry points: simulate a city over a period, write its exports and, apart, its ground truth.

``simulate_city`` simulates the ``years`` ending at a date (default: yesterday),
the short-lived sources only over their last weeks; ``simulate_city_year``
simulates one civil year, every source over all of it.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Callable, Mapping

import numpy as np

from observatoire.city.profile import CityProfile
from observatoire.errors import InputError
from observatoire.simulate import truth
from observatoire.simulate.cameras import camera_tree, sightings, simulate_cameras
from observatoire.simulate.cctv_events import simulate_cctv_events, write_cctv_events
from observatoire.simulate.clock import Clock, make_clock, make_period
from observatoire.simulate.exports import write_cameras, write_patrols, write_planned_events
from observatoire.simulate.fines import simulate_fines, write_fines
from observatoire.simulate.geography import make_frame, make_hotspots
from observatoire.simulate.hospital import simulate_hospital, write_hospital
from observatoire.simulate.incidents import background_rates, simulate_incidents
from observatoire.simulate.logbook import simulate_logbook, write_logbook
from observatoire.simulate.parameters import SimulationParameters
from observatoire.simulate.patrols import simulate_patrols
from observatoire.simulate.planned import simulate_planned_events
from observatoire.simulate.reports import simulate_reports, write_reports
from observatoire.simulate.social import simulate_posts, write_posts
from observatoire.simulate.stops import simulate_stops, write_stops, write_stops_truth

# One child generator per step, spawned in this order from the run's seed: a
# step's draws never depend on how many numbers another step consumed.
STEPS: tuple[str, ...] = ("hotspots", "incidents", "patrols", "planned_events", "cameras", "logbook",
                          "fines", "reports", "cctv_events", "hospital", "social_media", "stops")
SOURCES: tuple[str, ...] = ("mains_courantes", "verbalisations", "municipal_reports", "cctv_cameras", "cctv_events",
                            "hospital", "social_media", "planned_events", "patrols", "stops")

# Sources kept only a short while (governance/retention.toml: CCTV events and
# posts 30 days, hospital records 365) are simulated over their last days only,
# with a margin: older records would be hidden at query time anyway.
RECENT_DAYS: Mapping[str, int] = MappingProxyType({"cctv_events": 45, "social_media": 45, "hospital": 400})

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class SimulationSummary:
    """What a run wrote: export and truth files, rows per source, true incidents, wall time."""

    out_dir: Path
    exports: dict[str, Path]
    truth: dict[str, Path]
    rows: dict[str, int]
    incidents: int
    seconds: float

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def simulate_city_year(city: CityProfile, out_dir: Path, *, seed: int = 2025, year: int = 2025,
                       scale: float = 1.0, progress: Progress | None = None,
                       parameters: SimulationParameters | None = None) -> SimulationSummary:
    """Simulate one year of ``city`` and write it under ``out_dir``.

    Writes ``out_dir/exports/<source>_<year>.csv|jsonl`` in the formats of
    ``docs/sources.md`` and ``out_dir/truth/`` (parameters, true incidents,
    zone rates, personal data inserted in free text, record-to-truth links).
    The same ``seed``, ``year``, ``scale`` and parameters give byte-identical
    files. See ``docs/simulator.md`` for the model.

    Parameters
    ----------
    city : CityProfile
        Zones with population, ``deprivation`` covariate, postcodes and geometry.
    out_dir : Path
        Created if missing; existing files of the same names are replaced.
    seed : int
        Seed of the run's single ``numpy.random.Generator``.
    year : int
        The local civil year simulated.
    scale : float
        Multiplies every event volume (tests use 0.02-0.05); the structural
        data sets (patrol table, camera registry, event calendar) keep their size.
    progress : callable, optional
        ``progress(step_name, fraction_done)``, called between steps.
    parameters : SimulationParameters, optional
        Overrides of the documented defaults.

    Returns
    -------
    SimulationSummary
    """
    if not 1 <= year <= 9998:
        raise InputError(f"year must be a calendar year, got {year!r}")
    return _simulate(city, out_dir, make_clock(city.timezone, year), str(year), {}, seed=seed, scale=scale,
                     progress=progress, parameters=parameters)


def simulated_days(end: dt.date | dt.datetime | None, years: int,
                   now: Callable[[], dt.datetime] | None = None) -> tuple[dt.date, dt.date]:
    """The first and last day :func:`simulate_city` simulates: ``years`` years ending on ``end`` (default:
    yesterday by ``now``), the first day being the day after ``end`` minus ``years`` years."""
    if not isinstance(years, int) or not 1 <= years <= 20:
        raise InputError(f"years must be an integer from 1 to 20, got {years!r}")
    if end is None:
        end = (now or (lambda: dt.datetime.now(dt.UTC)))().date() - dt.timedelta(days=1)
    elif isinstance(end, dt.datetime):
        end = end.date()
    if not isinstance(end, dt.date) or not dt.date(1900 + years, 1, 1) <= end <= dt.date(9998, 12, 31):
        raise InputError(f"end must be a date, got {end!r}")
    try:
        first = end.replace(year=end.year - years) + dt.timedelta(days=1)
    except ValueError:  # 29 February
        first = dt.date(end.year - years, 3, 1)
    return first, end


def simulate_city(city: CityProfile, out_dir: Path, *, seed: int = 2025, end: dt.date | None = None,
                  years: int = 3, now: Callable[[], dt.datetime] | None = None, scale: float = 1.0,
                  recent_days: Mapping[str, int] | None = None, progress: Progress | None = None,
                  parameters: SimulationParameters | None = None) -> SimulationSummary:
    """Simulate ``city`` over the ``years`` years ending on the local day ``end`` (included).

    The long-lived sources (logbook, fines, municipal reports, patrols,
    planned events) cover the whole period; those kept a short while cover
    only their last ``recent_days`` (default :data:`RECENT_DAYS`: CCTV events
    and posts 45 days, hospital 400 days). Exports are named
    ``<source>_<first>_<last>.csv|jsonl`` (``YYYYMMDD``). The same ``seed``,
    dates, ``scale`` and parameters give byte-identical files.

    Parameters
    ----------
    city : CityProfile
        Zones with population, ``deprivation`` covariate, postcodes and geometry.
    out_dir : Path
        Created if missing; existing files of the same names are replaced.
    seed : int
        Seed of the run's single ``numpy.random.Generator``.
    end : datetime.date, optional
        Last simulated day (local). Default: the day before ``now()``'s date.
    years : int
        Length of the period: from ``end`` minus ``years`` years, plus one day, to ``end``.
    now : callable, optional
        The clock used when ``end`` is None (``settings.clock``); default: the system clock, UTC.
    scale : float
        Multiplies every event volume.
    recent_days : mapping, optional
        Days simulated per short-lived source (``cctv_events``, ``social_media``, ``hospital``).
    progress, parameters
        As for :func:`simulate_city_year`.

    Returns
    -------
    SimulationSummary
    """
    first, end = simulated_days(end, years, now)
    windows = dict(RECENT_DAYS if recent_days is None else recent_days)
    unknown = sorted(set(windows) - set(RECENT_DAYS))
    if unknown or any(not isinstance(d, int) or d < 1 for d in windows.values()):
        raise InputError(f"recent_days takes positive day counts for {', '.join(RECENT_DAYS)}; "
                         f"got {', '.join(sorted(windows))}")
    label = f"{first:%Y%m%d}_{end:%Y%m%d}"
    return _simulate(city, out_dir, make_period(city.timezone, first, end), label, windows, seed=seed,
                     scale=scale, progress=progress, parameters=parameters)


def _simulate(city: CityProfile, out_dir: Path, clock: Clock, label: str, windows: Mapping[str, int], *,
              seed: int, scale: float, progress: Progress | None,
              parameters: SimulationParameters | None) -> SimulationSummary:
    if not scale > 0:
        raise InputError(f"scale must be positive, got {scale!r}")
    started = time.perf_counter()
    params = parameters or SimulationParameters()
    report = progress or (lambda step, fraction: None)
    out_dir = Path(out_dir)
    exports_dir, truth_dir = out_dir / "exports", out_dir / "truth"
    rng = dict(zip(STEPS, np.random.default_rng(seed).spawn(len(STEPS))))
    frame = make_frame(city)
    recent = {name: clock.tail(windows.get(name)) for name in RECENT_DAYS}
    n_steps = len(STEPS) + 1
    done = 0

    def step(name: str) -> np.random.Generator:
        nonlocal done
        report(name, done / n_steps)
        done += 1
        return rng[name]

    hotspots = make_hotspots(step("hotspots"), frame, params.incidents.hotspots_per_zone,
                             params.incidents.hotspot_sigma_m)
    incidents = simulate_incidents(step("incidents"), frame, clock, hotspots, params.incidents, scale)
    rates = background_rates(frame, params.incidents, scale)
    patrols = simulate_patrols(step("patrols"), frame, clock, rates.need_share, params.patrols)
    planned = simulate_planned_events(step("planned_events"), clock, params.planned)
    cameras = simulate_cameras(step("cameras"), frame, clock, hotspots, params.cctv)
    tree = camera_tree(cameras)
    pairs = sightings(cameras, tree, incidents.x, incidents.y, incidents.t)
    first_camera = np.full(len(incidents), -1, dtype=np.int64)
    seen, first = np.unique(pairs[0], return_index=True)  # pairs are sorted by incident, then camera
    first_camera[seen] = pairs[1][first]
    logbook = simulate_logbook(step("logbook"), frame, clock, hotspots, incidents, patrols, first_camera,
                               cameras.ids, params.logbook, scale)
    fines = simulate_fines(step("fines"), frame, clock, hotspots, patrols, params.fines, scale)
    reports = simulate_reports(step("reports"), frame, clock, hotspots, incidents, logbook, patrols, cameras,
                               first_camera, params.reports, scale)
    cctv = simulate_cctv_events(step("cctv_events"), recent["cctv_events"], cameras, tree, incidents, pairs, planned,
                                frame, params.cctv, scale)
    admissions = simulate_hospital(step("hospital"), incidents, params.hospital, since=recent["hospital"].start)
    posts = simulate_posts(step("social_media"), frame, recent["social_media"], hotspots, incidents, planned, params.social, scale)
    centre = city.outline.centroid
    stops = simulate_stops(step("stops"), frame, clock, patrols, params.stops, scale, lat=float(centre.y),
                           lon=float(centre.x))

    report("writing", done / n_steps)
    paths = {s: exports_dir / f"{s}_{label}.{'jsonl' if s in truth.JSONL_SOURCES else 'csv'}" for s in SOURCES}
    rows = {
        "mains_courantes": write_logbook(paths["mains_courantes"], logbook, frame, clock),
        "verbalisations": write_fines(paths["verbalisations"], fines, frame, clock),
        "municipal_reports": write_reports(paths["municipal_reports"], reports, frame, clock),
        "cctv_cameras": write_cameras(paths["cctv_cameras"], cameras),
        "cctv_events": write_cctv_events(paths["cctv_events"], cctv, cameras),
        "hospital": write_hospital(paths["hospital"], admissions, frame, clock),
        "social_media": write_posts(paths["social_media"], posts),
        "planned_events": write_planned_events(paths["planned_events"], planned, clock),
        "patrols": write_patrols(paths["patrols"], patrols, frame, clock),
        "stops": write_stops(paths["stops"], stops, frame, clock),
    }
    truth_paths = truth.write_truth(
        truth_dir, seed=seed, label=label, windows=windows, scale=scale, params=params, frame=frame, clock=clock, hotspots=hotspots,
        incidents=incidents, rates=rates, patrols=patrols, logbook=logbook, reports=reports, cctv=cctv,
        admissions=admissions, posts=posts, planned=planned, cameras=cameras, fines=fines,
        first_camera=first_camera, rows=rows)
    truth_paths["stops.parquet"] = truth_dir / "stops.parquet"
    write_stops_truth(truth_paths["stops.parquet"], stops, frame, clock)
    report("done", 1.0)
    return SimulationSummary(out_dir=out_dir, exports=paths, truth=truth_paths, rows=rows,
                             incidents=len(incidents), seconds=time.perf_counter() - started)

