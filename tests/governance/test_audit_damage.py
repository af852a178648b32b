"""A damaged audit log is shown, not crashed on: `observatoire audit show` and GET /api/v1/audit read each line as
`verify` does and flag the damaged ones (what, and where), and writers carry on after a line torn by a crash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from observatoire.governance.audit import AuditLog, entry_hash

T0 = datetime(2024, 1, 1, tzinfo=UTC)
N = 8


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def _truncated(line: str) -> str:
    return line[: len(line) // 2]                        # a write torn by a crash


def _not_json(line: str) -> str:
    return "this line is not JSON at all"


def _wrong_hash(line: str) -> str:
    e = json.loads(line)
    e["rows"] = 999                                      # changed, hash left as it was
    return json.dumps(e)


def _missing_field(line: str) -> str:
    e = json.loads(line)
    del e["actor"]
    e["hash"] = entry_hash(e)                            # even rehashed: an entry needs every field
    return json.dumps(e)


UNREADABLE = "unreadable entry (not a complete JSON entry)"
MODIFIED = "entry was modified (its hash does not match its content)"
DAMAGES: dict[str, tuple[Callable[[str], str], str]] = {
    "truncated": (_truncated, UNREADABLE),
    "not json": (_not_json, UNREADABLE),
    "wrong hash": (_wrong_hash, MODIFIED),
    "missing field": (_missing_field, UNREADABLE),
}
CASES = [pytest.param(kind, where, id=f"{kind}-{where}") for kind in DAMAGES for where in ("middle", "last")]


def damaged_log(root: Path, kind: str, where: str) -> tuple[AuditLog, int]:
    """A log of N entries (one segment, log/2024-01.jsonl) with one line damaged; the damaged line's number."""
    log = AuditLog(root, clock=Clock(), checkpoint_every=5, durable=False)
    for i in range(N):
        log.record("consult", actor="user:alice", role="analyst", dataset="events", filters={"page": i}, rows=i)
    [seg] = log.segments()
    lines = seg.read_text().splitlines()
    i = 2 if where == "middle" else N - 1
    lines[i] = DAMAGES[kind][0](lines[i])
    seg.write_text("".join(f"{x}\n" for x in lines))
    return log, i + 1


def _flagged(entries: list[dict]) -> list[dict]:
    return [e["damaged"] for e in entries if "damaged" in e]


@pytest.mark.parametrize("kind, where", CASES)
def test_last_reads_a_damaged_line_as_verify_does(tmp_path: Path, kind: str, where: str) -> None:
    log, line = damaged_log(tmp_path, kind, where)
    shown = log.last(N)
    assert len(shown) == N
    assert _flagged(shown) == [{"problem": DAMAGES[kind][1], "file": "log/2024-01.jsonl", "line": line}]
    assert [e["seq"] for e in shown if "damaged" not in e] == [s for s in range(1, N + 1) if s != line]
    report = log.verify()
    assert any(p.message == DAMAGES[kind][1] and (p.file, p.line) == ("log/2024-01.jsonl", line)
               for p in report.problems), report.problems
    # With an action: the damaged lines that still name it (a line that is not a JSON object names none).
    still_named = kind in ("wrong hash", "missing field")
    assert _flagged(log.last(N, action="consult")) == (_flagged(shown) if still_named else [])


@pytest.mark.parametrize("kind, where", CASES)
def test_a_writer_carries_on_after_a_damaged_line_and_the_damage_stays_reported(tmp_path: Path, kind: str,
                                                                                where: str) -> None:
    log, line = damaged_log(tmp_path, kind, where)
    e = log.record("consult", actor="user:bob", role="dpo", dataset="audit")
    report = log.verify()
    problems = {(p.file, p.line): p for p in report.problems}
    assert problems[("log/2024-01.jsonl", line)].message == DAMAGES[kind][1]
    if where == "middle" or kind == "wrong hash":
        assert e["seq"] == N + 1
    else:
        # The last entry is gone as an entry: the chain goes on from the one before it, and the writer
        # first recorded that the signed head (at seq N) is ahead of the log.
        note = log.last(2)[0]
        assert note["action"] == "audit_verify" and note["detail"]["head"] == "ahead" and note["seq"] == N
        assert e["seq"] == N + 1 and e["prev"] == note["hash"]
    assert not [p for p in report.problems if p.seq == e["seq"]], report.problems   # the new entry verifies


def _cli(*args: str, audit: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OBSERVATOIRE_AUDIT": str(audit), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "observatoire.cli", "audit", *args], env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("kind", list(DAMAGES))
def test_cli_show_prints_a_damaged_log_with_the_damage_flagged(tmp_path: Path, kind: str) -> None:
    log, line = damaged_log(tmp_path, kind, "middle" if kind in ("not json", "missing field") else "last")
    shown = _cli("show", "--last", str(N), audit=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "Traceback" not in shown.stderr and "internal error" not in shown.stderr
    printed = [json.loads(x) for x in shown.stdout.splitlines()]
    assert len(printed) == N
    assert _flagged(printed) == [{"problem": DAMAGES[kind][1], "file": "log/2024-01.jsonl", "line": line}]
    assert "1 of the 8 lines shown is damaged" in " ".join(shown.stderr.split())
    consult = [e for e in log.entries() if e.get("dataset") == "audit" and e.get("action") == "consult"]
    assert len(consult) == 1 and consult[0]["detail"] == {"damaged": 1}          # the reading is audited
    # `audit verify` names the same line.
    bad = _cli("verify", audit=tmp_path)
    assert bad.returncode == 2 and f"log/2024-01.jsonl line {line}" in " ".join(bad.stderr.split()), bad.stderr


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory):
    """An app over an empty store, and a DPO's API token."""
    from observatoire.api.app import create_app
    from tests.api.conftest import governance_settings

    root = tmp_path_factory.mktemp("audit-api")
    app = create_app(governance_settings(root, store_dir=root / "store"))
    token = app.state.auth.tokens.issue("dpo machine", "dpo", issued_by="test", days=365)[1]
    return app, token


@pytest.mark.parametrize("kind, where", CASES)
def test_the_api_answers_200_with_the_damaged_entries_flagged(api, kind: str, where: str) -> None:
    app, token = api
    audit_dir = app.state.audit.dir
    for p in sorted(audit_dir.rglob("*"), reverse=True):          # a fresh log under the app's signing key
        if p.is_file() and p.parent.name != "keys":
            p.unlink()
    (app.state.audit.public_keys_dir / "head.started").unlink(missing_ok=True)   # beside the key, outside the log
    log, line = damaged_log(audit_dir, kind, where)
    with TestClient(app) as c:
        r = c.get(f"/api/v1/audit?limit={N}&verify=true", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["count"] == N and body["damaged"] == 1
        assert _flagged(body["entries"]) == [{"problem": DAMAGES[kind][1], "file": "log/2024-01.jsonl", "line": line}]
        assert not body["verify"]["ok"]
        assert any(f"log/2024-01.jsonl line {line}: {DAMAGES[kind][1]}" in p for p in body["verify"]["problems"])
        only = c.get("/api/v1/audit?action=consult", headers={"Authorization": f"Bearer {token}"})
        assert only.status_code == 200 and all(e["action"] == "consult" for e in only.json()["entries"])
    read = [e for e in log.entries() if e.get("dataset") == "audit" and e.get("action") == "consult"]
    assert [e["detail"]["status"] for e in read] == [200, 200]              # both readings audited
