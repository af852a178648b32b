"""The public entry point: simulate a city-year, write its exports and, apart, its ground truth."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from observatoire.city.profile import CityProfile
from observatoire.errors import InputError
from observatoire.simulate import truth
from observatoire.simulate.cameras import camera_tree, sightings, simulate_cameras
from observatoire.simulate.cctv_events import simulate_cctv_events, write_cctv_events
from observatoire.simulate.clock import make_clock
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

# One child generator per step, spawned in this order from the run's seed: a
# step's draws never depend on how many numbers another step consumed.
STEPS: tuple[str, ...] = ("hotspots", "incidents", "patrols", "planned_events", "cameras", "logbook",
                          "fines", "reports", "cctv_events", "hospital", "social_media")
SOURCES: tuple[str, ...] = ("mains_courantes", "verbalisations", "municipal_reports", "cctv_cameras", "cctv_events",
                            "hospital", "social_media", "planned_events", "patrols")

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
    if not scale > 0:
        raise InputError(f"scale must be positive, got {scale!r}")
    started = time.perf_counter()
    params = parameters or SimulationParameters()
    report = progress or (lambda step, fraction: None)
    out_dir = Path(out_dir)
    exports_dir, truth_dir = out_dir / "exports", out_dir / "truth"
    rng = dict(zip(STEPS, np.random.default_rng(seed).spawn(len(STEPS))))
    frame = make_frame(city)
    clock = make_clock(city.timezone, year)
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
    cctv = simulate_cctv_events(step("cctv_events"), clock, cameras, tree, incidents, pairs, planned,
                                frame, params.cctv, scale)
    admissions = simulate_hospital(step("hospital"), incidents, params.hospital)
    posts = simulate_posts(step("social_media"), frame, clock, hotspots, incidents, planned, params.social, scale)

    report("writing", done / n_steps)
    paths = {s: exports_dir / f"{s}_{year}.{'jsonl' if s in truth.JSONL_SOURCES else 'csv'}" for s in SOURCES}
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
    }
    truth_paths = truth.write_truth(
        truth_dir, seed=seed, year=year, scale=scale, params=params, frame=frame, clock=clock, hotspots=hotspots,
        incidents=incidents, rates=rates, patrols=patrols, logbook=logbook, reports=reports, cctv=cctv,
        admissions=admissions, posts=posts, planned=planned, cameras=cameras, fines=fines,
        first_camera=first_camera, rows=rows)
    report("done", 1.0)
    return SimulationSummary(out_dir=out_dir, exports=paths, truth=truth_paths, rows=rows,
                             incidents=len(incidents), seconds=time.perf_counter() - started)

