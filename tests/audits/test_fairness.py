"""Fairness audit of places: hand-checked toy values, the table of measures, spatial units, and power on simulations
with known truth."""

from __future__ import annotations

import numpy as np
import pytest

from observatoire.analytics.evaluate import evaluate
from observatoire.analytics.places import city_grid
from observatoire.audits.config import area_groups, load_audit_config
from observatoire.audits.fairness import (
    MEASURES,
    Measure,
    Sums,
    accuracy_by_group,
    exposure_audit,
    grid_units,
    metric_frame,
    place_on_units,
    simulate_allocation,
)
from observatoire.city.profile import load_city
from observatoire.errors import InputError


def test_toy_exposure_and_need_ratios_by_hand() -> None:
    # Group a: 1,000 + 3,000 residents, 2 + 2 hours, need 4 + 6 -> 1 hour per 1,000, 0.4 per need.
    # Group b: 2,000 residents, 6 hours, need 5 -> 3 hours per 1,000, 1.2 per need.
    audit = exposure_audit(["a", "a", "b"], [1000, 3000, 2000], [2, 2, 6], [4, 6, 5], reference="a",
                           rng=np.random.default_rng(0), n_boot=200)
    rows = {g.group: g for g in audit.groups}
    assert rows["a"].exposure_per_1000 == pytest.approx(1.0)
    assert rows["b"].exposure_per_1000 == pytest.approx(3.0)
    assert rows["a"].exposure_per_need == pytest.approx(0.4)
    assert rows["b"].exposure_per_need == pytest.approx(1.2)
    ratios = {r.measure: r for r in audit.ratios}
    assert ratios["per_resident"].ratio == pytest.approx(3.0)
    assert ratios["per_need"].ratio == pytest.approx(3.0)
    # One unit in b: the bootstrap cannot move b. a resamples to (unit 1 twice) 2 per 1,000 -> ratio 1.5,
    # (unit 2 twice) 0.667 per 1,000 -> 4.5, or both -> 3.0 (probabilities 1/4, 1/4, 1/2): the 95 %
    # percentile interval is exactly [1.5, 4.5], wholly above 1.25: flagged.
    r = ratios["per_resident"]
    assert (r.ci_low, r.ci_high, r.flagged) == (pytest.approx(1.5), pytest.approx(4.5), True)


def test_metric_frame_agrees_with_the_audit() -> None:
    s = simulate_allocation(np.random.default_rng(4), units_per_group=30, attention_ratio=1.5)
    audit = exposure_audit(s["group"], s["residents"], s["exposure"], s["need"], reference="a",
                           rng=np.random.default_rng(0), n_boot=50)
    frame = metric_frame(s["group"], s["residents"], s["exposure"], s["need"])
    for row in audit.groups:
        assert row.exposure_per_1000 == pytest.approx(frame.by_group.loc[row.group, "per_resident"] * 1000)
        assert row.exposure_per_need == pytest.approx(frame.by_group.loc[row.group, "per_need"])


def test_need_adjustment_removes_a_disparity_that_follows_need() -> None:
    # b gets twice the hours per resident, but has twice the need per resident: fair per need.
    audit = exposure_audit(["a"] * 50 + ["b"] * 50, [1000] * 100, [1] * 50 + [2] * 50, [10] * 50 + [20] * 50,
                           reference="a", rng=np.random.default_rng(1), n_boot=200)
    ratios = {r.measure: r for r in audit.ratios}
    assert ratios["per_resident"].ratio == pytest.approx(2.0) and ratios["per_resident"].flagged
    assert ratios["per_need"].ratio == pytest.approx(1.0) and not ratios["per_need"].flagged


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(InputError, match="reference group"):
        exposure_audit(["a", "b"], [1, 1], [1, 1], [1, 1], reference="c", rng=np.random.default_rng(0))
    with pytest.raises(InputError, match="non-negative"):
        exposure_audit(["a", "b"], [1, 1], [-1, 1], [1, 1], reference="a", rng=np.random.default_rng(0))


def test_grid_units_keep_every_resident_and_split_cells_by_area() -> None:
    city = load_city()
    cgrid = city_grid(city, 1000.0)
    units = grid_units(cgrid, city)
    assert units.residents.sum() == pytest.approx(city.population)
    per_cell = np.bincount(units.cell, weights=units.cell_share)
    assert np.allclose(per_cell[per_cell > 0], 1.0)
    groups = units.groups(area_groups(city, load_audit_config().groups))
    assert set(groups) == {"less_deprived", "more_deprived"}
    # an event with a point in a piece counts there; a zone-only event is spread over its zone
    first = int(units.cell[0]), units.zone_ids[units.zone[0]]
    counts = place_on_units(units, np.array([first[0], -1]), [first[1], "13203"])
    assert counts[0] >= 1.0 and counts.sum() == pytest.approx(2.0)


def test_accuracy_by_group_matches_evaluate_overall() -> None:
    rng = np.random.default_rng(3)
    scores = rng.random(40)
    observed = rng.poisson(2, 40).astype(float)
    k = 0.25
    selected = np.zeros(40)
    selected[np.argsort(-scores)[:10]] = 1
    group = np.array(["a", "b"] * 20, dtype=object)
    acc = accuracy_by_group(group, selected, observed, np.ones(40))
    ev = evaluate(scores, observed, np.ones(40), k, np.random.default_rng(0))
    assert acc["overall"]["hit_rate"] == pytest.approx(ev.hit_rate)
    assert acc["overall"]["pai"] == pytest.approx(ev.pai)
    a = group == "a"
    assert acc["a"]["hit_rate"] == pytest.approx((observed * selected)[a].sum() / observed[a].sum())


@pytest.mark.slow
def test_injected_disparity_flagged_fair_allocation_not() -> None:
    """100 simulations each: attention ratio 1.5 at equal need flagged ≥ 90 %, a fair one ≤ 5 %."""
    rng = np.random.default_rng(2025)
    flagged = {1.0: 0, 1.5: 0}
    for ratio in flagged:
        for _ in range(100):
            s = simulate_allocation(rng, units_per_group=150, attention_ratio=ratio)
            audit = exposure_audit(s["group"], s["residents"], s["exposure"], s["need"], reference="a", rng=rng,
                                   n_boot=400)
            flagged[ratio] += audit.flagged("per_need")
    assert flagged[1.5] >= 90
    assert flagged[1.0] <= 5


# --------------------------------------------------------------------------- the table of measures

# Group a: residents 1,000 + 3,000, exposure 2 + 2, need 4 + 6 (sums 4,000, 4, 10); group b: one unit of
# 2,000 residents, exposure 6, need 10. The bootstrap cannot move b; a resamples to (unit 1 twice)
# 2,000 residents and need 8, (unit 2 twice) 6,000 and 12, or both (4,000 and 10), with probabilities
# 1/4, 1/4, 1/2 (exposure 4 every time), so each 95 % interval runs between the two extreme draws.
TOY = {"group": ["a", "a", "b"], "residents": [1000, 3000, 2000], "exposure": [2, 2, 6], "need": [4, 6, 10]}

# One case per measure, by hand: the group rows' column (in its unit), the ratio b / a, its 95 % interval
# and its flag against the band [0.8, 1.25]. A new measure in MEASURES fails the test below until it has one.
KNOWN = {
    # 4 / 4,000 = 1.0 and 6 / 2,000 = 3.0 per 1,000; ratio 3.0; a's draws 2.0, 0.667, 1.0 per 1,000 -> 1.5 to 4.5
    "per_resident": {"a": 1.0, "b": 3.0, "ratio": 3.0, "ci": (1.5, 4.5), "flagged": True},
    # 4 / 10 = 0.4 and 6 / 10 = 0.6; ratio 1.5; a's draws 0.5, 0.333, 0.4 -> 1.2 to 1.8: not wholly above 1.25
    "per_need": {"a": 0.4, "b": 0.6, "ratio": 1.5, "ci": (1.2, 1.8), "flagged": False},
}

# A measure the observatory does not have, to show that the readers follow the table.
EXTRA = Measure("per_10000", "par 10 000 habitants", lambda s: s.exposure / s.residents, "exposure_per_10000",
                10_000.0, "exposition pour 10 000 hab.")


def _toy_audit(**kwargs: object):
    return exposure_audit(TOY["group"], TOY["residents"], TOY["exposure"], TOY["need"], reference="a",
                          rng=np.random.default_rng(0), n_boot=400, **kwargs)


def test_every_measure_has_a_known_value_case() -> None:
    names = [m.name for m in MEASURES]
    assert len(set(names)) == len(names) and len({m.column for m in MEASURES}) == len(MEASURES)
    assert sorted(KNOWN) == sorted(names), "each measure of MEASURES needs its hand-computed case in KNOWN"


@pytest.mark.parametrize("measure", MEASURES, ids=lambda m: m.name)
def test_each_measure_by_hand(measure: Measure) -> None:
    known = KNOWN[measure.name]
    assert measure.fn(Sums(6.0, 2000.0, 10.0)) * measure.scale == pytest.approx(known["b"])
    audit = _toy_audit()
    assert audit.measures == MEASURES
    rows = {g.group: g for g in audit.groups}
    assert rows["a"].rates[measure.column] == pytest.approx(known["a"])
    assert rows["b"].rates[measure.column] == pytest.approx(known["b"])
    assert getattr(rows["b"], measure.column) == rows["b"].as_dict()[measure.column] == rows["b"].rates[measure.column]
    (ratio,) = [r for r in audit.ratios if r.measure == measure.name]
    assert (ratio.group, ratio.reference) == ("b", "a")
    assert ratio.ratio == pytest.approx(known["ratio"])
    assert (ratio.ci_low, ratio.ci_high) == (pytest.approx(known["ci"][0]), pytest.approx(known["ci"][1]))
    assert ratio.flagged is known["flagged"]
    frame = metric_frame(TOY["group"], TOY["residents"], TOY["exposure"], TOY["need"])
    assert frame.by_group.loc["b", measure.name] * measure.scale == pytest.approx(known["b"])


def test_a_measure_added_to_the_table_is_computed_without_other_change() -> None:
    audit = _toy_audit(measures=MEASURES + (EXTRA,))
    assert [r.measure for r in audit.ratios] == [m.name for m in MEASURES] + ["per_10000"]
    rows = {g.group: g for g in audit.groups}
    assert rows["b"].rates["exposure_per_10000"] == pytest.approx(30.0)       # 6 / 2,000 × 10,000
    (extra,) = [r for r in audit.ratios if r.measure == "per_10000"]
    assert extra.ratio == pytest.approx(3.0)
    with pytest.raises(InputError, match="own name"):
        _toy_audit(measures=MEASURES + (MEASURES[0],))


def test_a_zero_denominator_gives_a_null_rate_and_an_unflagged_null_ratio() -> None:
    audit = exposure_audit(["a", "b"], [1000, 1000], [1, 1], [2, 0], reference="a", rng=np.random.default_rng(0),
                           n_boot=50)
    rows = {g.group: g for g in audit.groups}
    assert rows["b"].rates["exposure_per_need"] is None and rows["b"].rates["exposure_per_1000"] == 1.0
    ratios = {r.measure: r for r in audit.ratios}
    assert (ratios["per_need"].ratio, ratios["per_need"].flagged) == (None, False)


def test_the_route_and_the_report_name_no_measure() -> None:
    import inspect

    from observatoire.api.routes import audits as route
    from observatoire.report import audits as report

    sources = {"route": inspect.getsource(route.fairness) + inspect.getsource(route._audit_dict),
               "report": inspect.getsource(report.fairness_section)}
    for where, source in sources.items():
        for m in MEASURES:
            for word in (m.name, m.column, m.label, m.heading):
                assert word not in source, f"the {where} names the measure {m.name} ({word!r})"


def test_the_report_iterates_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    from observatoire.report import audits as report

    audit = _toy_audit(measures=MEASURES + (EXTRA,))
    monkeypatch.setattr(report, "fairness", lambda *_: audit)
    section = report.fairness_section(None, load_city(), load_audit_config(), None)
    tables = [b["table"] for b in section["blocks"] if "table" in b]
    groups, ratios = tables
    assert groups["columns"][-len(audit.measures):] == [m.heading for m in audit.measures]
    assert len(groups["rows"][0]) == len(groups["columns"])
    assert [row[1] for row in ratios["rows"]] == [m.label for m in audit.measures]


def test_the_route_iterates_the_table(monkeypatch: pytest.MonkeyPatch, audit_client) -> None:
    from observatoire.api.routes import audits as route

    def with_extra(*args: object, **kwargs: object):
        kwargs["measures"] = (*kwargs.get("measures", MEASURES), EXTRA)   # the route's own table, plus one
        return exposure_audit(*args, **kwargs)

    monkeypatch.setattr(route, "exposure_audit", with_extra)
    r = audit_client.get("/api/v1/audits/fairness", params={"allocation": "hotspots", "cell_m": 1000})
    assert r.status_code == 200, r.text
    audit = r.json()["audit"]
    assert [x["measure"] for x in audit["ratios"]] == [m.name for m in MEASURES] + ["per_10000"]
    for group in audit["groups"]:
        assert {m.column for m in (*MEASURES, EXTRA)} <= set(group)   # the new measure's column too


def _clustered(rng: np.random.Generator, zones_per_group: int = 8, units_per_zone: int = 40) -> dict:
    """A fair allocation (true ratio 1 on both measures) whose exposure varies by zone: each zone's units share a
    log-normal factor of sd 0.4 (its commander's habits), on top of unit noise."""
    n_zones = 2 * zones_per_group
    zone = np.repeat(np.arange(n_zones), units_per_zone)
    group = np.where(zone < zones_per_group, "a", "b").astype(object)
    residents = rng.uniform(300, 3000, zone.size)
    need = rng.poisson(residents * 0.01).astype(float)
    exposure = residents * 0.01 * np.exp(rng.normal(-0.08, 0.4, n_zones))[zone] * np.exp(rng.normal(-0.02, 0.2,
                                                                                                    zone.size))
    return {"group": group, "residents": residents, "need": need, "exposure": exposure, "zone": zone}


def test_resampling_areas_covers_the_truth_where_resampling_units_does_not() -> None:
    """Units of one zone share its variation: the unit bootstrap's intervals are far too narrow (they miss the
    truth most of the time), the area bootstrap's cover it about as often as they claim."""
    rng = np.random.default_rng(2024)
    covered = {"units": 0, "areas": 0}
    reps = 60
    for _ in range(reps):
        d = _clustered(rng)
        for how in covered:
            audit = exposure_audit(d["group"], d["residents"], d["exposure"], d["need"], reference="a", rng=rng,
                                   n_boot=300, cluster=d["zone"] if how == "areas" else None)
            row = next(r for r in audit.ratios if r.measure == "per_resident")
            covered[how] += row.ci_low <= 1.0 <= row.ci_high
            assert audit.resampled == how
    assert covered["units"] / reps < 0.6 and covered["areas"] / reps >= 0.85, covered


def test_an_area_across_two_groups_or_a_group_of_one_area_is_refused() -> None:
    args = (["a", "a", "b", "b"], [1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1])
    with pytest.raises(InputError, match="units in 2 groups"):
        exposure_audit(*args, reference="a", rng=np.random.default_rng(0), n_boot=10, cluster=[1, 2, 2, 3])
    with pytest.raises(InputError, match="at least two areas per group; b has 1"):
        exposure_audit(*args, reference="a", rng=np.random.default_rng(0), n_boot=10, cluster=[1, 2, 3, 3])
    audit = exposure_audit(*args, reference="a", rng=np.random.default_rng(0), n_boot=10, cluster=[1, 2, 3, 4])
    assert audit.resampled == "areas" and dict(audit.areas) == {"a": 2, "b": 2}
