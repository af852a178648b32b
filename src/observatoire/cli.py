"""The ``observatoire`` command line: simulate, ingest, serve, demo."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from observatoire.errors import ObservatoireError
from observatoire.settings import Settings

app = typer.Typer(
    help="Observatoire: a public-safety observatory for cities, place-based and privacy-first.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)
console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

KeysOpt = Annotated[Optional[Path], typer.Option("--keys", help="Pseudonymisation key ring (default: $OBSERVATOIRE_KEYS or var/keys/pseudonym.key).")]
StoreOpt = Annotated[Optional[Path], typer.Option("--store", help="Store directory (default: $OBSERVATOIRE_STORE or var/store).")]
CityOpt = Annotated[Optional[Path], typer.Option("--city", help="City profile GeoJSON (default: the packaged Marseille profile).")]


def _progress() -> Progress:
    return Progress(TextColumn("{task.description:<40}"), BarColumn(), TextColumn("{task.percentage:>3.0f} %"),
                    TimeElapsedColumn(), console=console, transient=True)


def _simulate(out: Path, seed: int, year: int, scale: float, settings: Settings) -> Path:
    from observatoire.simulate import simulate_city_year

    with _progress() as bar:
        task = bar.add_task("simulate", total=1.0)
        summary = simulate_city_year(settings.city(), out, seed=seed, year=year, scale=scale,
                                     progress=lambda step, done: bar.update(task, completed=done,
                                                                            description=f"simulate: {step}"))
    table = Table(title=f"Simulated city-year {year} (seed {seed}, scale {scale:g})")
    table.add_column("source")
    table.add_column("rows", justify="right")
    for name, rows in summary.rows.items():
        table.add_row(name, f"{rows:,}")
    table.add_row("[bold]total[/bold]", f"{sum(summary.rows.values()):,}")
    console.print(table)
    console.print(f"exports in {out / 'exports'}, ground truth in {out / 'truth'} "
                  f"({summary.seconds:.1f} s, {summary.incidents:,} true incidents)")
    return out / "exports"


def _ingest(paths: list[Path], source: str | None, settings: Settings) -> None:
    from observatoire.ingest.pipeline import ingest
    from observatoire.sources.registry import load_sources

    city = settings.city()
    store = settings.store(city)
    if not settings.key_path.exists():
        console.print(f"no pseudonymisation key ring yet: creating one at {settings.key_path} (mode 0600); "
                      "keep it apart from the store and back it up")
    gate = settings.gate(create_keys=True)
    with _progress() as bar:
        task = bar.add_task("ingest", total=1)
        reports = ingest(paths, store=store, city=city, sources=load_sources(), gate=gate, source_name=source,
                         retention_days=dict(settings.retention_days),
                         progress=lambda step, i, n: bar.update(task, completed=i, total=n, description=step))
    table = Table(title=f"Ingest into {settings.store_dir}")
    for col in ("file", "source", "read", "admitted", "quarantined", "status", "quarantine reasons"):
        table.add_column(col, justify="right" if col in ("read", "admitted", "quarantined") else "left")
    for r in reports:
        table.add_row(Path(r.path).name, r.source, f"{r.rows_read:,}", f"{r.admitted:,}", f"{r.quarantined:,}",
                      "committed" if r.committed else "already in store",
                      ", ".join(f"{k} {v:,}" for k, v in sorted(r.reasons.items())))
    console.print(table)


def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from observatoire.api.app import create_app

    console.print(f"serving the observatory on http://{host}:{port}/ (Ctrl-C to stop)")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


@app.command()
def simulate(
    out: Annotated[Path, typer.Option(help="Directory to write exports/ and truth/ into.")] = Path("var/demo"),
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 2025,
    year: Annotated[int, typer.Option(help="Calendar year to simulate.")] = 2025,
    scale: Annotated[float, typer.Option(help="Multiplier of every volume (1 = a realistic city-year).")] = 1.0,
    city: CityOpt = None,
) -> None:
    """Simulate a city-year of every source, written as the files a city would export, with its ground truth."""
    _simulate(out, seed, year, scale, Settings.from_env(city_path=city))


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Export files or directories of exports.")],
    source: Annotated[Optional[str], typer.Option(help="Source of the files (default: recognised by file name).")] = None,
    store: StoreOpt = None,
    city: CityOpt = None,
    keys: KeysOpt = None,
) -> None:
    """Ingest export files through the privacy gate into the store (one atomic batch per file).

    A file already ingested is skipped; refused rows go to the quarantine with their reason.
    """
    _ingest(paths, source, Settings.from_env(store_dir=store, city_path=city, key_path=keys))


@app.command()
def serve(
    store: StoreOpt = None,
    city: CityOpt = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the API and the map page over the store."""
    _serve(Settings.from_env(store_dir=store, city_path=city), host, port)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Working directory for the demo (exports, truth, store).")] = Path("var/demo"),
    seed: Annotated[int, typer.Option(help="Random seed of the simulated city-year.")] = 2025,
    scale: Annotated[float, typer.Option(help="Multiplier of every volume.")] = 1.0,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Stop after ingest.")] = False,
) -> None:
    """Simulate a city-year of Marseille, ingest its exports like real ones, and serve the map."""
    settings = Settings.from_env(store_dir=out / "store", key_path=out / "keys" / "pseudonym.key")
    exports = _simulate(out, seed, 2025, scale, settings)
    _ingest([exports], None, settings)
    if not no_serve:
        _serve(settings, host, port)


keys_app = typer.Typer(help="The pseudonymisation key ring (HMAC-SHA256 keys kept apart from the store).",
                       no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("init")
def keys_init(keys: KeysOpt = None) -> None:
    """Create the key ring with a fresh 256-bit key (mode 0600); refuses to overwrite one."""
    from observatoire.gate.pseudonym import init_keyring

    settings = Settings.from_env(key_path=keys)
    ring = init_keyring(settings.key_path)
    console.print(f"created key ring {settings.key_path} with key {ring.current}")


@keys_app.command("rotate")
def keys_rotate(
    keys: KeysOpt = None,
    forget_old: Annotated[bool, typer.Option("--forget-old", help="Destroy the old keys: their tokens can never be "
                                             "linked again (they become anonymous).")] = False,
) -> None:
    """Add a fresh key and make it current: new tokens use it; tokens under older keys stay as they are.

    Tokens made under different keys do not link: after a rotation, the same plate
    gets a new token. Rotate when a key may have leaked, or on the schedule of the DPIA.
    """
    from observatoire.gate.pseudonym import rotate_keyring

    settings = Settings.from_env(key_path=keys)
    old, new = rotate_keyring(settings.key_path, forget_old=forget_old)
    console.print(f"key ring {settings.key_path}: current key {old} -> {new}"
                  + (" (old keys destroyed)" if forget_old else ""))


def main() -> None:
    """Entry point: one clear line and a non-zero exit on bad input, never a traceback."""
    try:
        app(standalone_mode=False)
    except ObservatoireError as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except (typer.Exit, SystemExit) as exc:
        code = getattr(exc, "exit_code", getattr(exc, "code", 0))
        sys.exit(code)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(130)
        raise


if __name__ == "__main__":
    main()
