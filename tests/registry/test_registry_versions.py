"""Versions and approval: pending until a supervisor other than the author approves; every step audited."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest
import yaml

from observatoire.analytics.alerts import ClashRule, Rule
from observatoire.errors import InputError
from observatoire.governance.audit import AuditLog
from observatoire.registry.feedback import FeedbackLog, false_positive_rate
from observatoire.registry.versions import AccessDenied, RuleRegistry, packaged_rules_dir

NOW = dt.datetime(2025, 6, 1, 9, 0, tzinfo=dt.UTC)
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture()
def audit(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "audit", clock=lambda: NOW, durable=False)


@pytest.fixture()
def registry(tmp_path: Path, audit: AuditLog) -> RuleRegistry:
    return RuleRegistry(tmp_path / "registry", clock=lambda: NOW, audit=audit)


def _v2(rule_id: str = "violence-logbook-surge") -> dict:
    doc = yaml.safe_load((packaged_rules_dir() / f"{rule_id}.yaml").read_text(encoding="utf-8"))
    doc = copy.deepcopy(doc)
    doc["version"] = 2
    doc["condition"]["target_false_alarm"] = 0.005
    return doc


def _entries(audit: AuditLog) -> list[tuple]:
    return [(e["action"], e["actor"], e["role"], e["filters"].get("rule"), e["filters"].get("version"), e["outcome"],
             e["detail"].get("decision", e["detail"].get("state"))) for e in audit.entries()]


def test_the_packaged_yaml_is_version_1_of_each_rule(registry: RuleRegistry) -> None:
    assert registry.ids() == ["cctv-density-surge", "cctv-weapon-or-fire", "operator-reports-surge",
                              "planned-event-clash", "violence-logbook-surge"]
    assert all([(v.version, v.state, v.proposed_by) for v in registry.versions(i)] == [(1, "active", "package")]
               for i in registry.ids())
    rules = registry.engine_rules()
    assert sum(isinstance(r, Rule) for r in rules) == 4 and sum(isinstance(r, ClashRule) for r in rules) == 1
    assert not (registry.state_dir / "rules").exists()          # reading writes nothing


def test_a_proposal_waits_for_another_supervisor_and_every_step_is_audited(registry: RuleRegistry,
                                                                           audit: AuditLog) -> None:
    pending = registry.propose(_v2(), actor="user:alice", role="analyst")
    assert (pending.version, pending.state) == (2, "pending")
    assert {r.id: r.version for r in registry.engine_rules()}["violence-logbook-surge"] == 1
    with pytest.raises(InputError, match="already has a pending version"):
        registry.propose(_v2(), actor="user:alice", role="analyst")
    with pytest.raises(AccessDenied, match="role may not decide"):
        registry.decide("violence-logbook-surge", 2, approve=True, actor="user:bob", role="analyst")
    registry.propose(_v2("operator-reports-surge"), actor="user:carol", role="supervisor")
    with pytest.raises(AccessDenied, match="author of a version may not decide"):
        registry.decide("operator-reports-surge", 2, approve=True, actor="user:carol", role="supervisor")
    approved = registry.decide("violence-logbook-surge", 2, approve=True, actor="user:carol", role="supervisor")
    assert approved.state == "active"
    rejected = registry.decide("operator-reports-surge", 2, approve=False, actor="user:dave", role="supervisor")
    assert rejected.state == "rejected"
    rules = {r.id: r for r in registry.engine_rules()}
    assert (rules["violence-logbook-surge"].version, rules["violence-logbook-surge"].target_false_alarm) == (2, 0.005)
    assert rules["operator-reports-surge"].version == 1
    assert [(v.version, v.state) for v in registry.versions("violence-logbook-surge")] == [(1, "superseded"),
                                                                                           (2, "active")]
    assert [(v.version, v.state, v.proposed_by, v.decided_by) for v in registry.versions("operator-reports-surge")] \
        == [(1, "active", "package", "package"), (2, "rejected", "user:carol", "user:dave")]
    assert _entries(audit) == [
        ("rule_change", "user:alice", "analyst", "violence-logbook-surge", 2, "ok", "pending"),
        ("rule_approval", "user:bob", "analyst", "violence-logbook-surge", 2, "denied", "approved"),
        ("rule_change", "user:carol", "supervisor", "operator-reports-surge", 2, "ok", "pending"),
        ("rule_approval", "user:carol", "supervisor", "operator-reports-surge", 2, "denied", "approved"),
        ("rule_approval", "user:carol", "supervisor", "violence-logbook-surge", 2, "ok", "approved"),
        ("rule_approval", "user:dave", "supervisor", "operator-reports-surge", 2, "ok", "rejected"),
    ]
    assert audit.verify().ok
    # The history survives a fresh registry over the same directory.
    again = RuleRegistry(registry.state_dir, clock=lambda: NOW, audit=audit)
    assert [(v.version, v.state) for v in again.versions("violence-logbook-surge")] == [(1, "superseded"),
                                                                                        (2, "active")]


def test_a_proposal_must_pass_the_linter_and_carry_the_next_version(registry: RuleRegistry, audit: AuditLog) -> None:
    doc = _v2()
    doc["version"] = 3
    with pytest.raises(InputError, match="the next version is 2"):
        registry.propose(doc, actor="user:alice", role="analyst")
    doc["version"] = 2
    doc["data_used"][0]["fields"].append("nb_personnes")
    with pytest.raises(InputError, match=r"rule refused: data_used\[0\]\.fields\[5\]: targets or scores persons"):
        registry.propose(doc, actor="user:alice", role="analyst")
    with pytest.raises(AccessDenied, match="may not propose"):
        registry.propose(_v2(), actor="user:eve", role="operator")
    assert [(e["action"], e["outcome"]) for e in audit.entries()] == [("rule_change", "denied")]
    assert registry.versions("violence-logbook-surge")[-1].version == 1


def test_a_new_rule_and_a_retirement_go_through_the_same_approval(registry: RuleRegistry) -> None:
    doc = yaml.safe_load((FIXTURES / "good" / "night-violence-ewma.yaml").read_text(encoding="utf-8"))
    registry.propose(doc, actor="user:alice", role="analyst")
    assert "night-violence-ewma" in registry.ids()
    assert "night-violence-ewma" not in {r.id for r in registry.engine_rules()}
    registry.decide("night-violence-ewma", 1, approve=True, actor="user:bob", role="supervisor")
    assert {r.id: r.param("min_count") for r in registry.engine_rules() if r.id == "night-violence-ewma"} == {
        "night-violence-ewma": 5.0}
    retire = _v2("cctv-density-surge")
    retire["status"] = "retired"
    registry.propose(retire, actor="user:alice", role="analyst")
    registry.decide("cctv-density-surge", 2, approve=True, actor="user:bob", role="supervisor")
    assert "cctv-density-surge" not in {r.id for r in registry.engine_rules()}
    assert registry.versions("cctv-density-surge")[-1].state == "active"


def test_a_city_directory_of_yaml_rules_replaces_the_packaged_ones(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "a.yaml").write_text((FIXTURES / "good" / "night-violence-ewma.yaml").read_text(encoding="utf-8"))
    assert [r.id for r in RuleRegistry(None, rules_dir=rules, clock=lambda: NOW).engine_rules()] == [
        "night-violence-ewma"]
    (rules / "b.yaml").write_text((FIXTURES / "bad" / "plate-field.yaml").read_text(encoding="utf-8"))
    with pytest.raises(InputError, match="rule file b.yaml refused"):
        RuleRegistry(None, rules_dir=rules, clock=lambda: NOW).engine_rules()
    with pytest.raises(InputError, match="does not exist"):
        RuleRegistry(None, rules_dir=tmp_path / "missing", clock=lambda: NOW).engine_rules()


def test_the_false_positive_rate_has_wilson_bounds_and_the_latest_verdict_counts(tmp_path: Path,
                                                                                  audit: AuditLog) -> None:
    # Wilson 95 % for 3 of 10: (0.1078, 0.6032) (Brown, Cai & DasGupta 2001, eq. 4, by hand).
    z = 1.959963984540054
    p, n = 0.3, 10
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * (p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5
    r = false_positive_rate(3, 7)
    assert r["rate"] == 0.3 and abs(r["low"] - (centre - half)) < 1e-9 and abs(r["high"] - (centre + half)) < 1e-9
    assert false_positive_rate(0, 0)["rate"] is None
    log = FeedbackLog(tmp_path / "registry", clock=lambda: NOW)
    for i in range(10):
        log.add(alert_id=f"{i:024x}", rule_id="r", rule_version=1 if i < 6 else 2,
                verdict="false" if i < 3 else "confirmed", actor="user:op", role="operator", audit=audit)
    log.add(alert_id=f"{9:024x}", rule_id="r", rule_version=2, verdict="false", actor="user:op", role="operator",
            audit=audit)
    rates = log.rates()["r"]
    assert (rates["false"], rates["confirmed"], rates["rate"]) == (4, 6, 0.4)
    assert {v: (x["false"], x["confirmed"]) for v, x in rates["by_version"].items()} == {"1": (3, 3), "2": (1, 3)}
    assert sum(e["action"] == "alert_feedback" for e in audit.entries()) == 11
    with pytest.raises(InputError, match="unknown verdict"):
        log.add(alert_id="x", rule_id="r", rule_version=1, verdict="maybe", actor="user:op", role="operator",
                audit=audit)
