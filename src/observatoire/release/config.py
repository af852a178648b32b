"""The release gate's configuration: published sources and category groups, privacy loss, budget, k.

Read from the packaged ``release/release.toml`` or ``settings.release_path``; checked whole on load so
that a deployment cannot publish what the project promised never to publish.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from observatoire.configfile import read_toml
from observatoire.errors import InputError
from observatoire.event.taxonomy import category, is_category

# Sources whose records never reach a public table, and why (the AIPD names only staff as their recipients).
NEVER_PUBLISHED: dict[str, str] = {
    "verbalisations": "fines measure enforcement, not incidents",
    "cctv_events": "automated video detections",
    "cctv_cameras": "the camera inventory is reference data",
    "social_media": "public posts are not incidents",
    "hospital": "hospital records are health data, for staff only",
    "hospital_counts": "hospital counts are health data, for staff only",
    "planned_events": "the calendar is context, not incidents",
    "patrols": "patrol presence is activity, not incidents",
}


@dataclass(frozen=True, slots=True)
class Group:
    """A category group published per zone and month."""

    code: str
    label_fr: str
    categories: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReleaseConfig:
    sources: tuple[str, ...]
    lag_days: int
    epsilon: float
    annual_budget: float
    k: int
    k_by_source: dict[str, int]
    groups: tuple[Group, ...]
    first_month: str | None = None
    where: str = "release/release.toml"

    @property
    def categories(self) -> tuple[str, ...]:
        """Every published category, group by group (the columns of the measured table)."""
        return tuple(c for g in self.groups for c in g.categories)

    def k_for(self, sources: tuple[str, ...]) -> int:
        """The threshold of a table counting ``sources``: the largest of theirs."""
        return max([self.k] + [self.k_by_source.get(s, self.k) for s in sources])

    def parameters(self) -> dict[str, Any]:
        """What a release manifest records of this configuration."""
        return {"sources": list(self.sources), "lag_days": self.lag_days, "first_month": self.first_month,
                "epsilon": self.epsilon,
                "annual_budget": self.annual_budget, "k": self.k, "k_by_source": dict(self.k_by_source),
                "groups": [{"code": g.code, "label_fr": g.label_fr, "categories": list(g.categories)}
                           for g in self.groups]}


def _number(doc: dict[str, Any], key: str, where: str, *, integer: bool = False) -> float:
    value = doc.get(key)
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok or value <= 0:
        raise InputError(f"release file {where}: {key} must be a positive {'integer' if integer else 'number'}")
    return value


def load_release_config(path: Path | None = None) -> ReleaseConfig:
    """The release configuration of ``path`` (None: the packaged one), checked.

    Raises
    ------
    InputError
        A section or value missing or out of range, a source never published, a category outside the
        taxonomy or not an incident, a category in two groups, an empty or duplicate group.
    """
    doc, where = read_toml(path, "observatoire.release", "release.toml", "release file")
    return _config(doc, where)


def config_from_parameters(parameters: dict[str, Any]) -> ReleaseConfig:
    """The configuration a release manifest recorded (``ReleaseConfig.parameters``)."""
    p = parameters
    doc = {"publication": {"sources": p["sources"], "lag_days": p["lag_days"],
                           **({"first_month": p["first_month"]} if p.get("first_month") else {})},
           "privacy": {"epsilon": p["epsilon"], "annual_budget": p["annual_budget"]},
           "suppression": {"k": p["k"], "k_by_source": p["k_by_source"]}, "groups": p["groups"]}
    return _config(doc, "a release manifest")


def _config(doc: dict[str, Any], where: str) -> ReleaseConfig:
    pub, priv, sup = doc.get("publication"), doc.get("privacy"), doc.get("suppression")
    if not all(isinstance(s, dict) for s in (pub, priv, sup)):
        raise InputError(f"release file {where}: [publication], [privacy] and [suppression] are required")
    sources = pub.get("sources")
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) and s for s in sources):
        raise InputError(f"release file {where}: publication.sources must be a non-empty list of source names")
    banned = sorted(set(sources) & set(NEVER_PUBLISHED))
    if banned:
        raise InputError(f"release file {where}: never published: "
                         + "; ".join(f"{s} ({NEVER_PUBLISHED[s]})" for s in banned))
    lag = pub.get("lag_days", 7)
    if isinstance(lag, bool) or not isinstance(lag, int) or lag < 0:
        raise InputError(f"release file {where}: publication.lag_days must be a non-negative integer")
    first = pub.get("first_month")
    if first is not None and (not isinstance(first, str) or not re.fullmatch(r"(19\d\d|[2-9]\d\d\d)-(0[1-9]|1[0-2])",
                                                                                  first)):
        raise InputError(f"release file {where}: publication.first_month must be a month YYYY-MM")
    epsilon = float(_number(priv, "epsilon", where))
    budget = float(_number(priv, "annual_budget", where))
    if epsilon > budget:
        raise InputError(f"release file {where}: privacy.epsilon ({epsilon:g}) exceeds the annual budget ({budget:g})")
    k = int(_number(sup, "k", where, integer=True))
    k_by = sup.get("k_by_source", {})
    if not isinstance(k_by, dict) or any(isinstance(v, bool) or not isinstance(v, int) or v < 1
                                         for v in k_by.values()):
        raise InputError(f"release file {where}: suppression.k_by_source must map sources to positive integers")
    groups = _groups(doc.get("groups"), where)
    return ReleaseConfig(tuple(sources), lag, epsilon, budget, k, dict(k_by), groups, first, where)


def _groups(raw: Any, where: str) -> tuple[Group, ...]:
    if not isinstance(raw, list) or not raw:
        raise InputError(f"release file {where}: at least one [[groups]] is required")
    seen_codes: set[str] = set()
    seen: set[str] = set()
    out = []
    for g in raw:
        code, label, cats = g.get("code"), g.get("label_fr"), g.get("categories")
        if not isinstance(code, str) or not code.isidentifier() or code in seen_codes or code == "total":
            raise InputError(f"release file {where}: group code {code!r} must be a new identifier (not 'total')")
        if not isinstance(label, str) or not label.strip():
            raise InputError(f"release file {where}: group {code} needs a label_fr")
        if not isinstance(cats, list) or not cats:
            raise InputError(f"release file {where}: group {code} needs categories")
        for c in cats:
            if not isinstance(c, str) or not is_category(c):
                raise InputError(f"release file {where}: group {code}: unknown category {str(c)[:40]!r}")
            if category(c).kind != "incident" or c == "assault_injury":
                raise InputError(f"release file {where}: group {code}: {c} is not an incident of the public-order "
                                 "taxonomy")
            if c in seen:
                raise InputError(f"release file {where}: category {c} is in two groups")
            seen.add(c)
        seen_codes.add(code)
        out.append(Group(code, label.strip(), tuple(cats)))
    return tuple(out)
