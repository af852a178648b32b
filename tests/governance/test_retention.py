"""Retention: with a frozen clock, records vanish from every query at expiry; held records stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from observatoire.city.profile import CityProfile, load_city
from observatoire.errors import InputError
from observatoire.event.schema import QUARANTINE_SCHEMA
from observatoire.governance.audit import AuditLog
from observatoire.governance.retention import Holds, Retention, load_retention_days
from observatoire.settings import Settings
from observatoire.store.base import Batch
from observatoire.store.parquet import ParquetStore
from tests.api.conftest import Spec, build_store, synthetic_events

T = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
US = timedelta(microseconds=1)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def city() -> CityProfile:
    return load_city()


def commit(store: ParquetStore, city: CityProfile, source: str, category: str, times: list[datetime],
           batch_id: str, quarantined_at: datetime | None = None) -> None:
    events = synthetic_events(city, Spec(source, 0, (category,), tuple(times)), np.random.default_rng(1), batch_id)
    quarantine = None
    if quarantined_at is not None:
        import pyarrow as pa

        quarantine = pa.Table.from_pylist([{"batch_id": batch_id, "source": source, "source_file": "f.csv",
                                            "source_row": 99, "reason": "bad_timestamp", "detail": "occurred_at",
                                            "quarantined_at": quarantined_at}], schema=QUARANTINE_SCHEMA)
    store.commit(Batch(batch_id, source, f"{source}.csv", "0" * 64, len(times), events=events, quarantine=quarantine))


def count(t) -> int:
    return t.count().to_pyarrow().as_py()


def test_the_packaged_periods_are_the_settings_default_and_a_file_can_replace_them(tmp_path: Path) -> None:
    days = load_retention_days()
    assert days["cctv_events"] == 30 and days["social_media"] == 30 and days["mains_courantes"] == 5 * 365
    assert dict(Settings().retention_days) == dict(days)
    custom = tmp_path / "retention.toml"
    custom.write_text("[days]\ncctv_events = 7\n")
    assert dict(Settings(retention_path=custom).retention_days) == {"cctv_events": 7}
    assert dict(Settings(retention_path=custom, retention_days={"x": 1}).retention_days) == {"x": 1}
    custom.write_text("[days]\ncctv_events = -1\n")
    with pytest.raises(InputError, match="positive"):
        load_retention_days(custom)


def test_a_record_vanishes_from_queries_at_the_instant_its_retention_ends(tmp_path: Path, city: CityProfile) -> None:
    clock = Clock(T)
    store = ParquetStore(tmp_path / "s", zone_ids=city.zone_ids, clock=clock,
                         retention=Retention({"verbalisations": 1095, "mains_courantes": 1825}))
    commit(store, city, "verbalisations", "parking_offence", [T, T + DAY], "b1", quarantined_at=T)
    commit(store, city, "mains_courantes", "theft", [T], "b2")
    expiry = T + 1095 * DAY
    clock.now = expiry - US
    assert count(store.events()) == 3 and count(store.quarantine()) == 1
    clock.now = expiry
    assert count(store.events()) == 2 and count(store.quarantine()) == 0        # not yet purged: still on disk
    assert sorted(store.events().source.to_pyarrow().to_pylist()) == ["mains_courantes", "verbalisations"]
    clock.now = expiry + DAY
    assert store.events().source.to_pyarrow().to_pylist() == ["mains_courantes"]
    raw = ParquetStore(tmp_path / "s", zone_ids=city.zone_ids)               # no retention rule: what is on disk
    assert count(raw.events()) == 3


def test_a_shortened_period_applies_at_once_to_stored_records(tmp_path: Path, city: CityProfile) -> None:
    root = tmp_path / "s"
    commit(ParquetStore(root, zone_ids=city.zone_ids), city, "verbalisations", "parking_offence",
           [T - 10 * DAY, T - 100 * DAY], "b1")
    base = dict(store_dir=root, clock=Clock(T), holds_path=tmp_path / "holds.json")
    assert count(Settings(**base).store(city).events()) == 2
    assert count(Settings(**base, retention_days={"verbalisations": 30}).store(city).events()) == 1


def test_the_retention_date_stamped_at_ingest_still_binds(tmp_path: Path, city: CityProfile) -> None:
    store = ParquetStore(tmp_path / "s", zone_ids=city.zone_ids, clock=Clock(datetime(2030, 1, 2, tzinfo=UTC)),
                         retention=Retention({}))
    commit(store, city, "verbalisations", "parking_offence", [datetime(2029, 12, 1, tzinfo=UTC)], "b1")
    assert count(store.events()) == 0          # synthetic_events stamps retention_until 2030-01-01


@pytest.mark.parametrize("criteria, held", [
    ({"source": "verbalisations"}, 3),
    ({"zone": "13201"}, 3),
    ({"start": T.isoformat(), "end": (T + DAY).isoformat()}, 1),
    ({"source": "mains_courantes"}, 0),
    ({"source": "verbalisations", "start": (T + DAY).isoformat()}, 2),
])
def test_legal_holds_keep_records_visible_past_their_retention(tmp_path: Path, city: CityProfile,
                                                               criteria: dict, held: int) -> None:
    clock = Clock(T + 2000 * DAY)
    holds = Holds(tmp_path / "holds.json")
    store = ParquetStore(tmp_path / "s", zone_ids=city.zone_ids, clock=clock,
                         retention=Retention({"verbalisations": 1095}, holds))
    commit(store, city, "verbalisations", "parking_offence", [T, T + DAY, T + 2 * DAY], "b1")
    assert count(store.events()) == 0
    audit = AuditLog(tmp_path / "audit", clock=clock, durable=False)
    hold = holds.add(reason="enquête judiciaire", reference="TJ-2026-42", actor="user:dpo", now=clock.now,
                     audit=audit, role="dpo", **criteria)
    assert count(store.events()) == held
    holds.lift(hold.hold_id, actor="user:dpo", now=clock.now, audit=audit, role="dpo")
    assert count(store.events()) == 0
    entries = list(audit.entries())
    assert [(e["action"], e["detail"]["op"]) for e in entries] == [("legal_hold", "add"), ("legal_hold", "lift")]
    text = "".join(p.read_text() for p in audit.segments())
    assert "TJ-2026-42" not in text and "enquête" not in text       # reason and reference stay in the holds file


def test_a_hold_on_event_ids_keeps_exactly_those(tmp_path: Path, city: CityProfile) -> None:
    clock = Clock(T + 2000 * DAY)
    holds = Holds(tmp_path / "holds.json")
    store = ParquetStore(tmp_path / "s", zone_ids=city.zone_ids, clock=clock,
                         retention=Retention({"verbalisations": 1095}, holds))
    commit(store, city, "verbalisations", "parking_offence", [T, T + DAY, T + 2 * DAY], "b1")
    ids = ParquetStore(tmp_path / "s").events().event_id.to_pyarrow().to_pylist()
    holds.add(reason="r", reference="ref", actor="user:dpo", now=clock.now, event_ids=ids[:2])
    assert sorted(store.events().event_id.to_pyarrow().to_pylist()) == sorted(ids[:2])


@pytest.mark.parametrize("kwargs", [{}, {"source": "x", "reason": ""}, {"source": "x", "start": "2025-02-01",
                                                                         "end": "2025-01-01"}])
def test_a_hold_needs_a_criterion_a_reason_and_an_order(tmp_path: Path, kwargs: dict) -> None:
    args = {"reason": "r", "reference": "ref"} | kwargs
    with pytest.raises(InputError):
        Holds(tmp_path / "h.json").add(actor="user:dpo", now=T, **args)


def test_api_counts_drop_expired_records_at_expiry(tmp_path: Path, city: CityProfile) -> None:
    from observatoire.api.app import create_app
    from tests.api.conftest import add_role_accounts, governance_settings, login_as

    root = tmp_path / "store"
    build_store(root, city)
    clock = Clock(datetime(2025, 3, 1, tzinfo=UTC))
    app = create_app(governance_settings(tmp_path / "gov", store_dir=root, clock=clock))
    add_role_accounts(app)
    with TestClient(app) as client:
        login_as(client, "supervisor")

        def meta() -> dict[str, int]:
            return {s["source"]: s["events"] for s in client.get("/api/v1/meta").json()["sources"]}

        before = meta()
        assert before == {"mains_courantes": 324, "municipal_reports": 160, "verbalisations": 240}
        raw = ParquetStore(root).events()
        clock.now = datetime(2027, 6, 1, tzinfo=UTC)            # verbalisations, reports: 3 years; logbook: 5
        login_as(client, "supervisor")                          # the session of 2025 has long ended
        cut = clock.now - 1095 * DAY
        expected = {s: count(raw.filter((raw.source == s) & ((raw.occurred_at > cut) | (s == "mains_courantes"))))
                    for s in before}
        after = meta()
        assert after == expected and after["mains_courantes"] == 324 and after["verbalisations"] < 240
        zones = client.get("/api/v1/zones", params={"source": "verbalisations"}).json()
        assert sum(f["properties"]["count"] for f in zones["features"]) <= expected["verbalisations"]


def test_records_past_their_retention_when_ingested_are_reported_not_silently_hidden(tmp_path: Path) -> None:
    """A file whose records are all older than their retention is admitted, stored and at once invisible: the
    ingest says so (terminal and audit entry), and /api/v1/meta still lists the source with its hidden count."""
    import os
    import subprocess
    import sys

    from observatoire.api.app import create_app

    sample = Path(__file__).parents[2] / "docs" / "samples" / "verbalisations_sample.csv"   # January 2025
    (tmp_path / "retention.toml").write_text("[days]\nverbalisations = 30\n")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("OBSERVATOIRE_")},
           "OBSERVATOIRE_HOME": str(tmp_path / "home"), "OBSERVATOIRE_RETENTION": str(tmp_path / "retention.toml"),
           "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "observatoire.cli", "ingest", str(sample)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stderr.split())
    assert "15 admitted, of which 15 already past the retention of verbalisations and invisible" in said, said
    settings = Settings.from_env(home=tmp_path / "home", retention_path=tmp_path / "retention.toml",
                                 secure_cookies=False)
    [entry] = [e for e in settings.audit_log().entries() if e["action"] == "ingest"]
    assert entry["detail"]["admitted"] == 15 and entry["detail"]["past_retention"] == 15
    from observatoire.auth.service import Auth

    _, secret = Auth.from_settings(settings).tokens.issue("retention-test", "analyst", issued_by="test", days=1)
    with TestClient(create_app(settings)) as client:
        answer = client.get("/api/v1/meta", headers={"Authorization": f"Bearer {secret}"})
        sources = {s["source"]: s for s in answer.json()["sources"]}
    assert sources["verbalisations"]["events"] == 0 and sources["verbalisations"]["past_retention"] == 15
