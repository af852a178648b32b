"""The purge: expired, non-held records leave the disk, nothing else does; crash-safe; logged and audited once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from observatoire.city.profile import CityProfile, load_city
from observatoire.governance.audit import AuditLog
from observatoire.governance.purge import PurgeScheduler, purge
from observatoire.ingest.pipeline import ingest
from observatoire.settings import Settings
from observatoire.store.parquet import ParquetStore
from tests.api.conftest import build_store
from tests.conftest import write

NOW = datetime(2027, 6, 1, tzinfo=UTC)        # verbalisations and reports (3 years) partly expired; logbook not


@pytest.fixture(scope="module")
def city() -> CityProfile:
    return load_city()


def settings_for(tmp: Path, **kw: object) -> Settings:
    base: dict[str, object] = dict(store_dir=tmp / "store", audit_dir=tmp / "audit", holds_path=tmp / "holds.json",
                                   clock=lambda: NOW, superseded_grace_s=0.0)   # the disk checked at once
    return Settings(**(base | kw))  # type: ignore[arg-type]


def ids(store: ParquetStore, kind: str = "events") -> dict[str, set]:
    t = (store.events() if kind == "events" else store.quarantine()).to_pyarrow()
    key = "event_id" if kind == "events" else "batch_id"
    out: dict[str, set] = {}
    for src, k in zip(t["source"].to_pylist(), t[key].to_pylist()):
        out.setdefault(src, set()).add(k)
    return out


def on_disk(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for top in ("events", "quarantine") for p in (root / top).rglob("*.parquet")}


def test_purge_removes_exactly_the_invisible_rows_keeps_held_ones_and_audits_once(tmp_path: Path,
                                                                                  city: CityProfile) -> None:
    s = settings_for(tmp_path)
    build_store(s.store_dir, city)
    s.holds().add(reason="r", reference="ref", actor="user:dpo", now=NOW, source="verbalisations",
                  start="2024-01-01", end="2024-02-01")
    store, raw = s.store(city), ParquetStore(s.store_dir)
    visible = ids(store)
    raw_before = {k: len(v) for k, v in ids(raw).items()}
    expected_removed = sum(raw_before.values()) - sum(len(v) for v in visible.values())
    assert expected_removed > 100 and visible["mains_courantes"] == ids(raw)["mains_courantes"]

    dry = purge(store, s.retention(), now=NOW, audit=s.audit_log(), dry_run=True)
    assert dry.events_removed == expected_removed and ids(raw) != visible       # a dry run removes nothing
    assert not s.audit_log().segments()

    report = purge(store, s.retention(), now=NOW, audit=s.audit_log(), actor="user:dpo", role="dpo")
    assert report.events_removed == expected_removed and report.held_kept > 0
    assert (report.events_removed, report.held_kept) == (164, 15)   # the figures docs/retention.md gives
    raw = ParquetStore(s.store_dir)
    assert ids(raw) == visible == ids(store)          # what the queries showed is exactly what is left on disk
    t = raw.events()
    jan = t.filter((t.source == "verbalisations") & (t.month == "2024-01")).to_pyarrow()["month"].to_pylist()
    assert len(jan) == report.held_kept > 0           # the held month survived in full
    assert on_disk(s.store_dir) == set(raw.manifest().files("events")) | set(raw.manifest().files("quarantine"))
    assert not (s.store_dir / ".staging").exists()

    [logged] = [json.loads(x) for x in (s.store_dir / "purge_log.jsonl").read_text().splitlines()]
    per = {x["source"]: x for x in logged["sources"]}
    assert per["verbalisations"]["events_removed"] + per["municipal_reports"]["events_removed"] == expected_removed
    assert per["verbalisations"]["cutoff"] == (NOW - timedelta(days=1095)).isoformat()
    assert per["verbalisations"]["files_rewritten"] + per["verbalisations"]["files_removed"] > 0
    [entry] = list(s.audit_log().entries())
    assert (entry["action"], entry["dataset"], entry["rows"], entry["actor"]) == (
        "purge", "events", expected_removed, "user:dpo")
    again = purge(s.store(city), s.retention(), now=NOW, audit=s.audit_log())
    assert again.events_removed == 0 and ids(ParquetStore(s.store_dir)) == visible


def test_the_purge_removes_expired_quarantine_rows(tmp_path: Path, city: CityProfile) -> None:
    s = settings_for(tmp_path, clock=lambda: datetime(2028, 3, 2, tzinfo=UTC))   # quarantined 2025-03-01 + 3 years
    build_store(s.store_dir, city)
    assert sum(len(v) for v in ids(s.store(city), "quarantine").values()) == 1          # only the logbook's left
    report = purge(s.store(city), s.retention(), now=s.clock(), audit=s.audit_log())
    assert report.quarantine_removed == 2
    assert ParquetStore(s.store_dir).quarantine().count().to_pyarrow().as_py() == 1


def test_the_scheduler_purges_at_start_up_and_checkpoints(tmp_path: Path, city: CityProfile) -> None:
    s = settings_for(tmp_path)
    build_store(s.store_dir, city)
    scheduler = PurgeScheduler(s, interval_s=3600).start()
    deadline = time.monotonic() + 30
    while scheduler.runs == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    scheduler.stop()
    assert scheduler.last is not None and scheduler.last.events_removed > 0
    log = s.audit_log()
    assert [e["action"] for e in log.entries()] == ["purge"] and log.verify().checkpoints == 1


def test_a_timestamp_authority_that_fails_is_reported_as_such_not_as_a_failed_purge(
        tmp_path: Path, city: CityProfile, caplog: pytest.LogCaptureFixture) -> None:
    s = settings_for(tmp_path, audit_tsa_url="http://127.0.0.1:9/tsa")       # nothing listens on port 9
    build_store(s.store_dir, city)
    with caplog.at_level("INFO", logger="observatoire.purge"):
        report = PurgeScheduler(s, interval_s=3600).run_once()
    assert report is not None and report.events_removed > 0
    messages = [r.getMessage() for r in caplog.records]
    assert not any("scheduled purge failed" in m for m in messages), messages
    assert any(m.startswith("scheduled purge: ") for m in messages)
    [failed] = [m for m in messages if "checkpoint" in m]
    assert "not timestamped" in failed and "timestamp authority" in failed
    assert s.audit_log().verify().checkpoints == 1                  # signed all the same


@pytest.mark.slow
def test_a_purge_killed_mid_rewrite_changes_nothing_and_the_next_one_completes(tmp_path: Path,
                                                                                city: CityProfile) -> None:
    root = tmp_path / "store"
    build_store(root, city)
    (tmp_path / "retention.toml").write_text("[days]\nverbalisations = 400\nmunicipal_reports = 400\n")
    env = {**os.environ, "OBSERVATOIRE_STORE": str(root), "OBSERVATOIRE_AUDIT": str(tmp_path / "audit"),
           "OBSERVATOIRE_HOLDS": str(tmp_path / "holds.json"),
           "OBSERVATOIRE_RETENTION": str(tmp_path / "retention.toml"), "COLUMNS": "200",
           "OBSERVATOIRE_SUPERSEDED_GRACE_S": "1"}
    cmd = [sys.executable, "-m", "observatoire.cli"]
    # A hold on one zone: every expired file keeps some rows, so the purge must rewrite many files.
    s = Settings(store_dir=root, holds_path=tmp_path / "holds.json", retention_path=tmp_path / "retention.toml",
                 audit_dir=tmp_path / "audit")
    s.holds().add(zone="13201", reason="r", reference="x", actor="user:dpo", now=s.clock(), audit=s.audit_log())
    visible = ids(s.store(city))
    manifest_before = (root / "manifest.json").read_bytes()
    files_before = on_disk(root)
    proc = subprocess.Popen(cmd + ["purge"], env={**env, "OBSERVATOIRE_TEST_WRITE_DELAY_S": "0.3"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(on_disk(root) - files_before) < 3:
        time.sleep(0.02)
    assert proc.poll() is None, "the purge finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert len(on_disk(root) - files_before) >= 3                 # it really was part-way through
    assert (root / "manifest.json").read_bytes() == manifest_before
    raw = ParquetStore(root)
    assert sum(len(v) for v in ids(raw).values()) == 724           # nothing lost
    assert ids(s.store(city)) == visible                           # queries unchanged
    done = subprocess.run(cmd + ["purge"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    raw = ParquetStore(root)
    assert ids(raw) == visible and on_disk(root) == set(raw.manifest().files("events")) | set(
        raw.manifest().files("quarantine"))
    assert not (root / ".staging").exists()
    actions = [e["action"] for e in AuditLog(tmp_path / "audit").entries()]
    assert actions == ["legal_hold", "purge"]                      # the killed run left no entry
    assert AuditLog(tmp_path / "audit").verify().ok


CANARY_PLATE, CANARY_OFFICER = "ZQ-987-XW", "PM9876"


def test_audit_entries_never_carry_record_values(tmp_path: Path, city: CityProfile, sources: dict, gate) -> None:
    header = ('"numero_avis";"date_infraction";"heure_infraction";"natinf";"libelle_infraction";"lieu";'
              '"longitude";"latitude";"immatriculation";"montant_eur";"matricule_agent"\n')
    rows = "".join(f'"AV2025{i:07d}";"0{1 + i % 9}/01/2025";"06:23";11300;"Stationnement gênant";'
                   f'"17 impasse des Canaris, 13001 Marseille";"5,379859";"43,294649";"{CANARY_PLATE}";"35,00";'
                   f'"{CANARY_OFFICER}"\n' for i in range(5))
    path = write(tmp_path / "in", "verbalisations_canary.csv", header + rows + '"bad";"99/99/2025";;;;;;;;;\n')
    s = settings_for(tmp_path)
    log = s.audit_log()
    store = ParquetStore(s.store_dir, zone_ids=city.zone_ids)
    [r] = ingest([path], store=store, city=city, sources=sources, gate=gate, audit=log, actor="cli:tester",
                 now=NOW)
    [entry] = list(log.entries())
    assert (entry["action"], entry["rows"], entry["detail"]["quarantined"], entry["detail"]["admitted"]) == (
        "ingest", r.admitted, r.quarantined, r.admitted)
    assert r.admitted == 5 and r.quarantined == 1
    purge(s.store(city), s.retention(), now=NOW + timedelta(days=4000), audit=log)
    log.checkpoint()
    text = "".join(p.read_text() for p in [*log.segments(), log.checkpoints_path]).lower()
    for canary in (CANARY_PLATE, CANARY_OFFICER, "canaris", "impasse", "zq987xw", "zq 987", "av2025"):
        assert canary.lower() not in text
    assert [e["action"] for e in log.entries()] == ["ingest", "purge"]


# -- old files outlive the queries planned on them -------------------------------------------------------------
def test_a_query_planned_before_a_purge_reads_the_old_files_until_the_grace_has_passed(
        tmp_path: Path, city: CityProfile) -> None:
    """A query built on the previous generation's file list still runs after the purge swapped the manifest (the
    old files are kept for the grace, listed as superseded), new queries see the purged store, no writer's
    clean-up removes a kept file early, and after the grace the files leave the disk."""
    s = settings_for(tmp_path, superseded_grace_s=60.0)
    build_store(s.store_dir, city)
    store = s.store(city)
    planned = store.events().count()                 # planned on generation g (its views name g's files)
    before = planned.to_pyarrow().as_py()
    report = purge(store, s.retention(), now=NOW, audit=None, actor="test", wait=False)
    assert report.events_removed > 0
    kept = {k["file"] for k in store.superseded()}
    assert kept and all((s.store_dir / f).exists() for f in kept)
    assert planned.to_pyarrow().as_py() == before   # grace 0 deletes them at once: duckdb.IOException here
    fresh = s.store(city)
    assert fresh.events().count().to_pyarrow().as_py() == before   # the retention filter already hid them
    # A writer within the grace (here a clean-up after a crash: leftovers removed) keeps them.
    assert fresh.collect_superseded() == 0 and all((s.store_dir / f).exists() for f in kept)
    # After the grace they go, with the next writer or the collection.
    manifest = json.loads((s.store_dir / "manifest.json").read_text())
    for k in manifest["superseded"]:
        k["after"] = time.time() - 1
    (s.store_dir / "manifest.json").write_text(json.dumps(manifest))
    assert fresh.collect_superseded() == len(kept)
    assert not any((s.store_dir / f).exists() for f in kept) and fresh.superseded() == []
    assert on_disk(s.store_dir) == set(fresh.manifest().files("events")) | set(fresh.manifest().files("quarantine"))


def test_the_purge_waits_for_the_grace_and_leaves_only_the_live_files(tmp_path: Path, city: CityProfile) -> None:
    s = settings_for(tmp_path, superseded_grace_s=0.5)
    build_store(s.store_dir, city)
    store = s.store(city)
    started = time.monotonic()
    report = purge(store, s.retention(), now=NOW, audit=None, actor="test")      # wait=True: the default
    assert report.events_removed > 0 and time.monotonic() - started >= 0.5
    assert store.superseded() == []
    assert on_disk(s.store_dir) == set(store.manifest().files("events")) | set(store.manifest().files("quarantine"))


def test_queries_running_through_repeated_purges_never_fail(tmp_path: Path, city: CityProfile) -> None:
    """Readers in threads query the store while purges with ever later clocks rewrite it: no read fails."""
    import threading

    s = settings_for(tmp_path, superseded_grace_s=60.0)
    build_store(s.store_dir, city)
    store = s.store(city)
    errors: list[BaseException] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            try:
                t = store.events()
                expr = t.group_by("source").aggregate(n=t.count())
                time.sleep(0.005)                    # planned, then read a moment later
                expr.to_pyarrow()
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for months in range(6):
            purge(store, s.retention(), now=NOW + timedelta(days=60 * months), audit=None, actor="test", wait=False)
    finally:
        done.set()
        for t in threads:
            t.join()
    assert errors == []
