"""Step 8: public social-media posts.

Chatter spread over the year (weather, food, traffic, football, life in the
quartiers), bursts after visible incidents nearby (posts naming the nearest
quartier, minutes to hours later) and around planned events. A fixed share
of posts carries a geotag, near the incident, the venue or the quartier the
post names. Authors come from a pool with Zipf-like activity.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from observatoire.simulate.clock import HOUR_S, Clock, format_utc_z, hour_bins, local_fields
from observatoire.simulate.gazetteer import with_preposition
from observatoire.simulate.geography import CityFrame, Hotspots, gaussian_in_geom, sample_in_zones
from observatoire.simulate.incidents import Incidents
from observatoire.simulate.parameters import HOUR_DAY, SocialParameters
from observatoire.simulate.people import FIRST_NAMES_F, FIRST_NAMES_M, ascii_slug, between, pick
from observatoire.simulate.planned import PlannedEvents
from observatoire.simulate.social_texts import (ENGLISH, INCIDENT, INCIDENT_NO_PLACE, NOISE_NO_PLACE,
                                                NOISE_WITH_PLACE, PLANNED)
from observatoire.simulate.vocab import INCIDENT_CATEGORIES
from observatoire.simulate.writers import write_jsonl

NOISE, INCIDENT_POST, PLANNED_POST = 0, 1, 2
TWITTER_EPOCH_MS = 1_288_834_974_657


@dataclass(frozen=True)
class Posts:
    ids: tuple[str, ...]
    t: np.ndarray
    text: tuple[str, ...]
    lang: tuple[str, ...]
    author: np.ndarray      # author index
    geotagged: np.ndarray   # bool
    lon: np.ndarray         # NaN when not geotagged
    lat: np.ndarray
    kind: np.ndarray        # NOISE, INCIDENT_POST, PLANNED_POST
    incident: np.ndarray    # incident index or -1
    planned: np.ndarray     # planned event index or -1
    author_ids: tuple[str, ...]
    author_handles: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.ids)


def nearest_quartier(frame: CityFrame, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = np.empty(len(x), dtype=np.int64)
    q = frame.quartier_xy
    for s in range(0, len(x), 20_000):
        d = (x[s:s + 20_000, None] - q[None, :, 0]) ** 2 + (y[s:s + 20_000, None] - q[None, :, 1]) ** 2
        out[s:s + 20_000] = d.argmin(axis=1)
    return out


def _authors(rnd: random.Random, n: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    ids, handles, seen = [], [], set()
    words = ("massilia", "marseillais", "om", "sud", "calanques", "panisse", "minot", "cagole", "mistral", "ciel")
    firsts = tuple(ascii_slug(f) for f in FIRST_NAMES_F + FIRST_NAMES_M)
    while len(ids) < n:
        first = pick(rnd, firsts)
        u = rnd.random()
        if u < 0.4:
            handle = f"@{first}{between(rnd, 1, 10_000)}"
        elif u < 0.7:
            handle = f"@{first}_{pick(rnd, words)}{pick(rnd, ('', '13', str(between(rnd, 70, 100))))}"
        elif u < 0.85:
            handle = f"@{pick(rnd, words)}{pick(rnd, ('13', '_13', '13013', '1899', ''))}{between(rnd, 10, 1000)}"
        else:
            handle = f"@{first}.{pick(rnd, 'abcdefghijklmnoprstvz')}{pick(rnd, ('', '13', '06'))}"
        if handle in seen:  # the pattern space is finite: make a taken handle unique rather than redraw
            handle = f"{handle}_{len(ids)}"
        seen.add(handle)
        handles.append(handle)
        ids.append(str(between(rnd, 10**9, 10**12) * 1_000_000 + len(ids)))  # unique by construction
    return tuple(ids), tuple(handles)


def simulate_posts(rng: np.random.Generator, frame: CityFrame, clock: Clock, hotspots: Hotspots,
                   incidents: Incidents, planned: PlannedEvents, params: SocialParameters, scale: float) -> Posts:
    """Chatter, incident bursts and event bursts, with quartier mentions, geotags and authors."""
    bins = hour_bins(clock)
    hw = np.asarray(HOUR_DAY)[local_fields(bins, clock).hour] + 0.3  # people post late too
    cdf = np.cumsum(hw) / hw.sum()
    # chatter
    n0 = int(rng.poisson(params.noise_posts_per_year * clock.years * scale))
    b = np.minimum(np.searchsorted(cdf, rng.random(n0), side="right"), len(bins) - 1)
    t0 = bins[b] + rng.integers(0, HOUR_S, n0)
    # incident bursts
    lam = np.array([params.incident_posts_mean.get(c, 0.0) for c in INCIDENT_CATEGORIES])[incidents.category]
    k = rng.poisson(lam)  # per incident, not scaled again: the incidents already are
    inc = np.repeat(np.arange(len(incidents)), k)
    t1 = incidents.t[inc] + np.ceil(rng.exponential(params.incident_delay_mean_min * 60, len(inc))).astype(np.int64)
    # planned-event bursts
    k = rng.poisson(planned.attendance * params.posts_per_attendee * scale)
    ev = np.repeat(np.arange(len(planned)), k)
    lo = planned.start[ev] - 3 * HOUR_S
    hi = planned.end[ev] + 2 * HOUR_S
    t2 = lo + (rng.random(len(ev)) * (hi - lo)).astype(np.int64)

    kind = np.concatenate([np.full(n0, NOISE), np.full(len(inc), INCIDENT_POST), np.full(len(ev), PLANNED_POST)])
    t = np.concatenate([t0, t1, t2]).astype(np.int64)
    incident = np.concatenate([np.full(n0, -1), inc, np.full(len(ev), -1)]).astype(np.int64)
    planned_ix = np.concatenate([np.full(n0, -1), np.full(len(inc), -1), ev]).astype(np.int64)
    keep = (t >= clock.start) & (t < clock.end)
    kind, t, incident, planned_ix = kind[keep], t[keep], incident[keep], planned_ix[keep]
    n = len(t)

    # the quartier a post names (noise: any quartier, population-weighted by zone; incidents: nearest)
    named = np.full(n, -1, dtype=np.int64)
    mention = rng.random(n) < params.quartier_mention_share
    qz = frame.quartier_zone
    inside = qz >= 0
    per_zone = np.bincount(qz[inside], minlength=frame.n_zones)
    qw = np.zeros(len(qz))
    qw[inside] = frame.population[qz[inside]] / per_zone[qz[inside]]  # a zone's people share its quartiers
    noise = np.flatnonzero((kind == NOISE) & mention)
    inc_posts = np.flatnonzero(kind == INCIDENT_POST)
    mention_inc = inc_posts[rng.random(len(inc_posts)) < 0.85]
    if qw.sum() > 0:  # a city without gazetteer quartiers gets posts that name none
        named[noise] = rng.choice(len(qz), len(noise), p=qw / qw.sum())
        named[mention_inc] = nearest_quartier(frame, incidents.x[incident[mention_inc]],
                                              incidents.y[incident[mention_inc]])

    # geotags
    geo = rng.random(n) < params.geotag_share
    gx = np.full(n, np.nan)
    gy = np.full(n, np.nan)
    centre_x = np.full(n, np.nan)
    centre_y = np.full(n, np.nan)
    has_q = named >= 0
    centre_x[has_q] = frame.quartier_xy[named[has_q], 0]
    centre_y[has_q] = frame.quartier_xy[named[has_q], 1]
    is_inc = kind == INCIDENT_POST
    centre_x[is_inc] = incidents.x[incident[is_inc]]
    centre_y[is_inc] = incidents.y[incident[is_inc]]
    is_ev = kind == PLANNED_POST
    ex, ey = frame.to_metres(planned.lon, planned.lat)
    centre_x[is_ev] = ex[planned_ix[is_ev]]
    centre_y[is_ev] = ey[planned_ix[is_ev]]
    around = np.flatnonzero(geo & np.isfinite(centre_x))
    gx[around], gy[around] = gaussian_in_geom(rng, frame.outline_m, centre_x[around], centre_y[around],
                                              params.geotag_sigma_m)
    free = np.flatnonzero(geo & ~np.isfinite(centre_x))
    zone = rng.choice(frame.n_zones, len(free), p=frame.population / frame.population.sum())
    gx[free], gy[free] = sample_in_zones(rng, frame, hotspots, zone, 0.5)
    lon, lat = frame.to_lonlat(gx, gy)

    # authors
    rnd = random.Random(int(rng.integers(2**63)))
    n_auth = max(50, int(round(params.authors * scale)))
    author_ids, handles = _authors(rnd, n_auth)
    pop = 1.0 / np.arange(1, n_auth + 1) ** params.author_zipf
    author = rng.choice(n_auth, n, p=pop / pop.sum())
    english = rng.random(n) < params.english_share

    order = np.lexsort((author, t))
    t, kind, incident, planned_ix, named, geo, author, english = (
        a[order] for a in (t, kind, incident, planned_ix, named, geo, author, english))
    lon, lat = np.asarray(lon)[order], np.asarray(lat)[order]
    texts, langs = [], []
    cats = incidents.category
    for i in range(n):
        q = int(named[i])
        qname = frame.quartier_names[q] if q >= 0 else ""
        if english[i] and kind[i] != INCIDENT_POST:
            texts.append(pick(rnd, ENGLISH))
            langs.append("en")
            continue
        langs.append("fr")
        if kind[i] == NOISE:
            tpl = pick(rnd, NOISE_WITH_PLACE) if q >= 0 else pick(rnd, NOISE_NO_PLACE)
        elif kind[i] == INCIDENT_POST:
            tpl = pick(rnd, INCIDENT[INCIDENT_CATEGORIES[int(cats[incident[i]])]]) if q >= 0 \
                else pick(rnd, INCIDENT_NO_PLACE)
        else:
            e = int(planned_ix[i])
            tpl = pick(rnd, PLANNED[planned.types[e]]).replace("{name}", planned.names[e]) \
                .replace("{venue}", planned.venues[e])
        texts.append(tpl.replace("{q}", with_preposition(qname)).replace("{Q}", qname))
    ms = (t * 1000 - TWITTER_EPOCH_MS).astype(np.int64)
    ids = tuple(str((int(m) << 22) | (i & 0x3FFFFF)) for i, m in enumerate(ms.tolist()))
    return Posts(ids=ids, t=t, text=tuple(texts), lang=tuple(langs), author=author, geotagged=geo,
                 lon=np.where(geo, lon, np.nan), lat=np.where(geo, lat, np.nan), kind=kind, incident=incident,
                 planned=planned_ix, author_ids=author_ids, author_handles=handles)


def write_posts(path: Path, posts: Posts) -> int:
    when = format_utc_z(posts.t).to_pylist()
    lon = np.round(posts.lon, 6).tolist()
    lat = np.round(posts.lat, 6).tolist()
    geo = posts.geotagged.tolist()
    author = posts.author.tolist()

    def rows() -> Iterator[dict[str, Any]]:
        for i in range(len(posts)):
            a = author[i]
            yield {"id": posts.ids[i], "created_at": when[i], "text": posts.text[i], "lang": posts.lang[i],
                   "author": {"id": posts.author_ids[a], "handle": posts.author_handles[a]},
                   "geo": {"lon": lon[i], "lat": lat[i]} if geo[i] else None}
    return write_jsonl(path, rows())
