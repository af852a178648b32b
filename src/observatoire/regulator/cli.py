"""``observatoire documents register|aipd``: the regulator documents from the live configuration.

The lead registers it in ``cli.py`` with ``app.add_typer(documents_app, name="documents")``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from observatoire.settings import Settings

documents_app = typer.Typer(help="Regulator documents generated from the live configuration.",
                            no_args_is_help=True)

FormatOpt = Annotated[str, typer.Option("--format", help="md, html or json.")]
OutOpt = Annotated[Optional[Path], typer.Option("--out", help="File to write (default: standard output).")]
RegistryOpt = Annotated[Optional[Path], typer.Option("--registry", help="Rule registry directory (default: "
                                                     "$OBSERVATOIRE_REGISTRY or var/registry).")]


def _write(kind: str, fmt: str, out: Path | None, registry: Path | None) -> None:
    from observatoire.regulator import document
    from observatoire.regulator.render import render

    text = render(document(Settings.from_env(registry_dir=registry), kind), fmt)
    if out is None:
        sys.stdout.write(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)


@documents_app.command("register")
def register(fmt: FormatOpt = "md", out: OutOpt = None, registry: RegistryOpt = None) -> None:
    """The public algorithm register entry (CRPA L312-1-3; Amsterdam/Helsinki register fields)."""
    _write("register", fmt, out, registry)


@documents_app.command("aipd")
def aipd(fmt: FormatOpt = "md", out: OutOpt = None, registry: RegistryOpt = None) -> None:
    """The data-protection impact assessment (AIPD) skeleton, DPO sections marked."""
    _write("aipd", fmt, out, registry)
