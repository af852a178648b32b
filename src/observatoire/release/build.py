"""Building a monthly release: exact counts from the store, one OpenDP measurement, tables, ledger, archive.

:func:`build_release` publishes one closed month, or refuses with the reason (not closed yet, no source
whose retention covers it, already published, over the year's privacy budget): refusals over budget are
audited too. :func:`publish_due` publishes every due month, oldest first (``serve``'s scheduler and the demo
call it); which months are due depends on dates and configuration, never on the data. :func:`verify_release`
re-derives a release's files from its stored measurement (they must be byte-identical) and, while the store
still holds the month, re-counts its exact input.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import metadata, resources
from typing import Any, Mapping

import numpy as np

from observatoire.city.profile import CityProfile
from observatoire.errors import InputError
from observatoire.release import render
from observatoire.release.archive import RELEASE_ID, ReleaseArchive
from observatoire.release.config import ReleaseConfig, config_from_parameters
from observatoire.release.mechanism import MECHANISM, SENSITIVITY, measure, privacy_loss
from observatoire.release.suppression import PRIMARY, SECONDARY
from observatoire.release.tables import Layout, exact_matrix, publish

def month_bounds(month: str) -> tuple[datetime, datetime]:
    """First instant of ``YYYY-MM`` (UTC) and of the month after (years 1900 to 9998)."""
    if not isinstance(month, str) or not RELEASE_ID.match(month) or not 1900 <= int(month[:4]) <= 9998:
        raise InputError(f"a release period is a month YYYY-MM (years 1900 to 9998), not {str(month)[:20]!r}")
    y, m = int(month[:4]), int(month[5:])
    start = datetime(y, m, 1, tzinfo=UTC)
    return start, datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=UTC)


def next_month(month: str) -> str:
    return month_bounds(month)[1].strftime("%Y-%m")


def code_version() -> dict[str, str]:
    """The package version and a digest of the release gate's own code and configuration."""
    digest = hashlib.sha256()
    root = resources.files("observatoire.release")
    for name in sorted(p.name for p in root.iterdir() if p.name.endswith((".py", ".toml"))):
        digest.update(name.encode() + b"\0" + (root / name).read_bytes())
    try:
        version = metadata.version("observatoire")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {"package": version, "release_code_sha256": digest.hexdigest()}


def _opendp_version() -> str:
    try:
        return metadata.version("opendp")
    except metadata.PackageNotFoundError:
        return "unknown"


def sources_for(config: ReleaseConfig, retention_days: Mapping[str, int], start: datetime,
                now: datetime) -> tuple[tuple[str, ...], dict[str, str]]:
    """The configured sources a month's release counts, and why the others are left out.

    A source is counted when its retention still covers the whole month: a source kept for less is never
    mixed into a total that spans longer than it is kept. Whether the store holds any of its records does not
    matter (a release's shape never depends on the data: a configured source without records counts zero).
    """
    included, excluded = [], {}
    for s in config.sources:
        days = retention_days.get(s)
        if days is not None and now - timedelta(days=days) >= start:
            excluded[s] = f"its retention ({days} days) no longer covers the whole month"
        else:
            included.append(s)
    return tuple(included), excluded


class Refusal(InputError):
    """A release that cannot be built: ``reason`` is a short code, the message says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def build_release(month: str, *, store: Any, city: CityProfile, config: ReleaseConfig, archive: ReleaseArchive,
                  retention_days: Mapping[str, int], now: datetime, audit: Any = None,
                  actor: str = "system:release", role: str = "admin") -> dict[str, Any]:
    """Publish the release of ``month`` and return its manifest.

    Which months are published is decided by dates and configuration only, never by the data (a release's
    existence must not tell whether one event exists): see :func:`due_months`.

    Raises
    ------
    Refusal
        ``not_closed`` (the month, plus ``lag_days``, has not ended), ``no_source`` (the retention of every
        published source no longer covers the month), ``published`` (a release never changes), ``budget``
        (the year's privacy budget would be exceeded; audited).
    """
    start, end = month_bounds(month)
    if now < end + timedelta(days=config.lag_days):
        raise Refusal("not_closed", f"{month} is not closed: it is published {config.lag_days} days after its end "
                                    f"({(end + timedelta(days=config.lag_days)).date().isoformat()})")
    included, excluded = sources_for(config, retention_days, start, now)
    if not included:
        raise Refusal("no_source", f"{month}: none of the published sources can be counted ("
                      + "; ".join(f"{s}: {why}" for s, why in excluded.items()) + ")")
    events = store.events()
    layout = Layout.of(city, config)
    loss = privacy_loss(config.epsilon)                 # as OpenDP's privacy map states it, before any draw
    with archive.lock():
        if archive.exists(month):
            raise Refusal("published", f"release {month} is already published; a release never changes")
        year = int(month[:4])
        spent = archive.spent(year)
        if spent + loss > config.annual_budget + 1e-9:
            message = (f"release {month} refused: it would spend epsilon {loss:g} where {year} has "
                       f"{config.annual_budget - spent:g} left of its budget {config.annual_budget:g}")
            if audit is not None:
                audit.record("release", actor=actor, role=role, dataset="releases", outcome="denied",
                             detail={"release": month, "reason": "budget", "epsilon": loss,
                                     "year_spent": spent, "annual_budget": config.annual_budget})
            raise Refusal("budget", message)
        exact = exact_matrix(events, layout, month=month, sources=included)
        measured = measure(exact.reshape(-1), config.epsilon)
        k = config.k_for(included)
        published = publish(np.array(measured.values), layout, config, k, measured.scale)
        doc = render.tables(month, published, city, config, k)
        files = render.files(doc, city)
        manifest = {
            "id": month,
            "period": {"month": month, "start": start.date().isoformat(), "end": end.date().isoformat(),
                       "time_basis": "UTC calendar month of occurred_at"},
            "created_at": now.astimezone(UTC).isoformat(),
            "tables": {"release.json": "zones and city tables", "zones.csv": "zones table",
                       "city.csv": "city table", "zones.geojson": "zones table with boundaries"},
            "mechanism": {"name": MECHANISM, "library": f"opendp {_opendp_version()}",
                          "function": "opendp.measurements.make_laplace (integer vector: discrete Laplace)",
                          "sensitivity_l1": SENSITIVITY, "scale": measured.scale,
                          "measured": f"zones ({len(layout.zones) - 1} + events without a zone) x "
                                      f"{len(layout.categories)} categories, one UTC month",
                          "unit": "one event: it falls in exactly one cell",
                          "post_processing": "summed into every published number (unbiased), numbers under k "
                                             "suppressed, then secondary suppression (no privacy cost)"},
            "privacy_loss": {"epsilon": measured.epsilon, "delta": 0.0,
                             "tables": [{"measurement": "zones x categories", "epsilon": measured.epsilon,
                                         "published_as": ["zones", "city"]}]},
            "budget": {"year": year, "spent_before": spent, "spent_after": spent + measured.epsilon,
                       "annual_budget": config.annual_budget},
            "parameters": {**config.parameters(), "k_applied": k},
            "sources": {"included": list(included), "excluded": excluded},
            "suppression": {"k": k, "primary": sum(p.status == PRIMARY for p in published),
                            "secondary": sum(p.status == SECONDARY for p in published),
                            "numbers": len(published)},
            "code_version": code_version(),
            "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
        }
        private = {"release": month, "layout": {"zones": list(layout.zones), "categories": list(layout.categories)},
                   "noisy": list(measured.values), "scale": measured.scale,
                   "input_sha256": hashlib.sha256(exact.astype("<i8").tobytes()).hexdigest()}
        archive.write(month, files, manifest, private)
        if audit is not None:
            audit.record("release", actor=actor, role=role, dataset="releases", rows=len(published),
                         detail={"release": month, "epsilon": measured.epsilon, "year_spent": spent + measured.epsilon,
                                 "annual_budget": config.annual_budget, "sources": list(included),
                                 "manifest_sha256": hashlib.sha256(
                                     (archive.root / month / "manifest.json").read_bytes()).hexdigest()})
    return manifest


@dataclass(slots=True)
class PublishReport:
    built: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)


def due_months(archive: ReleaseArchive, config: ReleaseConfig, now: datetime, *,
               first_month: str | None = None) -> list[str]:
    """Closed months to publish, oldest first: from ``first_month`` (else ``publication.first_month``, else the
    month after the latest release) to the last closed month, without those already published.

    Dates and configuration only: with neither a first month nor a release, nothing is due (the operator
    publishes a first month with ``observatoire release build`` or sets ``publication.first_month``).
    """
    published = archive.ids()
    first = first_month or config.first_month or (next_month(published[-1]) if published else None)
    if first is None:
        return []
    month, done, out = first, set(published), []
    while now >= month_bounds(month)[1] + timedelta(days=config.lag_days):
        if month not in done:
            out.append(month)
        month = next_month(month)
    return out


def publish_due(*, store: Any, city: CityProfile, config: ReleaseConfig, archive: ReleaseArchive,
                retention_days: Mapping[str, int], now: datetime, audit: Any = None, first_month: str | None = None,
                actor: str = "system:release-schedule", role: str = "admin") -> PublishReport:
    """Publish every due month (:func:`due_months`); a refusal stops nothing but its own month."""
    report = PublishReport()
    for month in due_months(archive, config, now, first_month=first_month):
        try:
            build_release(month, store=store, city=city, config=config, archive=archive,
                          retention_days=retention_days, now=now, audit=audit, actor=actor, role=role)
            report.built.append(month)
        except Refusal as exc:
            report.refused[month] = exc.message
    return report


def verify_release(release_id: str, *, archive: ReleaseArchive, city: CityProfile, store: Any = None) -> list[str]:
    """Problems found re-deriving a release (empty: it reproduces).

    Its files must be byte-identical when derived again from its stored measurement and manifest; with a
    store, its exact input is counted again and compared with the digest kept at build time (a month the
    store no longer fully holds is reported as such).
    """
    manifest = archive.manifest(release_id)
    private = archive.measurement(release_id)
    config = config_from_parameters(manifest["parameters"])
    layout = Layout.of(city, config)
    problems = []
    if [list(layout.zones), list(layout.categories)] != [private["layout"]["zones"], private["layout"]["categories"]]:
        return [f"{release_id}: the city profile or the categories differ from the release's"]
    k = manifest["parameters"]["k_applied"]
    published = publish(np.array(private["noisy"]), layout, config, k, private["scale"])
    files = render.files(render.tables(release_id, published, city, config, k), city)
    for name, digest in manifest["files"].items():
        if hashlib.sha256(files[name]).hexdigest() != digest:
            problems.append(f"{release_id}/{name}: differs from its derivation")
        if hashlib.sha256(archive.path(release_id, name).read_bytes()).hexdigest() != digest:
            problems.append(f"{release_id}/{name}: differs from the digest in its manifest")
    if store is not None:
        exact = exact_matrix(store.events(), layout, month=release_id, sources=tuple(manifest["sources"]["included"]))
        if hashlib.sha256(exact.astype("<i8").tobytes()).hexdigest() != private["input_sha256"]:
            problems.append(f"{release_id}: the store's exact counts differ from the release's input "
                            "(records purged past their retention, ingested late, or changed)")
    return problems
