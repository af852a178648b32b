"""Plans: refused with a clear reason when they could not be honest; stored once, read-only, hash-checked."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import pytest

from conftest import START, TREATED, did_plan
from observatoire.errors import InputError, StoreError
from observatoire.evaluation.checks import adjacent_zones
from observatoire.evaluation.plans import list_plans, load_plan, store_plan, validate_plan

NOW = datetime(2024, 12, 20, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("change, reason", [
    ({"outcome": {"source": "pigeons", "categories": ["assault_injury"]}}, "outcome unknown"),
    ({"outcome": {"source": "hospital", "categories": ["not_a_code"]}}, "outcome unknown"),
    ({"outcome": {"source": "verbalisations", "categories": ["parking_offence"]}}, "not independent"),
    ({"outcome": {"source": "mains_courantes", "categories": ["drugs"]}}, "not independent"),
    ({"pre_periods": 2}, "too few pre-periods"),
    ({"design": "synthetic_control", "pre_periods": 6}, "too few pre-periods"),
    ({"design": "magic"}, "design"),
    ({"treated": [{"unit": "99999", "start": START.isoformat()}]}, "unknown unit"),
    ({"treated": [{"unit": "13201", "start": "2024-12-16"}]}, "after the deployment start"),
    ({"treated": [{"unit": "13201", "start": "2025-01-07"}]}, "Monday"),
    ({"buffer": ["13201"]}, "both treated and in the buffer"),
    ({"mde": 1.5}, "mde"),
    ({"end": "2025-01-08"}, "end"),
    ({"extra_field": 1}, "unknown plan field"),
    ({"design": "synthetic_control", "treated": [{"unit": "13201", "start": "2025-01-06"},
                                                  {"unit": "13202", "start": "2025-01-13"}]}, "same date"),
    # 12 pre-weeks + 4 weeks of deployment = 16 < 1/0.05 = 20 cyclic shifts for the conformal interval
    ({"design": "synthetic_control", "pre_periods": 12, "end": "2025-02-02"}, "at least 20 periods in all"),
])
def test_a_bad_plan_is_refused_with_its_reason(city, change, reason) -> None:
    with pytest.raises(InputError, match=reason):
        validate_plan(did_plan(**change), city=city, now=NOW)


def test_a_directed_outcome_passes_only_when_acknowledged_and_carries_a_warning(city) -> None:
    outcome = {"source": "mains_courantes", "categories": ["drugs"], "acknowledge_directed": True}
    plan = validate_plan(did_plan(outcome=outcome), city=city, now=NOW)
    assert plan["outcome"]["independent"] is False and "not independent" in plan["warnings"][0]
    independent = {"source": "mains_courantes", "categories": ["violence"], "discovery": ["independent"]}
    plan = validate_plan(did_plan(outcome=independent), city=city, now=NOW)
    assert plan["outcome"]["independent"] is True and plan["warnings"] == []


def test_adjacent_buffer_is_fixed_at_registration(city) -> None:
    # Marseille's 1st arrondissement borders the 2nd to 7th (IGN boundaries).
    assert adjacent_zones(city, ["13201"]) == ["13202", "13203", "13204", "13205", "13206", "13207"]
    plan = validate_plan(did_plan(treated=[{"unit": "13201", "start": START.isoformat()}], buffer="adjacent"),
                         city=city, now=NOW)
    assert plan["buffer"] == ["13202", "13203", "13204", "13205", "13206", "13207"]


def test_randomised_assignment_is_drawn_from_the_registered_seed(city) -> None:
    spec = did_plan(design="randomised", treated=None, period="day", pre_periods=28, end="2025-02-03",
                    randomisation={"level": "day", "seed": 42, "share": 0.5, "start": "2025-01-06"})
    a = validate_plan(spec, city=city, now=NOW)
    b = validate_plan(spec, city=city, now=NOW)
    assert a["schedule"] == b["schedule"] and len(a["schedule"]) == 28
    assert all(len(v) == 8 for v in a["schedule"].values())
    with pytest.raises(InputError, match="seed"):
        validate_plan(dict(spec, treated=[{"unit": "13201", "start": "2025-01-06"}]), city=city, now=NOW)


def test_a_stored_plan_is_immutable_and_its_hash_checked(city, tmp_path) -> None:
    plan = validate_plan(did_plan(), city=city, now=NOW)
    plan["power_analysis"] = None
    stored = store_plan(plan, tmp_path, registered_at=NOW, registered_by="user:sup")
    path = tmp_path / f"{stored['id']}.json"
    assert stored["registered_at"] == "2024-12-20T09:00:00+00:00"
    assert not os.access(path, os.W_OK) or os.getuid() == 0
    assert oct(path.stat().st_mode & 0o777) == "0o444"
    assert load_plan(tmp_path, stored["id"]) == stored
    assert [p["id"] for p in list_plans(tmp_path)] == [stored["id"]]
    with pytest.raises(InputError, match="already registered"):
        store_plan(plan, tmp_path, registered_at=NOW, registered_by="user:sup")
    # Someone edits the outcome after the fact: the plan no longer loads.
    os.chmod(path, 0o644)
    doc = json.loads(path.read_text())
    doc["outcome"]["categories"] = ["violence"]
    path.write_text(json.dumps(doc))
    with pytest.raises(StoreError, match="modified after registration"):
        load_plan(tmp_path, stored["id"])
    with pytest.raises(InputError, match="unknown evaluation plan"):
        load_plan(tmp_path, "../etc/passwd")


def test_treated_units_are_the_plan_units(city) -> None:
    plan = validate_plan(did_plan(), city=city, now=NOW)
    assert [t["unit"] for t in plan["treated"]] == list(TREATED)
    assert plan["pre_start"] == "2024-04-01"


def test_a_did_cohort_of_one_zone_is_registered_with_a_warning(city) -> None:
    treated = [{"unit": "13201", "start": "2025-01-06"}, {"unit": "13203", "start": "2025-01-06"},
               {"unit": "13205", "start": "2025-02-03"}]
    plan = validate_plan(did_plan(treated=treated), city=city, now=NOW)
    assert any("cohort of a single zone" in w for w in plan["warnings"])
    assert not any("single zone" in w for w in validate_plan(did_plan(), city=city, now=NOW)["warnings"])
