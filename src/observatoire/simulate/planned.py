"""Step 9 (drawn first, the other steps use it): the calendar of planned events.

Olympique de Marseille home matches at the Orange Vélodrome, stadium
concerts, concerts at the Dôme, the city's recurring festivals,
demonstrations from the Vieux-Port and markets. The calendar is the city's,
not a volume of events: it is not multiplied by the run's scale.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from observatoire.simulate.clock import Clock, local_to_utc
from observatoire.simulate.gazetteer import VENUES
from observatoire.simulate.parameters import PlannedEventParameters

OPPONENTS = ("Paris Saint-Germain", "OGC Nice", "Olympique lyonnais", "RC Lens", "LOSC Lille", "Stade rennais",
             "AS Monaco", "FC Nantes", "RC Strasbourg", "Toulouse FC", "Stade brestois", "AJ Auxerre",
             "Angers SCO", "Le Havre AC", "FC Lorient", "Paris FC", "FC Metz", "AS Saint-Étienne",
             "Montpellier HSC")
EUROPE = ("FC Porto", "Ajax Amsterdam", "Atalanta Bergame", "Real Betis", "Galatasaray", "Benfica Lisbonne")
DEMONSTRATIONS = ("Manifestation intersyndicale", "Marche pour le climat", "Rassemblement contre l'habitat indigne",
                  "Manifestation des retraités", "Marche blanche", "Rassemblement de soutien à la Palestine",
                  "Manifestation des enseignants", "Marche contre les violences faites aux femmes",
                  "Rassemblement des soignants", "Manifestation des dockers")
MARKETS = (("Marché des producteurs du cours Julien", "Cours Julien", 2, (8, 0), (13, 30), (1500, 3000)),
           ("Vide-grenier de Castellane", "Place Castellane", 6, (7, 0), (14, 0), (2000, 5000)),
           ("Marché aux livres de la Canebière", "La Canebière", 5, (9, 0), (18, 0), (1000, 2500)))


@dataclass(frozen=True)
class PlannedEvents:
    """The calendar, one entry per event; times are UTC seconds."""

    ids: tuple[str, ...]
    names: tuple[str, ...]
    types: tuple[str, ...]
    venues: tuple[str, ...]
    lon: np.ndarray
    lat: np.ndarray
    start: np.ndarray
    end: np.ndarray
    attendance: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def _dates(year: int, weekdays: tuple[int, ...], months: tuple[int, ...]) -> list[dt.date]:
    d = dt.date(year, 1, 1)
    out = []
    while d.year == year:
        if d.weekday() in weekdays and d.month in months:
            out.append(d)
        d += dt.timedelta(days=1)
    return out


def _pick(rng: np.random.Generator, dates: list[dt.date], n: int) -> list[dt.date]:
    n = min(n, len(dates))
    idx = np.sort(rng.choice(len(dates), n, replace=False))
    return [dates[i] for i in idx]


def simulate_planned_events(rng: np.random.Generator, clock: Clock, params: PlannedEventParameters) -> PlannedEvents:
    """The calendar of matches, concerts, festivals, demonstrations and markets of every year of the period.

    Each civil year the period touches gets its own calendar (drawn in year
    order from ``rng``); events that start outside the period are left out.
    Ids are numbered per year: ``EV-<year>-001``...
    """
    ids: list[str] = []
    rows: list[tuple[str, str, str, dt.datetime, dt.datetime, int]] = []
    for year in range(clock.first.year, clock.last.year + 1):
        cal = [r for r in _calendar(rng, year, params) if clock.first <= r[3].date() <= clock.last]
        ids.extend(f"EV-{year}-{i + 1:03d}" for i in range(len(cal)))
        rows.extend(cal)
    epoch = dt.datetime(1970, 1, 1)
    naive_start = np.array([int((r[3] - epoch).total_seconds()) for r in rows], dtype=np.int64)
    naive_end = np.array([int((r[4] - epoch).total_seconds()) for r in rows], dtype=np.int64)
    return PlannedEvents(
        ids=tuple(ids),
        names=tuple(r[0] for r in rows),
        types=tuple(r[1] for r in rows),
        venues=tuple(r[2] for r in rows),
        lon=np.array([VENUES[r[2]][0] for r in rows]),
        lat=np.array([VENUES[r[2]][1] for r in rows]),
        start=local_to_utc(naive_start, clock.tz),
        end=local_to_utc(naive_end, clock.tz),
        attendance=np.array([r[5] for r in rows], dtype=np.int64),
    )


def _calendar(rng: np.random.Generator, year: int,
              params: PlannedEventParameters) -> list[tuple[str, str, str, dt.datetime, dt.datetime, int]]:
    """One civil year's calendar, sorted by start: (name, type, venue, local start, local end, attendance)."""
    rows: list[tuple[str, str, str, dt.datetime, dt.datetime, int]] = []

    def add(name: str, kind: str, venue: str, day: dt.date, start: tuple[int, int], hours: float,
            attendance: int) -> None:
        begin = dt.datetime.combine(day, dt.time(*start))
        rows.append((name, kind, venue, begin, begin + dt.timedelta(hours=hours), attendance))

    # Ligue 1: one home match every other weekend, outside the summer and winter breaks.
    weekends = [d for d in _dates(year, (5,), (1, 2, 3, 4, 5, 8, 9, 10, 11, 12))
                if not (d.month == 12 and d.day > 20) and not (d.month == 1 and d.day < 10)
                and not (d.month == 5 and d.day > 24) and not (d.month == 8 and d.day < 9)]
    weekends = weekends[int(rng.integers(0, 2))::2]
    opponents = list(rng.permutation(OPPONENTS))
    for i, sat in enumerate(_pick(rng, weekends, params.league_matches)):
        slot = int(rng.integers(0, 3))
        day = sat if slot == 0 else sat + dt.timedelta(days=1)
        kick = ((21, 0), (20, 45), (17, 15))[slot]
        opp = str(opponents[i % len(opponents)])
        crowd = int(rng.integers(52_000, 64_000)) if opp != "Paris Saint-Germain" else 65_000
        add(f"OM – {opp} (Ligue 1)", "match", "Orange Vélodrome", day, kick, 2.0, crowd)
    for day in _pick(rng, _dates(year, (2, 3), (2, 3, 9, 10, 11)), params.cup_matches):
        add(f"OM – {rng.choice(EUROPE)} (coupe d'Europe)", "match", "Orange Vélodrome", day, (21, 0), 2.0,
            int(rng.integers(55_000, 65_000)))
    for i, day in enumerate(_pick(rng, _dates(year, (4, 5), (6, 7)), params.stadium_concerts)):
        add(f"Concert au Vélodrome – tournée des stades n° {i + 1}", "concert", "Orange Vélodrome", day, (20, 30),
            3.5, int(rng.integers(55_000, 66_000)))
    for day in _pick(rng, _dates(year, (2, 3, 4, 5), (1, 2, 3, 4, 5, 6, 9, 10, 11, 12)), params.dome_concerts):
        add("Concert au Dôme", "concert", "Le Dôme", day, (20, 0), 3.0, int(rng.integers(4_000, 8_500)))

    def sat(month: int, lo: int, hi: int) -> dt.date:
        """A Saturday of ``month`` between days ``lo`` and ``hi``."""
        return _pick(rng, [d for d in _dates(year, (5,), (month,)) if lo <= d.day <= hi], 1)[0]

    add("Carnaval de Marseille", "festival", "La Canebière", sat(4, 1, 30), (14, 0), 4.0, 20_000)
    add("Fête du Panier", "festival", "Le Panier", sat(6, 8, 20), (12, 0), 11.0, 15_000)
    add("Fête de la musique", "festival", "Vieux-Port", dt.date(year, 6, 21), (18, 0), 8.0, 80_000)
    add("Marsatac", "festival", "Parc Borély", sat(6, 1, 30) - dt.timedelta(days=1), (18, 0), 8.0, 25_000)
    add("Festival de Marseille – soirée d'ouverture", "festival", "Palais Longchamp", sat(6, 14, 30), (19, 0), 5.0,
        12_000)
    add("Marseille Pride", "festival", "Vieux-Port", sat(7, 1, 12), (14, 0), 6.0, 30_000)
    add("Feu d'artifice du 14 juillet", "festival", "Vieux-Port", dt.date(year, 7, 14), (21, 30), 2.5, 100_000)
    add("Jazz des cinq continents", "festival", "Palais Longchamp", sat(7, 13, 27), (19, 0), 5.0, 8_000)
    add("Delta Festival", "festival", "Plages du Prado", sat(8, 22, 31) - dt.timedelta(days=1), (16, 0), 10.0, 50_000)
    add("Fiesta des Suds", "festival", "Dock des Suds", sat(10, 10, 25), (19, 0), 8.0, 10_000)
    add("Foire aux santons", "festival", "La Canebière", sat(11, 14, 21), (10, 0), 9.0, 5_000)
    add("Réveillon du Nouvel An", "festival", "Vieux-Port", dt.date(year, 12, 31), (22, 0), 3.5, 40_000)

    add("Manifestation du 1er mai", "manifestation", "Vieux-Port", dt.date(year, 5, 1), (10, 30), 3.0, 15_000)
    for day in _pick(rng, _dates(year, (1, 3, 5), tuple(range(1, 13))), params.demonstrations - 1):
        start = (10, 30) if rng.random() < 0.5 else (14, 0)
        add(str(rng.choice(DEMONSTRATIONS)), "manifestation", "Vieux-Port", day, start, 3.0,
            int(rng.integers(500, 20_000)))
    per_market = np.bincount(rng.integers(0, len(MARKETS), params.markets), minlength=len(MARKETS))
    for (name, venue, weekday, start, end, crowd), n in zip(MARKETS, per_market):
        hours = end[0] + end[1] / 60 - start[0] - start[1] / 60
        for day in _pick(rng, _dates(year, (weekday,), tuple(range(1, 13))), int(n)):
            add(name, "marche", venue, day, start, hours, int(rng.integers(*crowd)))

    rows.sort(key=lambda r: (r[3], r[0]))
    return rows
