"""``observatoire report --period 2026-Q4 --format html|pdf --version public|restricted --out FILE``.

Registered on the main command line by ``register(app)`` (in ``cli.py``); bad input gives one ``error:``
line and exit code 2. Each report written is an audit entry ``export`` (dataset ``control_report``, the period
and version, its recipient: the public or the control committee).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from observatoire.errors import ObservatoireError
from observatoire.governance.audit import cli_actor
from observatoire.settings import Settings
from observatoire.statefiles import atomic_write


def report_command(
    period: Annotated[str, typer.Option("--period", help="A quarter 2026-Q4, a month 2026-11 or a year 2026 (UTC).")],
    out: Annotated[Path, typer.Option("--out", help="File to write.")],
    format: Annotated[str, typer.Option("--format", help="html or pdf.")] = "pdf",  # noqa: A002 (the option's name)
    version: Annotated[str, typer.Option("--version", help="public (release figures only) or restricted (the DPO "
                                                           "and the council's control committee).")] = "public",
    home: Annotated[Optional[Path], typer.Option("--home", help="Deployment directory (default: $OBSERVATOIRE_HOME "
                                                               "or the var/ paths).")] = None,
) -> None:
    """The periodic control report, in French: the public version from releases only, or the restricted one."""
    from observatoire.report.build import build_report

    settings = Settings.from_env(home)
    try:
        data = build_report(settings, period, version=version, fmt=format, now=settings.clock())
    except ObservatoireError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if version == "public":
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    else:
        atomic_write(out, data)                           # exact figures: mode 0600 from the first byte
    settings.audit_log().record(
        "export", actor=cli_actor(), role="admin", dataset="control_report",
        filters={"period": period, "version": version, "format": format},
        recipient="public" if version == "public" else "comité de contrôle", detail={"bytes": len(data)})
    print(f"wrote {out} ({version}, {format}, {len(data):,} bytes)", file=sys.stderr)


def register(app: typer.Typer) -> None:
    """Add the ``report`` command to ``app``."""
    app.command("report")(report_command)
