"""GET /api/v1/events: purpose, fields per role, filters, one consult entry per call; GET /api/v1/audit."""

from __future__ import annotations

from typing import Any

from observatoire.governance.access import EVENT_FIELDS

from conftest import PSEUDONYM, TEXT, World

PURPOSES = {"analyst": "operational_analysis", "supervisor": "operational_analysis", "auditor": "audit_control",
            "dpo": "data_subject_request"}


def _get(world: World, role: str, query: str = "", **headers: str) -> Any:
    with world.client() as c:
        return c.get(f"/api/v1/events{query}", headers={"Authorization": f"Bearer {world.tokens[role]}",
                                                        "X-Purpose": PURPOSES[role], **headers})


def test_each_role_sees_its_fields_only(world: World) -> None:
    for role in PURPOSES:
        body = _get(world, role, "?limit=1000").json()
        assert body["count"] == 40 and not body["truncated"] and body["purpose"] == PURPOSES[role]
        assert all(set(row) == set(EVENT_FIELDS[role]) for row in body["rows"])
        text = str(body["rows"])
        if role == "dpo":
            assert PSEUDONYM in text and TEXT in text
        else:                                            # analysts never see pseudonyms nor free text
            assert PSEUDONYM not in text and TEXT not in text
            assert "pseudonyms" not in body["fields"] and "text" not in body["fields"]


def test_filters_and_limit(world: World) -> None:
    rows = _get(world, "analyst", "?limit=1000").json()["rows"]
    zone = rows[0]["zone_id"]
    body = _get(world, "analyst", f"?zone={zone}&start=2025-01-10&end=2025-02-01&category=violence").json()
    expected = [r["event_id"] for r in rows if r["zone_id"] == zone and r["category"] == "violence"
                and "2025-01-10" <= str(r["occurred_at"])[:10] < "2025-02-01"]
    assert [r["event_id"] for r in body["rows"]] == expected and expected
    limited = _get(world, "analyst", "?limit=5").json()
    assert limited["count"] == 5 and limited["truncated"]
    assert _get(world, "analyst", "?source=nowhere").status_code == 422
    assert _get(world, "analyst", "?limit=0").status_code == 422


def test_every_call_is_one_consult_entry_with_filters_and_rows(world: World) -> None:
    before = world.last_seq()
    assert _get(world, "analyst", "?zone=13201&limit=3").status_code == 200
    assert _get(world, "analyst", "?limit=0").status_code == 422
    entries = [e for e in world.audit.entries() if e["seq"] > before]
    assert [(e["action"], e["outcome"]) for e in entries] == [("consult", "ok"), ("consult", "failed")]
    ok, failed = entries
    assert ok["dataset"] == "events" and ok["filters"] == {"zone": "13201", "limit": "3"} and ok["rows"] == 3
    assert ok["purpose"] == "operational_analysis" and ok["role"] == "analyst" and ok["actor"].startswith("token:")
    assert failed["rows"] is None and failed["detail"]["status"] == 422


def test_records_past_retention_are_never_returned(world: World) -> None:
    world.clock.advance(days=365 * 5)                    # retention_until 2030-01-01 has passed
    _, secret = world.app.state.auth.tokens.issue("later", "dpo", issued_by="test", days=1)
    with world.client() as c:
        r = c.get("/api/v1/events", headers={"Authorization": f"Bearer {secret}", "X-Purpose": "audit_control"})
    assert r.status_code == 200 and r.json()["count"] == 0


def test_the_dpo_reads_the_audit_log_and_its_verification(world: World) -> None:
    _get(world, "analyst", "?limit=1")
    with world.client() as c:
        r = c.get("/api/v1/audit?limit=5&verify=true", headers={"Authorization": f"Bearer {world.tokens['dpo']}"})
    body = r.json()
    assert r.status_code == 200 and body["count"] == 5 and body["verify"]["ok"]
    assert body["entries"][-1]["action"] == "consult" and body["entries"][-1]["dataset"] == "events"
    assert world.audit.last(1)[0]["dataset"] == "audit"  # reading the log is itself a consult
    with world.client() as c:
        only = c.get("/api/v1/audit?action=login_failed",
                     headers={"Authorization": f"Bearer {world.tokens['auditor']}"}).json()["entries"]
    assert all(e["action"] == "login_failed" for e in only)


def test_an_export_is_a_csv_for_the_dpo_audited_once_with_its_recipient(world: World) -> None:
    before = world.last_seq()
    r = _get_path(world, "dpo", "/api/v1/events/export?recipient=judicial_authority&zone=13201")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.strip().split("\r\n")
    assert lines[0].split(";") == list(EVENT_FIELDS["dpo"]) and len(lines) - 1 == sum(
        1 for row in _get(world, "dpo", "?zone=13201&limit=1000").json()["rows"])
    entries = [e for e in world.audit.entries() if e["seq"] > before]
    export = [e for e in entries if e["action"] == "export"]
    assert len(export) == 1 and export[0]["recipient"] == "judicial_authority"
    assert export[0]["rows"] == len(lines) - 1 and export[0]["purpose"] == "data_subject_request"
    assert PSEUDONYM not in str(entries) and TEXT not in str(entries)   # the entry names the records, never holds them


def test_an_export_needs_a_recipient_of_the_closed_list_and_the_dpo(world: World) -> None:
    before = world.last_seq()
    assert _get_path(world, "dpo", "/api/v1/events/export").status_code == 422
    typed = _get_path(world, "dpo", "/api/v1/events/export?recipient=Ma%C3%AEtre%20Jean%20Dupont%200612345678")
    assert typed.status_code == 422 and "cnil, data_subject, judicial_authority" in typed.json()["detail"]
    assert _get_path(world, "analyst", "/api/v1/events/export?recipient=cnil").status_code == 403
    entries = str([e for e in world.audit.entries() if e["seq"] > before])
    assert "Dupont" not in entries and "0612345678" not in entries         # what was typed stays out of the log


def _get_path(world: World, role: str, url: str) -> Any:
    with world.client() as c:
        return c.get(url, headers={"Authorization": f"Bearer {world.tokens[role]}", "X-Purpose": PURPOSES[role]})


def test_an_export_neutralises_cells_a_spreadsheet_would_run() -> None:
    from observatoire.api.routes.events import _cell

    assert [_cell(v) for v in ("+cmd|' /C calc'!A0", "=HYPERLINK(\"x\")", "@SUM(A1)", "-2+3", "\tx", "Rixe", None,
                               -3.5, 12)] == ["'+cmd|' /C calc'!A0", "'=HYPERLINK(\"x\")", "'@SUM(A1)", "'-2+3", "'\tx",
                                              "Rixe", "", -3.5, 12]
