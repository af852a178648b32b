"""Regulator documents: generated from the live configuration, complete, and self-contained in HTML."""

from __future__ import annotations

import copy
import datetime as dt
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from observatoire.api.routes import regulator as regulator_routes
from observatoire.governance.audit import AuditLog
from observatoire.regulator import document
from observatoire.regulator.cli import documents_app
from observatoire.regulator.documents import AIPD_KEYS, REGISTER_KEYS, TO_COMPLETE
from observatoire.regulator.render import render
from observatoire.registry.versions import RuleRegistry, packaged_rules_dir
from observatoire.settings import Settings

NOW = dt.datetime(2025, 6, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings(store_dir=tmp_path / "store", registry_dir=tmp_path / "registry", audit_dir=tmp_path / "audit",
                    clock=lambda: NOW)


def _text(doc: dict) -> str:
    return render(doc, "md")


def _section(doc: dict, key: str) -> dict:
    return next(s for s in doc["sections"] if s["key"] == key)


def test_every_required_section_is_present_and_only_dpo_sections_are_left_to_complete(settings: Settings) -> None:
    register, aipd = document(settings, "register"), document(settings, "aipd")
    assert [s["key"] for s in register["sections"]] == list(REGISTER_KEYS)
    assert [s["key"] for s in aipd["sections"]] == list(AIPD_KEYS)
    assert [s["key"] for s in aipd["sections"] if s["to_complete"]] == [
        "necessity_proportionality", "risk_assessment", "data_subject_rights", "dpo_opinion"]
    for doc in (register, aipd):
        for s in doc["sections"]:
            assert s["title"] and s["blocks"], s["key"]
    # One inventory line per source with a privacy policy, each with retention and measures.
    inventory = _section(aipd, "inventory")["blocks"][0]["table"]
    assert [r[0] for r in inventory["rows"]] == sorted(
        ["mains_courantes", "verbalisations", "municipal_reports", "cctv_cameras", "cctv_events", "hospital",
         "hospital_counts", "social_media", "planned_events", "patrols", "police_uk", "ssmsi", "stops"])
    cctv = next(r for r in inventory["rows"] if r[0] == "cctv_events")
    assert cctv[4] == "30 jours" and "face_embedding" in cctv[6]
    mains = next(r for r in inventory["rows"] if r[0] == "mains_courantes")
    assert "pseudonymisation HMAC : agent (officer), personnes_impliquees (person)" in mains[6]
    # A source without a legal basis in processing.yaml is flagged for the DPO, by name.
    assert "Base légale à compléter pour : social_media." in _section(aipd, "inventory")["blocks"]
    # The register lists the five packaged rules and the forecasters.
    rules = _section(register, "processing_and_parameters")["blocks"][1]["table"]["rows"]
    assert [r[0] for r in rules] == sorted(p.stem for p in packaged_rules_dir().glob("*.yaml"))
    assert "st_etas" in _text(register) and "grid_etas" in _text(register)
    # The access table is published route by route.
    access = _section(register, "access")["blocks"][0]
    assert ["GET", "/api/v1/rules"] == access["table"]["rows"][[r[1] for r in access["table"]["rows"]].index(
        "/api/v1/rules")][:2]


def test_the_documents_follow_a_change_of_retention_and_a_newly_approved_rule(settings: Settings,
                                                                              tmp_path: Path) -> None:
    before = _text(document(settings, "aipd"))
    assert "| cctv_events | 30 jours |" in before
    shorter = Settings(**{**{f: getattr(settings, f) for f in ("store_dir", "registry_dir", "audit_dir", "clock")},
                          "retention_days": {**settings.retention_days, "cctv_events": 7}})
    after = _text(document(shorter, "aipd"))
    assert "| cctv_events | 7 jours |" in after and "| cctv_events | 30 jours |" not in after
    assert "7 jours" in _text(document(shorter, "register"))

    registry = RuleRegistry.from_settings(settings, audit=AuditLog(settings.audit_dir, clock=settings.clock,
                                                                   durable=False))
    doc = yaml.safe_load((Path(__file__).parents[1] / "registry" / "fixtures" / "good" / "night-violence-ewma.yaml")
                         .read_text(encoding="utf-8"))
    assert "night-violence-ewma" not in _text(document(settings, "register"))
    registry.propose(copy.deepcopy(doc), actor="user:alice", role="analyst")
    pending = document(settings, "register")
    row = next(r for r in _section(pending, "processing_and_parameters")["blocks"][1]["table"]["rows"]
               if r[0] == "night-violence-ewma")
    assert row[4] == "non (active)"                       # published while pending, not applied
    registry.decide("night-violence-ewma", 1, approve=True, actor="user:bob", role="supervisor")
    row = next(r for r in _section(document(settings, "register"), "processing_and_parameters")["blocks"][1]
               ["table"]["rows"] if r[0] == "night-violence-ewma")
    assert row[4] == "oui" and "min_count = 5" in row[3] and "méthode ewma" in row[3]


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.external: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for name, value in attrs:
            if name in ("src", "href", "srcset", "data") and value:
                self.external.append(value)


def test_the_html_is_one_self_contained_page(settings: Settings) -> None:
    for kind in ("register", "aipd"):
        html = render(document(settings, kind), "html")
        parser = _Assets()
        parser.feed(html)
        assert parser.external == []
        assert not parser.tags & {"script", "link", "img", "iframe", "object", "embed"}
        assert "http://" not in html and "https://" not in html and "url(" not in html
        assert html.startswith("<!DOCTYPE html>") and "<style>" in html
    assert html.count('class="dpo"') == 4 and TO_COMPLETE in html


def test_routes_and_cli_give_the_same_document_in_each_format(settings: Settings, tmp_path: Path) -> None:
    app = FastAPI()
    app.state.settings = settings
    app.include_router(regulator_routes.router)
    client = TestClient(app)
    body = client.get("/api/v1/register").json()
    assert body["kind"] == "algorithm_register" and body["generated_at"] == "2025-06-01T09:00:00+00:00"
    md = client.get("/api/v1/aipd", params={"format": "md"})
    assert md.headers["content-type"].startswith("text/markdown") and md.text.startswith("# Analyse d'impact")
    html = client.get("/api/v1/aipd", params={"format": "html"})
    assert html.headers["content-type"].startswith("text/html")
    assert client.get("/api/v1/aipd", params={"format": "pdf"}).status_code == 422
    out = tmp_path / "register.json"
    result = CliRunner().invoke(documents_app, ["register", "--format", "json", "--out", str(out),
                                                "--registry", str(settings.registry_dir)])
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text(encoding="utf-8"))
    assert [s["key"] for s in written["sections"]] == [s["key"] for s in body["sections"]]


def test_a_group_column_declared_lawful_is_listed_with_its_legal_basis_in_the_register_and_the_aipd(
        settings: Settings, tmp_path: Path) -> None:
    """A deployment that keeps a stop record's group column (with its legal basis under [stops.lawful]) says so in
    both documents; the packaged policy keeps none, and says nothing of the kind."""
    import dataclasses

    packaged = (Path(__file__).parents[2] / "src" / "observatoire" / "gate" / "policies.toml").read_text("utf-8")
    basis = "Loi n° 0000-00, art. 1 (exemple)"
    city = tmp_path / "city_policies.toml"
    city.write_text(packaged.replace('perceived_origin = "refuse"',
                                     'perceived_origin = { action = "keep:vocabulary", values = ["a", "b"] }')
                    .replace("[stops.lawful]\n", f'[stops.lawful]\nperceived_origin = "{basis}"\n'), "utf-8")
    before = {kind: _text(document(settings, kind)) for kind in ("register", "aipd")}
    declared = dataclasses.replace(settings, policy_path=city)
    for kind in ("register", "aipd"):
        text = " ".join(_text(document(declared, kind)).split())
        assert "perceived_origin" in text and basis in text, kind
        assert basis not in before[kind] and "colonne de groupe" not in before[kind]   # refused: never stored
