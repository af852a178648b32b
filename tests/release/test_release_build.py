"""The release gate's build: closed months only, tables that add up, immutable, budgeted, reproducible."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from observatoire.city.profile import load_city
from observatoire.errors import InputError
from observatoire.governance.audit import AuditLog
from observatoire.release.archive import ReleaseArchive
from observatoire.release.build import Refusal, build_release, due_months, publish_due, verify_release
from observatoire.release.config import load_release_config
from observatoire.release.schedule import ReleaseScheduler
from observatoire.release.tables import UNLOCATED, Layout, exact_matrix
from observatoire.settings import Settings, _packaged_retention_days

sys.path.insert(0, str(Path(__file__).parent))
from release_fixtures import city_store  # noqa: E402

MONTHS = ["2024-01", "2024-02", "2024-03"]
NOW = datetime(2024, 5, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def city():
    return load_city()


@pytest.fixture(scope="module")
def store(tmp_path_factory, city):
    return city_store(tmp_path_factory.mktemp("store"), city, MONTHS)


@pytest.fixture
def archive(tmp_path):
    return ReleaseArchive(tmp_path / "releases")


def _build(month, store, city, archive, *, config=None, now=NOW, audit=None, retention=None):
    return build_release(month, store=store, city=city, config=config or load_release_config(), archive=archive,
                         retention_days=retention or dict(_packaged_retention_days()), now=now, audit=audit)


def test_a_release_adds_up_and_its_error_is_the_measured_noise(store, city, archive) -> None:
    manifest = _build("2024-02", store, city, archive)
    tables = archive.tables("2024-02")
    private = archive.measurement("2024-02")
    config = load_release_config()
    layout = Layout.of(city, config)
    noisy = np.array(private["noisy"]).reshape(layout.shape)
    exact = exact_matrix(store.events(), layout, month="2024-02", sources=("mains_courantes",))
    groups = {g.code: [layout.categories.index(c) for c in g.categories] for g in config.groups}
    for row in tables["zones"]:                       # every published zone number is the sum of its noisy cells
        r = layout.zones.index(row["zone_id"])
        for code, v in row["values"].items():
            cols = range(len(layout.categories)) if code == "total" else groups[code]
            expected = int(noisy[r, list(cols)].sum())
            assert v["value"] in (None, expected)
            assert (v["value"] is None) == (v["status"] != "published")
            if v["status"] == "primary":
                assert expected < tables["k"] and v["shown"] == f"< {tables['k']}"
    city_rows = {(c["row"], c["column"]): c for c in tables["city"]}
    total = city_rows[("total", "total")]["value"]
    assert total == int(noisy.sum())
    # zones and the events without a zone add up to the city's total; categories to their group
    assert total == int(noisy[:-1].sum()) + int(noisy[layout.zones.index(UNLOCATED)].sum())
    for g in config.groups:
        if len(g.categories) > 1:
            assert city_rows[("groupe", g.code)]["value"] == sum(int(noisy[:, layout.categories.index(c)].sum())
                                                                 for c in g.categories)
    # every shown number is a positive integer, and the noise is within a few margins of the truth
    shown = [v for row in tables["zones"] for v in row["values"].values() if v["value"] is not None]
    assert shown and all(isinstance(v["value"], int) and v["value"] >= tables["k"] for v in shown)
    assert abs(total - int(exact.sum())) <= 3 * city_rows[("total", "total")]["margin_95"]
    assert manifest["privacy_loss"]["epsilon"] == pytest.approx(1.0)
    assert manifest["mechanism"]["name"] == "discrete_laplace" and manifest["mechanism"]["library"].startswith("opendp")
    assert set(manifest["files"]) == {"release.json", "zones.csv", "city.csv", "zones.geojson"}


def test_a_release_never_changes_and_is_read_only(store, city, archive) -> None:
    _build("2024-01", store, city, archive)
    before = {p.name: p.read_bytes() for p in (archive.root / "2024-01").iterdir()}
    with pytest.raises(Refusal, match="already published") as refused:
        _build("2024-01", store, city, archive)
    assert refused.value.reason == "published"
    assert {p.name: p.read_bytes() for p in (archive.root / "2024-01").iterdir()} == before
    for p in (archive.root / "2024-01").iterdir():
        assert not os.access(p, os.W_OK) or os.geteuid() == 0
        assert p.stat().st_mode & 0o222 == 0                     # no write bit for anyone
    assert (archive.root / ".private").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("month, now, reason", [
    ("2024-03", datetime(2024, 4, 5, tzinfo=UTC), "not_closed"),      # 7 days after the end of March
    ("2024-13", NOW, None),
    ("0000-01", NOW, None),
    ("9999-12", NOW, None),
])
def test_a_month_not_closed_or_not_a_month_is_refused(store, city, archive, month, now, reason) -> None:
    with pytest.raises(InputError) as refused:
        _build(month, store, city, archive, now=now)
    if reason:
        assert refused.value.reason == reason
    assert archive.ids() == []


def test_the_ledger_refuses_a_release_over_the_years_budget_and_audits_it(store, city, archive, tmp_path) -> None:
    custom = tmp_path / "release.toml"
    packaged = (Path(load_release_config.__code__.co_filename).parent / "release.toml").read_text()
    custom.write_text(packaged.replace("annual_budget = 12.0", "annual_budget = 2.5"))
    config = load_release_config(custom)
    audit = AuditLog(tmp_path / "audit", clock=lambda: NOW)
    report = publish_due(store=store, city=city, config=config, archive=archive,
                         retention_days=dict(_packaged_retention_days()), now=NOW, audit=audit, first_month="2024-01")
    assert report.built == ["2024-01", "2024-02"]
    assert list(report.refused) == ["2024-03"] and "budget" in report.refused["2024-03"]
    ledger = archive.ledger(config.annual_budget)
    assert [r["release"] for r in ledger["releases"]] == ["2024-01", "2024-02"]
    assert ledger["years"] == [{"year": "2024", "epsilon_spent": 2.0, "epsilon_left": 0.5}]
    entries = [e for e in audit.entries() if e["action"] == "release"]
    assert [(e["detail"]["release"], e["outcome"]) for e in entries] == [("2024-01", "ok"), ("2024-02", "ok"),
                                                                          ("2024-03", "denied")]
    assert entries[-1]["detail"]["reason"] == "budget"
    manifest = archive.manifest("2024-02")
    assert manifest["budget"] == {"year": 2024, "spent_before": 1.0, "spent_after": 2.0, "annual_budget": 2.5}


def test_a_release_reproduces_from_its_manifest_and_measurement(store, city, archive) -> None:
    _build("2024-02", store, city, archive)
    assert verify_release("2024-02", archive=archive, city=city, store=store) == []
    target = archive.root / "2024-02" / "zones.csv"
    os.chmod(target, 0o644)
    target.write_bytes(target.read_bytes().replace(b";published", b";publishe_", 1))
    problems = verify_release("2024-02", archive=archive, city=city, store=store)
    assert problems == ["2024-02/zones.csv: differs from the digest in its manifest"]


def test_a_source_kept_for_less_than_the_month_is_not_counted(store, city, archive) -> None:
    retention = {**_packaged_retention_days(), "mains_courantes": 60}
    # 2024-02 starts 90 days before NOW: a 60-day retention no longer covers it
    with pytest.raises(Refusal, match="retention \\(60 days\\) no longer covers") as refused:
        _build("2024-02", store, city, archive, retention=retention)
    assert refused.value.reason == "no_source"


def test_the_configuration_refuses_what_is_never_published(tmp_path) -> None:
    packaged = (Path(load_release_config.__code__.co_filename).parent / "release.toml").read_text()
    cases = {
        'sources = ["mains_courantes", "hospital"]': "never published: hospital",
        'sources = ["verbalisations"]': "never published: verbalisations",
        'categories = ["road_safety"]': None,
    }
    for i, (line, message) in enumerate(cases.items()):
        path = tmp_path / f"r{i}.toml"
        text = packaged.replace('sources = ["mains_courantes"]', line) if "sources" in line else packaged
        path.write_text(text)
        if message:
            with pytest.raises(InputError, match=message):
                load_release_config(path)
    bad = packaged.replace('categories = ["other_crime"]', 'categories = ["other_crime", "parking_offence"]')
    (tmp_path / "bad.toml").write_text(bad)
    with pytest.raises(InputError, match="parking_offence is not an incident"):
        load_release_config(tmp_path / "bad.toml")
    twice = packaged.replace('categories = ["other_crime"]', 'categories = ["other_crime", "violence"]')
    (tmp_path / "twice.toml").write_text(twice)
    with pytest.raises(InputError, match="violence is in two groups"):
        load_release_config(tmp_path / "twice.toml")
    over = packaged.replace("epsilon = 1.0", "epsilon = 20.0")
    (tmp_path / "over.toml").write_text(over)
    with pytest.raises(InputError, match="exceeds the annual budget"):
        load_release_config(tmp_path / "over.toml")


def test_health_data_raises_the_threshold_to_11() -> None:
    config = load_release_config()
    assert config.k_for(("mains_courantes",)) == 10
    assert config.k_for(("mains_courantes", "hospital")) == 11


def test_the_manifest_names_code_version_and_parameters(store, city, archive) -> None:
    manifest = _build("2024-01", store, city, archive)
    assert manifest["code_version"]["package"] and len(manifest["code_version"]["release_code_sha256"]) == 64
    assert manifest["parameters"]["k_applied"] == 10 and manifest["parameters"]["epsilon"] == 1.0
    assert manifest["sources"] == {"included": ["mains_courantes"], "excluded": {}}
    # the exact input's digest stays private: never in a public file
    private = archive.measurement("2024-01")
    for name in manifest["files"]:
        assert private["input_sha256"] not in archive.path("2024-01", name).read_text(encoding="utf-8")
    assert private["input_sha256"] not in json.dumps(manifest)


def _settings(store, tmp_path, **kw) -> Settings:
    return Settings(store_dir=store.root, releases_dir=tmp_path / "releases", audit_dir=tmp_path / "audit",
                    clock=lambda: NOW, **kw)


def test_which_months_are_due_depends_on_dates_and_configuration_never_on_the_data(store, city, tmp_path) -> None:
    config = load_release_config()
    empty = city_store(tmp_path / "empty", city, [])
    archive = ReleaseArchive(tmp_path / "r")
    assert due_months(archive, config, NOW) == []                     # no first month, no release: nothing
    assert due_months(archive, config, NOW, first_month="2023-11") == ["2023-11", "2023-12"] + MONTHS
    for s in (store, empty):                                          # the same releases whatever the data
        a = ReleaseArchive(tmp_path / f"r-{id(s)}")
        report = publish_due(store=s, city=city, config=config, archive=a,
                             retention_days=dict(_packaged_retention_days()), now=NOW, first_month="2024-02")
        assert report.built == ["2024-02", "2024-03"] and a.manifest("2024-02")["suppression"]["numbers"] == 114
    _build("2024-01", store, city, archive)                          # a first month by hand, then on schedule
    assert due_months(archive, config, NOW) == ["2024-02", "2024-03"]


def test_serve_publishes_the_closed_months_on_its_schedule(store, tmp_path) -> None:
    custom = tmp_path / "release.toml"
    packaged = (Path(load_release_config.__code__.co_filename).parent / "release.toml").read_text()
    custom.write_text(packaged.replace('# first_month = "2026-01"', 'first_month = "2024-01"'))
    scheduler = ReleaseScheduler(_settings(store, tmp_path, release_path=custom), interval_s=3600).start()
    try:
        deadline = time.monotonic() + 60
        while scheduler.last is None and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        scheduler.stop()
    assert scheduler.last is not None and scheduler.last.built == MONTHS   # March closed on 8 April
    assert ReleaseArchive(tmp_path / "releases").ids() == MONTHS


def _cli(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    import observatoire.cli as cli

    monkeypatch.setattr(sys, "argv", ["observatoire", "release", *args])
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def test_the_command_line_publishes_refuses_lists_and_verifies(store, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("OBSERVATOIRE_STORE", str(store.root))
    monkeypatch.setenv("OBSERVATOIRE_RELEASES", str(tmp_path / "releases"))
    monkeypatch.setenv("OBSERVATOIRE_AUDIT", str(tmp_path / "audit"))
    code, err = _cli(monkeypatch, capsys, "build", "--period", "2024-02")
    assert code == 0 and "release 2024-02 published: epsilon 1" in err
    code, err = _cli(monkeypatch, capsys, "build", "--period", "2024-02")
    assert code == 2 and "already published" in err and "Traceback" not in err
    code, err = _cli(monkeypatch, capsys, "build", "--period", "février")
    assert code == 2 and "YYYY-MM" in err
    code, err = _cli(monkeypatch, capsys, "verify")
    assert code == 0 and "1 release(s) reproduce" in err
    code, err = _cli(monkeypatch, capsys, "list")
    assert code == 0 and "2024-02" in err


def test_the_margins_the_docs_quote_are_the_noise_quantiles() -> None:
    from observatoire.release.mechanism import margin

    # one cell at scale 1: P(|X| > m) = 2 p^(m+1) / (1 + p), p = 1/e: 0.073 at m = 2, 0.027 at m = 3
    assert margin(1, 1.0) == 3
    assert margin(3, 1.0) == 5          # a zone's group of three categories (docs/release.md)
    assert margin(1, 1.0, level=0.9) == 2
