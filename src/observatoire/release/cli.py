"""``observatoire release``: publish a closed month, publish every due month, list, verify, show the ledger.

Each publication (and each refusal over budget) is an audit entry ``release`` by ``cli:<os user>``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from observatoire.errors import InputError
from observatoire.governance.audit import cli_actor
from observatoire.settings import Settings

release_app = typer.Typer(help="Public releases: protected monthly tables, the only figures the public sees.",
                          no_args_is_help=True)
console = Console(stderr=True)
HomeOpt = Annotated[Optional[Path], typer.Option("--home", help="Deployment directory (as `demo --out` lays it "
                                                 "out; default: $OBSERVATOIRE_HOME, else var/...).")]
CLI_ROLE = "admin"


def _settings(home: Path | None) -> Settings:
    return Settings.from_env(home=home)


def _print(manifest: dict) -> None:
    s = manifest["suppression"]
    console.print(f"release {manifest['id']} published: epsilon {manifest['privacy_loss']['epsilon']:g} "
                  f"({manifest['budget']['spent_after']:g} of {manifest['budget']['annual_budget']:g} spent in "
                  f"{manifest['budget']['year']}), {s['numbers']} numbers, {s['primary']} under k={s['k']}, "
                  f"{s['secondary']} masked; sources {', '.join(manifest['sources']['included'])}")


@release_app.command("build")
def build(period: Annotated[str, typer.Option("--period", help="The closed month to publish, YYYY-MM.")],
          home: HomeOpt = None) -> None:
    """Publish the release of one closed month (refused when not closed, already published or over budget)."""
    from observatoire.release.build import build_release

    settings = _settings(home)
    city = settings.city()
    manifest = build_release(period, store=settings.store(city), city=city, config=settings.release_config(),
                             archive=settings.releases(), retention_days=dict(settings.retention_days),
                             now=settings.clock(), audit=settings.audit_log(), actor=cli_actor(), role=CLI_ROLE)
    _print(manifest)


@release_app.command("due")
def due(home: HomeOpt = None,
        first: Annotated[Optional[str], typer.Option("--from", help="First month to publish, YYYY-MM (default: "
                                                     "publication.first_month, else after the latest release).")]
        = None) -> None:
    """Publish every closed month due and not yet published (what `serve` does hourly); exit 2 if one is refused."""
    from observatoire.release.schedule import publish_from_settings

    report = publish_from_settings(_settings(home), actor=cli_actor(), first_month=first)
    console.print(f"published {len(report.built)} release(s)" + (f": {', '.join(report.built)}" if report.built else ""))
    for month, why in report.refused.items():
        console.print(f"not published {month}: {why}")
    if report.refused:
        raise InputError(f"{len(report.refused)} month(s) refused")


@release_app.command("list")
def list_(home: HomeOpt = None) -> None:
    """The published releases."""
    settings = _settings(home)
    table = Table(title=f"Releases in {settings.releases_dir}")
    for col in ("release", "created", "epsilon", "k", "under k", "masked", "sources"):
        table.add_column(col)
    for m in settings.releases().manifests():
        s = m["suppression"]
        table.add_row(m["id"], m["created_at"], f"{m['privacy_loss']['epsilon']:g}", str(s["k"]), str(s["primary"]),
                      str(s["secondary"]), ", ".join(m["sources"]["included"]))
    console.print(table)


@release_app.command("ledger")
def ledger(home: HomeOpt = None) -> None:
    """The privacy ledger as JSON (as /api/v1/public/ledger serves it)."""
    settings = _settings(home)
    print(json.dumps(settings.releases().ledger(settings.release_config().annual_budget), indent=1,
                     ensure_ascii=False))


@release_app.command("verify")
def verify(release_id: Annotated[Optional[str], typer.Argument(help="A release id (default: all).")] = None,
           home: HomeOpt = None) -> None:
    """Re-derive releases from their stored measurement (byte-identical files) and re-count their exact input
    while the store still holds it; exit 2 on any difference."""
    from observatoire.release.build import verify_release

    settings = _settings(home)
    city = settings.city()
    store = settings.store(city)
    archive = settings.releases()
    problems = [p for i in ([release_id] if release_id else archive.ids())
                for p in verify_release(i, archive=archive, city=city, store=store)]
    for p in problems:
        console.print(p)
    if problems:
        raise InputError(f"{len(problems)} difference(s) found")
    console.print(f"{1 if release_id else len(archive.ids())} release(s) reproduce from their manifest and measurement")
