"""Alert rules: false-alarm rate on simulated Poisson data, detection of injected surges, clashes, rule records."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import ibis
import numpy as np
import pyarrow as pa
import pytest
from numpy.testing import assert_allclose
from scipy.stats import poisson

from observatoire.analytics.alerts import (
    Alert,
    ClashRule,
    PlannedEvent,
    Rule,
    Stream,
    alert_id,
    alerts_from_events,
    clashes,
    evaluate_rule,
    ewma_arl,
    ewma_limit,
    poisson_threshold,
    rules_from_mapping,
)
from observatoire.errors import InputError

SEED = 1990
ZONES = [f"z{i:02d}" for i in range(16)]
N_WINDOWS = 200
TRAIN = 50
MU = 10.0
TARGET = 0.05
T0 = datetime(2024, 6, 1, tzinfo=UTC)
STARTS = [T0 + timedelta(hours=24 * k) for k in range(N_WINDOWS)]
STREAM = Stream("mains_courantes", frozenset({"violence"}))


def _rule(method: str, **parameters: float) -> Rule:
    return Rule(id=f"violence-{method}", version=3, title="Violences : hausse", stream=STREAM, window_hours=24,
                method=method, target_false_alarm=TARGET, parameters={"training_windows": TRAIN, **parameters})


def test_when_poisson_threshold_then_it_is_the_smallest_count_within_alpha():
    # P(X >= 11 | 5) = 0.0137 > 0.01 >= P(X >= 12 | 5) = 0.0055
    assert_allclose([poisson.sf(10, 5), poisson.sf(11, 5)], [0.0136953, 0.0054531], rtol=1e-5)
    assert int(poisson_threshold(5.0, 0.01)) == 12
    mus = np.array([0.1, 1.0, 3.7, 10.0, 42.0])
    for alpha in (0.05, 0.003125, 1e-4):
        c = poisson_threshold(mus, alpha)
        assert np.all(poisson.sf(c - 1, mus) <= alpha)
        assert np.all(poisson.sf(c - 2, mus) > alpha)


def test_when_ewma_limit_then_it_matches_lucas_and_saccucci():
    # Lucas & Saccucci (1990), reproduced in Montgomery (2019) table 9.11: ARL0 = 500.
    for lam, expected in ((0.05, 2.615), (0.1, 2.814), (0.2, 2.962), (0.4, 3.054)):
        assert_allclose(ewma_limit(lam, 500), expected, atol=0.005)
    # A one-sigma shift with lambda = 0.1, L = 2.814: ARL about 10.3.
    assert_allclose(ewma_arl(0.1, 2.814, shift=1.0), 10.3, atol=0.2)


@pytest.mark.parametrize("method", ["poisson", "ewma"])
def test_when_no_anomaly_then_the_false_alarm_rate_stays_within_the_target(method):
    # Each replicate: 16 zones x 200 windows (50 for training, 150 watched); the rate is the share of
    # watched windows with at least one alarm in any zone. Windows of one replicate share the estimated
    # baseline, hence are not independent: the Monte-Carlo error is taken between replicates.
    watched = N_WINDOWS - TRAIN
    rng = np.random.default_rng(SEED)
    rates = []
    for _ in range(30):
        counts = rng.poisson(MU, size=(len(ZONES), N_WINDOWS))
        rates.append(len({a.window_start for a in evaluate_rule(_rule(method), counts, STARTS, ZONES)}) / watched)
    assert np.mean(rates) <= TARGET + 3 * np.std(rates, ddof=1) / np.sqrt(len(rates))


@pytest.mark.parametrize("method,parameters,power", [("poisson", {}, 0.9), ("ewma", {"lambda": 0.7}, 0.85)])
def test_when_a_zone_triples_for_one_window_then_it_is_detected(method, parameters, power):
    rng = np.random.default_rng(SEED + 1)
    hits, trials = 0, 100
    rule = _rule(method, **parameters)
    for _ in range(trials):
        counts = rng.poisson(MU, size=(len(ZONES), N_WINDOWS))
        zone, t = int(rng.integers(len(ZONES))), int(rng.integers(TRAIN, N_WINDOWS))
        counts[zone, t] = rng.poisson(3 * MU)
        hits += any(a.zone_id == ZONES[zone] and a.window_start == STARTS[t]
                    for a in evaluate_rule(rule, counts, STARTS, ZONES))
    assert hits / trials >= power


def test_when_an_alert_is_raised_then_it_carries_the_rule_and_the_figures():
    counts = np.full((len(ZONES), 60), 10)
    counts[4, 55] = 40
    alerts = evaluate_rule(_rule("poisson"), counts, STARTS[:60], ZONES)
    assert len(alerts) == 1
    a = alerts[0]
    assert (a.kind, a.rule_id, a.rule_version, a.zone_id) == ("exceedance", "violence-poisson", 3, "z04")
    assert (a.window_start, a.window_end) == (STARTS[55], STARTS[56])
    assert (a.observed, a.expected) == (40.0, 10.0)
    assert_allclose(a.p_value, poisson.sf(39, 10.0))
    assert_allclose(a.statistic, 30 / np.sqrt(10))
    assert a.threshold == float(poisson_threshold(10.0, TARGET / 16))
    ewma = evaluate_rule(_rule("ewma", **{"lambda": 0.5}), counts, STARTS[:60], ZONES)
    assert [(e.kind, e.rule_id, e.zone_id, e.p_value) for e in ewma] == [("ewma", "violence-ewma", "z04", None)]
    assert_allclose(ewma[0].statistic, 0.5 * 2 * np.sqrt(40.375) + 0.5 * 2 * np.sqrt(10.375))


def test_when_counts_are_evaluated_then_they_are_not_modified():
    counts = np.random.default_rng(3).poisson(MU, size=(len(ZONES), 80))
    before = counts.copy()
    evaluate_rule(_rule("ewma"), counts, STARTS[:80], ZONES)
    np.testing.assert_array_equal(counts, before)


def test_when_a_rule_names_a_person_or_a_protected_attribute_then_it_cannot_be_built():
    # No field can hold one: the record's fields are fixed ...
    names = {f.name for f in dataclasses.fields(Rule)} | {f.name for f in dataclasses.fields(Stream)}
    assert names == {"id", "version", "title", "stream", "window_hours", "method", "target_false_alarm",
                     "parameters", "unit", "source", "categories"}
    with pytest.raises(TypeError):
        Rule(id="r", version=1, title="t", stream=STREAM, window_hours=24, method="poisson",  # type: ignore[call-arg]
             target_false_alarm=0.01, sex="F")
    # ... the parameters are a closed list per method, the unit is the zone, categories are taxonomy codes.
    with pytest.raises(InputError, match="no parameter age_band"):
        _rule("poisson", age_band=1)
    with pytest.raises(InputError, match="unknown unit"):
        Rule(id="r", version=1, title="t", stream=STREAM, window_hours=24, method="poisson",
             target_false_alarm=0.01, unit="person")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="unknown category"):
        Stream("hospital", frozenset({"sex:F"}))
    with pytest.raises(InputError, match="unknown or missing fields"):
        rules_from_mapping([{"id": "r", "version": 1, "title": "t", "window_hours": 24, "method": "poisson",
                             "target_false_alarm": 0.01, "pseudonym": "k1:" + "0" * 24,
                             "stream": {"source": "mains_courantes", "categories": ["violence"]}}])
    rule = _rule("poisson")
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.version = 4  # type: ignore[misc]


@pytest.mark.parametrize("kwargs,message", [
    ({"method": "cusum"}, "unknown method"),
    ({"window_hours": 0}, "window_hours"),
    ({"target_false_alarm": 0.0}, "target_false_alarm"),
    ({"parameters": {"training_windows": 1}}, "training_windows"),
    ({"version": 0}, "version"),
])
def test_when_a_rule_is_malformed_then_input_error(kwargs, message):
    args = {"id": "r", "version": 1, "title": "t", "stream": STREAM, "window_hours": 24, "method": "poisson",
            "target_false_alarm": 0.01} | kwargs
    with pytest.raises(InputError, match=message):
        Rule(**args)


def test_when_fewer_windows_than_training_then_input_error():
    with pytest.raises(InputError, match="window longer than data"):
        evaluate_rule(_rule("poisson"), np.ones((16, TRAIN), int), STARTS[:TRAIN], ZONES)
    with pytest.raises(InputError, match="counts must be"):
        evaluate_rule(_rule("poisson"), np.ones((15, 60), int), STARTS[:60], ZONES)


def test_when_a_planned_event_overlaps_a_surge_in_its_zone_then_a_clash():
    surge = Alert("exceedance", "violence-poisson", 3, "z04", STARTS[10], STARTS[11], 40.0, 10.0, 9.5, 20.0, 1e-9)
    match = PlannedEvent("planned_events:" + "a" * 24, "z04", STARTS[10] + timedelta(hours=20),
                         STARTS[10] + timedelta(hours=23))
    elsewhere = PlannedEvent("planned_events:" + "b" * 24, "z05", STARTS[10], STARTS[11])
    before = PlannedEvent("planned_events:" + "c" * 24, "z04", STARTS[8], STARTS[10] - timedelta(seconds=1))
    at_end = PlannedEvent("planned_events:" + "d" * 24, "z04", STARTS[11])     # the window end is excluded
    found = clashes([match, elsewhere, before, at_end], [surge])
    assert [(c.kind, c.rule_id, c.rule_version, c.zone_id, c.planned_event_id) for c in found] == [
        ("clash", "violence-poisson", 3, "z04", match.event_id)]


def _store_events() -> ibis.Table:
    rng = np.random.default_rng(7)
    rows = []
    now = datetime(2024, 7, 1, tzinfo=UTC)
    for day in range(40):
        for zone in ("13201", "13202"):
            n = int(rng.poisson(8)) if not (zone == "13202" and day == 39) else 40
            for k in range(n):
                rows.append(("mains_courantes", "violence", zone,
                             now - timedelta(days=40 - day) + timedelta(minutes=int(rng.integers(1440))), None))
    rows.append(("planned_events", "planned_event", "13202", now - timedelta(hours=5), now - timedelta(hours=2)))
    source, category, zone, at, ends = zip(*rows)
    ts = pa.timestamp("us", tz="UTC")
    attributes = pa.array([{"planned_events": {"ends_at": e}} for e in ends],
                          pa.struct([pa.field("planned_events", pa.struct([pa.field("ends_at", ts)]))]))
    return ibis.memtable(pa.table({
        "event_id": [f"{s}:{i:024x}" for i, s in enumerate(source)], "source": source, "category": category,
        "zone_id": zone, "occurred_at": pa.array(at, ts), "attributes": attributes,
    }))


def test_when_alerts_from_events_then_the_last_window_surge_and_its_clash_are_found():
    rule = Rule(id="violence-daily", version=1, title="t", stream=STREAM, window_hours=24, method="poisson",
                target_false_alarm=0.01, parameters={"training_windows": 30})
    alerts = alerts_from_events(_store_events(), [rule], zones=["13201", "13202"],
                                now=datetime(2024, 7, 1, 0, 30, tzinfo=UTC))
    kinds = sorted((a.kind, a.zone_id, a.observed) for a in alerts)
    assert kinds == [("clash", "13202", 40.0), ("exceedance", "13202", 40.0)]
    assert alerts[0].window_start == datetime(2024, 6, 30, tzinfo=UTC)
    with pytest.raises(InputError, match="window longer than data"):
        alerts_from_events(_store_events(), [rule], zones=["13201"], now=datetime(2024, 7, 1, tzinfo=UTC),
                           watch_windows=20)
    with pytest.raises(InputError, match="time zone"):
        alerts_from_events(_store_events(), [rule], zones=["13201"], now=datetime(2024, 7, 1))


def test_when_a_clash_rule_watches_a_surge_then_its_clashes_carry_its_own_id_and_the_cause():
    surge = Alert("exceedance", "violence-poisson", 3, "z04", STARTS[10], STARTS[11], 40.0, 10.0, 9.5, 20.0, 1e-9)
    other = dataclasses.replace(surge, rule_id="unwatched")
    match = PlannedEvent("planned_events:" + "a" * 24, "z04", STARTS[10], STARTS[10] + timedelta(hours=3))
    rule = ClashRule(id="clash", version=2, title="t", watches=frozenset({"violence-poisson"}))
    found = clashes([match], [surge, other], rule)
    assert [(c.kind, c.rule_id, c.rule_version, c.cause_rule_id, c.cause_rule_version) for c in found] == [
        ("clash", "clash", 2, "violence-poisson", 3)]
    with pytest.raises(InputError, match="watches at least one other rule"):
        ClashRule(id="clash", version=1, title="t", watches=frozenset({"clash"}))
    daily = Rule(id="violence-daily", version=1, title="t", stream=STREAM, window_hours=24, method="poisson",
                 target_false_alarm=0.01, parameters={"training_windows": 30})
    watcher = ClashRule(id="clash", version=1, title="t", watches=frozenset({"violence-daily"}))
    alerts = alerts_from_events(_store_events(), [daily, watcher], zones=["13201", "13202"],
                                now=datetime(2024, 7, 1, 0, 30, tzinfo=UTC))
    assert sorted((a.kind, a.rule_id, a.cause_rule_id) for a in alerts) == [
        ("clash", "clash", "violence-daily"), ("exceedance", "violence-daily", None)]


def test_when_a_count_floor_is_set_then_it_only_removes_alarms():
    counts = np.full((len(ZONES), 60), 1)
    counts[4, 55] = 6          # unusual for a baseline of 1 (P(X >= 6 | 1) = 6e-4) but below a floor of 10
    counts[5, 56] = 12
    plain = evaluate_rule(_rule("poisson"), counts, STARTS[:60], ZONES)
    floored = evaluate_rule(_rule("poisson", min_count=10), counts, STARTS[:60], ZONES)
    assert [(a.zone_id, a.observed) for a in plain] == [("z04", 6.0), ("z05", 12.0)]
    assert [(a.zone_id, a.observed) for a in floored] == [("z05", 12.0)]
    with pytest.raises(InputError, match="min_count"):
        _rule("poisson", min_count=-1)


def test_when_an_alert_id_is_computed_then_it_is_stable_and_names_rule_version_zone_and_window():
    a = Alert("exceedance", "r", 1, "z04", STARTS[10], STARTS[11], 40.0, 10.0, 9.5, 20.0, 1e-9)
    # SHA-256 of "r|1|z04|<start>|<end>|", first 24 hex digits (hand-computed with hashlib).
    import hashlib
    key = f"r|1|z04|{STARTS[10].isoformat()}|{STARTS[11].isoformat()}|"
    assert a.id == hashlib.sha256(key.encode()).hexdigest()[:24] == alert_id("r", 1, "z04", STARTS[10], STARTS[11])
    assert len({a.id, dataclasses.replace(a, rule_version=2).id, dataclasses.replace(a, zone_id="z05").id,
                dataclasses.replace(a, window_start=STARTS[9]).id,
                dataclasses.replace(a, planned_event_id="planned_events:" + "a" * 24).id}) == 5


def test_when_the_stream_stopped_before_the_watched_windows_then_it_says_so_instead_of_no_alert():
    rule = Rule(id="violence-daily", version=1, title="t", stream=STREAM, window_hours=24, method="poisson",
                target_false_alarm=0.01, parameters={"training_windows": 30})
    # The last logbook event is on 30 June; evaluated on 5 July the watched window (4 July) has no data.
    with pytest.raises(InputError, match="^flux interrompu : dernière donnée le 2024-06-30$"):
        alerts_from_events(_store_events(), [rule], zones=["13201", "13202"],
                           now=datetime(2024, 7, 5, 0, 30, tzinfo=UTC))
    # Watching back to 30 June reaches the data again: evaluated as before (the 40-event surge).
    found = alerts_from_events(_store_events(), [rule], zones=["13201", "13202"],
                               now=datetime(2024, 7, 5, 0, 30, tzinfo=UTC), watch_windows=5, with_clashes=False)
    assert [(a.zone_id, a.observed, a.window_start) for a in found] == [
        ("13202", 40.0, datetime(2024, 6, 30, tzinfo=UTC))]
