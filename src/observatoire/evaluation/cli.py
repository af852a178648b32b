"""``observatoire evaluation register PLAN.yaml|json`` and ``observatoire evaluation analyse ID``.

Registered on the main command line by ``app.add_typer(evaluation_app, name="evaluation")``;
a refused plan gives one ``error:`` line and exit code 2 (through ``observatoire.cli.main``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
import yaml
from rich.console import Console

from observatoire.errors import InputError
from observatoire.settings import Settings
from observatoire.governance.audit import cli_actor

app = typer.Typer(help="Effectiveness evaluations: plans registered before a deployment, and their bound analyses.",
                  no_args_is_help=True)

StoreOpt = Annotated[Optional[Path], typer.Option("--store", help="Store directory (default: $OBSERVATOIRE_STORE or var/store).")]
CityOpt = Annotated[Optional[Path], typer.Option("--city", help="City profile GeoJSON (default: the packaged Marseille profile).")]
EvalOpt = Annotated[Optional[Path], typer.Option("--evaluations", help="Plans directory (default: $OBSERVATOIRE_EVALUATIONS or var/evaluations).")]


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"plan file {path}: cannot be read ({type(exc).__name__})") from exc
    try:
        doc = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError):
        raise InputError(f"plan file {path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}") from None
    if not isinstance(doc, dict):
        raise InputError(f"plan file {path}: expected a mapping of plan fields")
    return doc


def _query(settings: Settings, city):
    store = settings.store(city)
    return lambda fn: fn(store.events())


@app.command("register")
def register_cmd(
    plan: Annotated[Path, typer.Argument(help="The plan, as YAML or JSON.")],
    store: StoreOpt = None,
    city: CityOpt = None,
    evaluations: EvalOpt = None,
) -> None:
    """Register an evaluation plan (before the deployment starts); prints its id and content hash."""
    from observatoire.evaluation.service import register

    settings = Settings.from_env(store_dir=store, city_path=city, evaluations_dir=evaluations)
    profile = settings.city()
    stored = register(_read(plan), settings=settings, city=profile, query=_query(settings, profile),
                      actor=cli_actor(), role="supervisor")
    out = Console()
    out.print(f"registered {stored['id']} ({stored['design']}, outcome {stored['outcome']['source']}: "
              f"{', '.join(stored['outcome']['categories'])}) at {stored['registered_at']}", highlight=False)
    out.print(f"content hash {stored['content_hash']}", highlight=False)
    power = stored.get("power_analysis")
    if power:
        mde_txt = "none" if power["mde_at_target_power"] is None else f"{power['mde_at_target_power']:.1%}"
        out.print(f"power to detect -{stored['mde']:.0%}: {power['power_at_mde']:.2f}; MDE at power "
                  f"{stored['power']:.2f}: {mde_txt}", highlight=False)
    for warning in stored["warnings"]:
        out.print(f"warning: {warning}", highlight=False)


@app.command("analyse")
def analyse_cmd(
    plan_id: Annotated[str, typer.Argument(help="The plan's id (ev-...).")],
    store: StoreOpt = None,
    city: CityOpt = None,
    evaluations: EvalOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON.")] = False,
) -> None:
    """Run the analysis a registered plan fixed, on the store as it is now."""
    from observatoire.evaluation.service import analyse_plan

    settings = Settings.from_env(store_dir=store, city_path=city, evaluations_dir=evaluations)
    profile = settings.city()
    result = analyse_plan(plan_id, settings=settings, city=profile, query=_query(settings, profile))
    out = Console()
    if as_json:
        out.print_json(json.dumps(result))
        return
    est = result["estimate"]
    lo, hi = est["ci_effect"]
    out.print(f"{result['plan_id']} — {result['design']}, periods {result['periods']['first']} .. "
              f"{result['periods']['last']} ({result['periods']['pre_periods']} pre, "
              f"{result['periods']['post_periods']} post)", highlight=False)
    out.print(f"effect {est['effect']:+.1%} ({result['level']:.0%} CI {lo:+.1%} .. {hi:+.1%}): {result['conclusion']}",
              highlight=False)
    for name, check in result["checks"].items():
        out.print(f"{name}: {check.get('verdict') or check.get('note') or check.get('skipped')}", highlight=False)
    for line in result["deviations"] + result["warnings"]:
        out.print(f"note: {line}", highlight=False)
