"""Operators' verdicts on alerts, and each rule's false-positive rate with its Wilson interval.

An operator marks an alert *confirmed* (something really needed attention) or
*false*; verdicts are appended to ``settings.registry_dir/feedback.jsonl`` (the
latest verdict on an alert counts, so a mistake can be corrected) and audited
(``alert_feedback``). The false-positive rate of a rule is
``false / (confirmed + false)`` over its alerts with a verdict; its interval is
Wilson's score interval (Wilson 1927; recommended by Brown, Cai & DasGupta 2001
over the Wald interval for small counts), via ``statsmodels``.

References
----------
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
inference. *JASA* 22, 209-212.

Brown, L. D., Cai, T. T. & DasGupta, A. (2001). Interval estimation for a binomial
proportion. *Statistical Science* 16(2), 101-133.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from observatoire.errors import InputError
from observatoire.statefiles import locked

__all__ = ["VERDICTS", "FeedbackLog", "false_positive_rate"]

VERDICTS = ("confirmed", "false")


def false_positive_rate(n_false: int, n_confirmed: int, level: float = 0.95) -> dict[str, Any]:
    """The false-positive rate and its Wilson interval (None when no alert has a verdict).

    Examples
    --------
    >>> r = false_positive_rate(3, 7)
    >>> r["rate"], round(r["low"], 4), round(r["high"], 4)
    (0.3, 0.1078, 0.6032)
    """
    n = n_false + n_confirmed
    if n_false < 0 or n_confirmed < 0:
        raise InputError("verdict counts must be non-negative")
    if n == 0:
        return {"confirmed": 0, "false": 0, "rate": None, "low": None, "high": None, "level": level}
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(n_false, n, alpha=1 - level, method="wilson")
    return {"confirmed": n_confirmed, "false": n_false, "rate": n_false / n, "low": float(low),
            "high": float(high), "level": level}


class FeedbackLog:
    """The verdicts file (JSON lines, append-only, one writer at a time)."""

    def __init__(self, state_dir: Path, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / "feedback.jsonl"
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def add(self, *, alert_id: str, rule_id: str, rule_version: int, verdict: str, actor: str, role: str,
            audit: Any) -> dict[str, Any]:
        """Append a verdict and audit it (``alert_feedback``); returns the stored record."""
        if verdict not in VERDICTS:
            raise InputError(f"unknown verdict {verdict!r}: confirmed or false")
        if audit is None:
            raise InputError("alert feedback needs the audit log: no audit log is configured")
        record = {"alert_id": alert_id, "rule_id": rule_id, "rule_version": int(rule_version), "verdict": verdict,
                  "actor": actor, "role": role, "at": self.clock().astimezone(dt.UTC).isoformat()}
        with locked(self.path):   # the line and its audit entry, one writer at a time
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps(record, sort_keys=True) + "\n")
                f.flush()
                os.fsync(f.fileno())
            audit.record("alert_feedback", actor=actor, role=role, dataset="alerts",
                         filters={"alert": alert_id, "rule": rule_id, "version": int(rule_version)}, rows=1,
                         detail={"verdict": verdict})
        return record

    def latest(self) -> dict[str, dict[str, Any]]:
        """The latest verdict per alert id."""
        out: dict[str, dict[str, Any]] = {}
        if not self.path.exists():
            return out
        for n, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                out[record["alert_id"]] = record
            except (ValueError, KeyError, TypeError):
                raise InputError(f"feedback file line {n}: not a verdict record") from None
        return out

    def rates(self, level: float = 0.95) -> dict[str, dict[str, Any]]:
        """Per rule id: the overall rate and, under ``by_version``, the rate of each version."""
        counts: dict[str, dict[int, list[int]]] = {}
        for r in self.latest().values():
            pair = counts.setdefault(r["rule_id"], {}).setdefault(int(r["rule_version"]), [0, 0])
            pair[0 if r["verdict"] == "false" else 1] += 1
        out = {}
        for rule_id, by_version in counts.items():
            n_false = sum(p[0] for p in by_version.values())
            n_conf = sum(p[1] for p in by_version.values())
            out[rule_id] = false_positive_rate(n_false, n_conf, level) | {
                "by_version": {str(v): false_positive_rate(p[0], p[1], level) for v, p in sorted(by_version.items())}}
        return out
