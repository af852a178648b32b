"""The rules the alert engine runs, from the rule registry (``observatoire.registry``).

Kept for callers of :func:`load_rules`; the registry itself (YAML rules, versions,
approval, feedback) lives in :mod:`observatoire.registry`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from observatoire.analytics.alerts import ClashRule, Rule


def load_rules(path: Path | None = None, registry_dir: Path | None = None, *,
               clock: Callable[[], datetime] | None = None) -> list[Rule | ClashRule]:
    """The active rules: version 1 from the YAML directory ``path`` (None: the packaged rules),
    later approved versions from ``registry_dir`` (None: none). Ids are unique."""
    from observatoire.registry.versions import RuleRegistry

    return RuleRegistry(registry_dir, rules_dir=path, clock=clock).engine_rules()
