"""The periodic control report: both versions rendered to PDF and read back (pdftotext), the public version
free of anything from the store, the HTML self-contained, bad input refused, and the command.

One synthetic deployment is built per module: 3,200 logbook events over sixteen months (about a third
discovered by directed attention), the releases of October and November 2024 (December left unpublished),
audit entries stamped inside the quarter (consultations, an export, refusals, a purge, a legal hold), an
operator's verdict on one alert of the quarter and an evaluation plan registered before its deployment.
"""

from __future__ import annotations

import dataclasses
import html as html_lib
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import typer
from typer.testing import CliRunner

from observatoire.city.profile import load_city
from observatoire.errors import InputError
from observatoire.evaluation.service import register as register_plan
from observatoire.governance.audit import AuditLog
from observatoire.governance.purge import purge
from observatoire.registry.feedback import FeedbackLog
from observatoire.registry.versions import RuleRegistry
from observatoire.release.build import build_release
from observatoire.report import fr
from observatoire.report.build import build_report
from observatoire.report.cli import register
from observatoire.report.collect import collect
from observatoire.report.period import parse_period
from observatoire.report.render import to_html, to_pdf
from observatoire.report.rules import replay
from observatoire.settings import Settings
from observatoire.store.base import Batch
from observatoire.store.parquet import ParquetStore
from tests.api.conftest import NOW, Spec, governance_settings, synthetic_events

QUARTER = "2024-Q4"
IN_QUARTER = datetime(2024, 11, 15, 10, tzinfo=UTC)
CATEGORIES = ("violence", "theft", "nuisance", "public_order", "burglary")
HOLD_REASON = "Réquisition judiciaire confidentielle"
PLAN_TITLE = "Patrouilles pédestres dans trois arrondissements"
PUBLIC_ONLY = ("Publications de la période", "Série mensuelle de la ville", "Par arrondissement, mois par mois",
               "Budget de confidentialité", "Règles d'alerte (registre)",
               "Registre des algorithmes et analyse d'impact")
RESTRICTED_ONLY = ("Volumes par source", "Alertes levées et faux positifs", "Équité des lieux", "Patrouilles et besoin",
                   "Boucle de rétroaction", "Évaluations enregistrées", "Accès aux données", "Conservation et purges",
                   "Gels juridiques")


def _events(city, rng: np.random.Generator) -> pa.Table:
    """Synthetic logbook events, about a third of them discovered by directed attention."""
    events = synthetic_events(city, Spec("mains_courantes", 3200, CATEGORIES), rng, "report-mc")
    directed = rng.random(events.num_rows) < 0.35
    discovery = pa.array(np.where(directed, "directed", "independent"), pa.string())
    i = events.schema.get_field_index("discovery")
    return events.set_column(i, events.schema.field(i), discovery)


def _quarter_entries(settings: Settings, store: ParquetStore) -> None:
    """Audit entries stamped inside the quarter: reads, an export, refusals, a purge, a legal hold."""
    log = AuditLog(settings.audit_dir, clock=lambda: IN_QUARTER)
    for _ in range(3):
        log.record("consult", actor="api:analyste-1", role="analyst", dataset="zones",
                   purpose="operational_analysis")
    log.record("export", actor="api:dpo-1", role="dpo", dataset="events", purpose="data_subject_request",
               recipient="personne concernée", rows=4)
    for _ in range(2):
        log.record("authorisation_denied", actor="anonymous", role="public", dataset="events", outcome="denied",
                   detail={"status": 401, "reason": "not_authenticated"})
    purge(store, settings.retention(), now=IN_QUARTER, audit=log)
    settings.holds().add(reason=HOLD_REASON, reference="PV-2024-0042", actor="cli:admin", now=IN_QUARTER,
                         source="mains_courantes", zone="13203", audit=log)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("report")
    city = load_city()
    rng = np.random.default_rng(20241231)
    events = _events(city, rng)
    store = ParquetStore(root / "store", zone_ids=city.zone_ids)
    store.commit(Batch(batch_id="report-mc", source="mains_courantes", source_file="mains_courantes.csv",
                       file_sha256="0" * 64, rows_read=events.num_rows, events=events))
    from observatoire.sources.patrols import PATROL_SCHEMA

    shifts = [{"shift_start": datetime(2024, 10, 1, 6, tzinfo=UTC) + timedelta(days=d),
               "shift_end": datetime(2024, 10, 1, 14, tzinfo=UTC) + timedelta(days=d), "shift": "matin",
               "zone_id": z.zone_id, "officers": 4, "patrol_hours": 32.0} for d in range(92) for z in city.zones]
    patrols = pa.Table.from_pylist(shifts, schema=PATROL_SCHEMA)         # 92 days × 16 zones × 32 h = 47,104 h
    store.commit(Batch(batch_id="report-patrols", source="patrols", source_file="patrols.csv", file_sha256="1" * 64,
                       rows_read=patrols.num_rows, reference=patrols))
    settings = governance_settings(root, store_dir=root / "store", releases_dir=root / "releases")
    _quarter_entries(settings, settings.store(city))
    for month in ("2024-10", "2024-11"):          # December stays unpublished
        build_release(month, store=settings.store(city), city=city, config=settings.release_config(),
                      archive=settings.releases(), retention_days=dict(settings.retention_days), now=NOW,
                      audit=settings.audit_log())
    rule = next(r for r in RuleRegistry(None).engine_rules() if r.id == "violence-logbook-surge")
    q = parse_period(QUARTER)
    alerts = replay(settings.store(city).events(), rule, [z.zone_id for z in city.zones], q.start_at, q.end_at).alerts
    assert alerts, "the synthetic quarter should raise at least one alert"
    FeedbackLog(settings.registry_dir, clock=lambda: IN_QUARTER).add(
        alert_id=alerts[0].id, rule_id=rule.id, rule_version=rule.version, verdict="false", actor="api:operateur-1",
        role="operator", audit=settings.audit_log())
    before = dataclasses.replace(settings, clock=lambda: datetime(2024, 9, 1, tzinfo=UTC))
    register_plan({"title": PLAN_TITLE, "hypothesis": "Les patrouilles réduisent les violences signalées",
                   "outcome": {"source": "mains_courantes", "categories": ["violence"], "discovery": ["independent"]},
                   "design": "staggered_did", "period": "week", "pre_periods": 30, "end": "2025-06-30",
                   "treated": [{"unit": z, "start": "2024-10-07"} for z in ("13201", "13203", "13205")],
                   "buffer": [], "mde": 0.2, "power": 0.8, "alpha": 0.05},
                  settings=before, city=city, query=lambda fn: fn(settings.store(city).events()), actor="test",
                  role="supervisor")
    q_events = pc.and_(pc.greater_equal(events["occurred_at"], pa.scalar(q.start_at, events["occurred_at"].type)),
                       pc.less(events["occurred_at"], pa.scalar(q.end_at, events["occurred_at"].type)))
    return {"root": root, "settings": settings, "exact_quarter": int(pc.sum(q_events).as_py())}


def _plain(text: str) -> str:
    """Text with narrow and plain no-break spaces as spaces, runs of blanks as one, no blank at either end."""
    return re.sub(r"[ \t]+", " ", text.replace(fr.NNBSP, " ").replace("\xa0", " ")).strip()


@pytest.fixture(scope="module")
def html(world: dict) -> dict[str, str]:
    """Each version's HTML (the document is gathered once per version: the PDFs are rendered from it)."""
    period = parse_period(QUARTER)
    return {v: to_html(collect(world["settings"], period, version=v, now=NOW)) for v in ("public", "restricted")}


@pytest.fixture(scope="module")
def pdf_text(html: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each version rendered to PDF, and its text read back with pdftotext."""
    out = {}
    for version, page in html.items():
        data = to_pdf(page)
        assert data.startswith(b"%PDF")
        path = tmp_path_factory.mktemp("pdf") / f"{version}.pdf"
        path.write_bytes(data)
        out[version] = _plain(subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                                             capture_output=True, text=True).stdout)
    return out


def _rows(page: str) -> list[list[str]]:
    """The cells of every table row of an HTML page (spaces normalised)."""
    return [[_plain(html_lib.unescape(c)) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", page)]


def test_public_pdf_has_the_release_figures_and_the_budget(world: dict, pdf_text: dict[str, str]) -> None:
    text = pdf_text["public"]
    assert "Rapport de contrôle périodique — 4e trimestre 2024" in text
    assert "Version publique" in text
    for heading in PUBLIC_ONLY:
        assert heading in text
    archive = world["settings"].releases()
    total = next(c for c in archive.tables("2024-11")["city"] if c["row"] == "total")
    assert total["value"] is not None
    assert f"{total['value']} ± {total['margin_95']}" in text
    assert "< 10" in text and "non publié" in text
    assert next(y for y in archive.ledger(12.0)["years"] if y["year"] == "2024")["epsilon_spent"] == 2.0
    assert "2,00" in text and "10,00" in text and "12,00" in text


def test_public_tables_show_releases_as_published(world: dict, html: dict[str, str]) -> None:
    rows = _rows(html["public"])
    assert ["2024", "2", "2,00", "10,00", "12,00"] in rows, "year, releases, ε spent, ε left, annual budget"
    assert ["décembre 2024", "non publié", "–", "–", "–", "–"] in rows
    tables = world["settings"].releases().tables("2024-10")
    first = tables["zones"][0]
    # In the report's column order (the release's "columns"), not the order of the values' keys: the two differ,
    # and only equal cells (all "< 10") made the test pass by chance.
    expected = [first["short_name"]] + [
        v["shown"] if v["value"] is None else f"{v['value']:,} ± {v['margin_95']:,}".replace(",", " ")
        for v in (first["values"][c["code"]] for c in tables["columns"])]
    assert any(r[:len(expected)] == expected for r in rows), ("a zone row, suppressed cells as published",
                                                               expected, [r for r in rows if r[:1] == expected[:1]])
    assert any(r[0] == "violence-logbook-surge" and r[-2] == "oui" for r in rows)


def test_public_pdf_has_nothing_from_the_store(pdf_text: dict[str, str], html: dict[str, str]) -> None:
    text = pdf_text["public"]
    for heading in RESTRICTED_ONLY:
        assert heading not in text and heading not in html["public"]
    assert "operational_analysis" not in text
    assert "Version restreinte" not in text


def test_restricted_pdf_has_every_control_section(pdf_text: dict[str, str]) -> None:
    text = pdf_text["restricted"]
    assert "Version restreinte" in text
    for heading in PUBLIC_ONLY + RESTRICTED_ONLY:
        assert heading in text
    for figure in ("operational_analysis", "data_subject_request", "non authentifié", "100,0 %", "IC 95 % (jackknife",
                   "Pente de l'écart", "hold-", "ev-"):
        assert figure in text


def test_restricted_tables_hold_the_control_figures(world: dict, html: dict[str, str]) -> None:
    rows = _rows(html["restricted"])
    exact = fr.integer(world["exact_quarter"]).replace(fr.NNBSP, " ")
    assert any(r[0] == "total" and r[-1] == exact for r in rows), "the quarter's exact volume"
    assert ["analyste", "operational_analysis", "3", "0"] in rows
    assert ["DPO", "data_subject_request", "0", "1"] in rows
    assert ["public (anonyme)", "non authentifié", "2"] in rows
    assert any(r[0] == "15 novembre 2024" and r[1] == "entrepôt" for r in rows), "the purge of the quarter"
    alerts = next(r for r in rows if r[0] == "violence-logbook-surge" and len(r) == 8)
    assert alerts[5] == "0 / 1" and alerts[6].startswith("100,0 %"), "the operator's false verdict"
    assert any(r[1] == PLAN_TITLE and r[-1] == "en cours" for r in rows)
    assert any(r[1:4] == ["mains_courantes", "13203", "toute période"] and r[-1] == "en vigueur" for r in rows)
    assert any(r[0] == "plus défavorisés / moins défavorisés" and r[3].startswith("[") for r in rows)
    text = " ".join(_plain(html_lib.unescape(re.sub(r"<[^>]+>", " ", html["restricted"]))).split())
    assert "47 104 heures de patrouille" in text, "the patrol audit of the quarter"
    assert any(r[1] == "par fait signalé" and r[3].startswith("[") and r[4] in ("oui", "non") for r in rows)


def test_no_free_text_or_login_in_the_report(pdf_text: dict[str, str], html: dict[str, str]) -> None:
    for text in (*pdf_text.values(), *html.values()):
        for secret in (HOLD_REASON, "PV-2024-0042", "analyste-1", "dpo-1", "operateur-1", "personne concernée"):
            assert secret not in text


def test_html_is_self_contained(html: dict[str, str]) -> None:
    for page in html.values():
        assert '<html lang="fr">' in page
        assert "<script" not in page and "url(" not in page and "@import" not in page
        references = re.findall(r'(?:src|href)="([^"]*)"', page)
        assert references
        assert not [r for r in references if not (r.startswith("data:image/png;base64,") or r.startswith("#"))]
        assert "http://" not in page and "https://" not in page
        assert len(re.findall(r'<img src="data:image/png;base64,', page)) >= 2


def test_public_version_never_opens_the_store_or_the_audit_log(world: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the public version read the store or the audit log")

    monkeypatch.setattr(Settings, "store", refuse)
    monkeypatch.setattr(Settings, "audit_log", refuse)
    page = build_report(world["settings"], QUARTER, version="public", fmt="html", now=NOW).decode("utf-8")
    assert "Publications de la période" in page


def test_months_without_a_release_are_stated(world: dict) -> None:
    page = build_report(world["settings"], "2024", version="public", fmt="html", now=NOW).decode("utf-8")
    assert page.count("non publié") >= 9
    assert "Septembre 2024 : non publié." in page


@pytest.mark.parametrize("period", ["2024-Q5", "2024-13", "24", "T4 2024", "2024-Q4-", ""])
def test_a_bad_period_is_refused(period: str) -> None:
    with pytest.raises(InputError, match="quarter YYYY-Qn"):
        parse_period(period)


def test_a_bad_version_format_or_future_period_is_refused(world: dict) -> None:
    settings = world["settings"]
    with pytest.raises(InputError, match="html or pdf"):
        build_report(settings, QUARTER, version="public", fmt="docx", now=NOW)
    with pytest.raises(InputError, match="public or restricted"):
        build_report(settings, QUARTER, version="secret", fmt="html", now=NOW)
    with pytest.raises(InputError, match="has not started"):
        build_report(settings, "2025-Q3", version="public", fmt="html", now=NOW)


def test_periods_cover_whole_utc_months() -> None:
    q = parse_period("2026-Q4")
    assert (q.months, q.title_fr) == (("2026-10", "2026-11", "2026-12"), "4e trimestre 2026")
    assert parse_period("2026-11").end.isoformat() == "2026-12-01"
    assert len(parse_period("2026").months) == 12


def test_the_command_writes_the_file_and_exits_2_on_bad_input(world: dict, tmp_path: Path) -> None:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """A test command line holding the report command."""

    register(app)
    runner = CliRunner()
    out = tmp_path / "rapport.html"
    ok = runner.invoke(app, ["report", "--period", QUARTER, "--format", "html", "--version", "public",
                             "--out", str(out), "--home", str(world["root"])])
    assert ok.exit_code == 0, ok.output
    assert "Publications de la période" in out.read_text(encoding="utf-8")
    bad = runner.invoke(app, ["report", "--period", "2024-Q9", "--format", "html", "--out", str(tmp_path / "x.html"),
                              "--home", str(world["root"])])
    assert bad.exit_code == 2
    assert bad.output.count("error:") == 1 and "2024-Q9" in bad.output
    assert not (tmp_path / "x.html").exists()
    secret = tmp_path / "restreint.html"
    ok = runner.invoke(app, ["report", "--period", QUARTER, "--format", "html", "--version", "restricted",
                             "--out", str(secret), "--home", str(world["root"])])
    assert ok.exit_code == 0, ok.output
    assert secret.stat().st_mode & 0o777 == 0o600                  # exact figures: readable by its owner only
    exports = [e for e in Settings.from_env(world["root"]).audit_log().entries() if e["dataset"] == "control_report"]
    assert [(e["action"], e["filters"]["version"], e["recipient"]) for e in exports][-2:] == [
        ("export", "public", "public"), ("export", "restricted", "comité de contrôle")]
