"""Publishing on a schedule: ``serve`` publishes each month once it has closed (``publication.lag_days`` after
its end), hourly, in a daemon thread, through the same :func:`~observatoire.release.build.publish_due` as the
command line and the demo. The months due follow from dates and configuration only (``publication.first_month``,
else the month after the latest release): never from the data."""

from __future__ import annotations

import logging
from typing import Any

from observatoire.periodic import Periodic
from observatoire.release.build import PublishReport, publish_due

log = logging.getLogger(__name__)


def publish_from_settings(settings: Any, *, actor: str, first_month: str | None = None) -> PublishReport:
    """Publish every due month (from ``first_month``, else as configured, else after the latest release) of
    ``settings``' store into its release archive, audited."""
    city = settings.city()
    return publish_due(store=settings.store(city), city=city, config=settings.release_config(),
                       archive=settings.releases(), retention_days=dict(settings.retention_days),
                       now=settings.clock(), audit=settings.audit_log(), actor=actor, first_month=first_month)


class ReleaseScheduler(Periodic):
    """Publishes due months in a daemon thread: once at start, then every ``interval_s`` seconds."""

    thread_name = "observatoire-release"

    def __init__(self, settings: Any, interval_s: float = 3600.0) -> None:
        super().__init__(settings, interval_s)
        self.last: PublishReport | None = None

    def run_once(self) -> PublishReport | None:
        try:
            self.last = publish_from_settings(self.settings, actor="system:release-schedule")
        except Exception as exc:  # noqa: BLE001 - a failed run is logged and retried at the next interval
            log.error("scheduled release failed (%s); retrying in %.0f s", type(exc).__name__, self.interval_s)
            return None
        if self.last.built:
            log.info("published releases: %s", ", ".join(self.last.built))
        for month, why in self.last.refused.items():
            log.warning("release %s not published: %s", month, why)
        if not self.settings.releases().ids() and not self.settings.release_config().first_month:
            log.warning("no release yet and no publication.first_month: publish a first month with "
                        "`observatoire release build --period YYYY-MM`; the following ones then come on schedule")
        return self.last
