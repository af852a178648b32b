"""The published alert rules: ``rules.toml`` (packaged) or a city's own file, read into :class:`Rule` records."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from observatoire.analytics.alerts import Rule, rules_from_mapping
from observatoire.errors import InputError


def load_rules(path: Path | None = None) -> list[Rule]:
    """Every ``[[rule]]`` of the file; ``None`` reads the packaged registry. Ids must be unique."""
    try:
        text = (Path(path).read_text(encoding="utf-8") if path is not None
                else (resources.files("observatoire.analytics") / "rules.toml").read_text(encoding="utf-8"))
        doc = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"rule file {path or 'rules.toml'}: cannot be read ({exc})") from exc
    rules = rules_from_mapping(doc.get("rule", []))
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        raise InputError("rule file: a rule id is used twice")
    return rules
