"""``observatoire rules``: lint rule files, list the registry, propose, approve or reject versions, history.

The lead registers it in ``cli.py`` with ``app.add_typer(rules_app, name="rules")``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
import yaml
from rich.console import Console
from rich.table import Table

from observatoire.errors import InputError
from observatoire.settings import Settings
from observatoire.governance.audit import cli_actor

rules_app = typer.Typer(help="The rule registry: the only place an alert can come from.", no_args_is_help=True)
console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

RegistryOpt = Annotated[Optional[Path], typer.Option("--registry", help="Registry state directory (default: "
                                                     "$OBSERVATOIRE_REGISTRY or var/registry).")]
RulesOpt = Annotated[Optional[Path], typer.Option("--rules", help="Directory of YAML rules that are version 1 "
                                                  "(default: $OBSERVATOIRE_RULES or the packaged rules).")]
AuditOpt = Annotated[Optional[Path], typer.Option("--audit", help="Audit log directory (default: "
                                                  "$OBSERVATOIRE_AUDIT or var/audit).")]
ByOpt = Annotated[Optional[str], typer.Option("--by", help="Who acts (default: the operating-system user); "
                                              "recorded as cli:<login> in the audit log.")]


def _settings(registry: Path | None = None, rules: Path | None = None, audit: Path | None = None) -> Settings:
    return Settings.from_env(registry_dir=registry, rules_path=rules, audit_dir=audit)


def _registry(settings: Settings):
    from observatoire.registry.versions import RuleRegistry

    return RuleRegistry.from_settings(settings)


@rules_app.command("lint")
def lint(
    files: Annotated[list[Path], typer.Argument(help="YAML rule files.")],
    registry: RegistryOpt = None,
    rules: RulesOpt = None,
) -> None:
    """Check rule files: one line per refusal; exit status 1 when any file is refused."""
    from observatoire.registry.lint import lint_file

    settings = _settings(registry, rules)
    reg = _registry(settings)
    known = set(reg.ids())
    refused = 0
    for path in files:
        try:
            doc_id = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("id")
        except Exception:  # the linter reports unreadable files itself
            doc_id = None
        findings = lint_file(path, reg.context(known_rules=known | ({doc_id} if isinstance(doc_id, str) else set())))
        if findings:
            refused += 1
            for f in findings:
                print(f"{path}: {f}")
        else:
            print(f"{path}: ok")
    if refused:
        raise typer.Exit(1)


@rules_app.command("list")
def list_rules(registry: RegistryOpt = None, rules: RulesOpt = None) -> None:
    """Every rule: active version, status, pending versions, review date, false-positive rate."""
    from observatoire.registry.feedback import FeedbackLog

    settings = _settings(registry, rules)
    reg = _registry(settings)
    rates = FeedbackLog(settings.registry_dir, clock=settings.clock).rates()
    table = Table(title="Rule registry")
    for col in ("rule", "active", "status", "pending", "review", "false positives"):
        table.add_column(col)
    for rule_id in reg.ids():
        versions = reg.versions(rule_id)
        active = next((v for v in versions if v.state == "active"), None)
        rate = rates.get(rule_id)
        shown = (f"{rate['rate']:.0%} of {rate['confirmed'] + rate['false']} "
                 f"[{rate['low']:.0%}, {rate['high']:.0%}]") if rate and rate["rate"] is not None else "no feedback"
        table.add_row(rule_id, str(active.version) if active else "-",
                      str(active.document.get("status")) if active else "-",
                      ", ".join(str(v.version) for v in versions if v.state == "pending") or "-",
                      str((active or versions[-1]).document.get("review_date"))
                      + (" (overdue)" if active and reg.overdue(active) else ""), shown)
    Console(width=160).print(table)


@rules_app.command("propose")
def propose(
    file: Annotated[Path, typer.Argument(help="The new version's YAML document (its version: the next one).")],
    by: ByOpt = None,
    role: Annotated[str, typer.Option(help="Role acted under: analyst or supervisor.")] = "analyst",
    registry: RegistryOpt = None,
    rules: RulesOpt = None,
    audit: AuditOpt = None,
) -> None:
    """Propose a version: stored pending until a supervisor other than its author approves it (audited)."""
    try:
        doc = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"{file}: cannot be read as YAML ({type(exc).__name__})") from exc
    v = _registry(_settings(registry, rules, audit)).propose(doc, actor=cli_actor(by), role=role)
    console.print(f"rule {v.rule_id} version {v.version}: {v.state} (a supervisor other than you approves it)")


def _decide(rule_id: str, version: int, approve: bool, by: str | None, registry, rules, audit) -> None:
    v = _registry(_settings(registry, rules, audit)).decide(rule_id, version, approve=approve, actor=cli_actor(by),
                                                             role="supervisor")
    console.print(f"rule {v.rule_id} version {v.version}: {v.state}")


@rules_app.command("approve")
def approve(rule_id: str, version: int, by: ByOpt = None, registry: RegistryOpt = None, rules: RulesOpt = None,
            audit: AuditOpt = None) -> None:
    """Approve a pending version as supervisor (not its author): it becomes active (audited)."""
    _decide(rule_id, version, True, by, registry, rules, audit)


@rules_app.command("reject")
def reject(rule_id: str, version: int, by: ByOpt = None, registry: RegistryOpt = None, rules: RulesOpt = None,
           audit: AuditOpt = None) -> None:
    """Reject a pending version as supervisor (not its author); it stays in the history (audited)."""
    _decide(rule_id, version, False, by, registry, rules, audit)


@rules_app.command("history")
def history(rule_id: str, registry: RegistryOpt = None, rules: RulesOpt = None) -> None:
    """Every version of a rule, who proposed and decided it, and when."""
    table = Table(title=f"Rule {rule_id}")
    for col in ("version", "state", "status", "proposed by", "proposed at", "decided by", "decided at"):
        table.add_column(col)
    for v in _registry(_settings(registry, rules)).versions(rule_id):
        table.add_row(str(v.version), v.state, str(v.document.get("status")), v.proposed_by, v.proposed_at or "-",
                      v.decided_by or "-", v.decided_at or "-")
    Console(width=160).print(table)
