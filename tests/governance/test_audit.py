"""The audit log: one entry per operation, any tampering detected and located, retention without breaking it."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from observatoire.errors import InputError
from observatoire.governance.audit import ACTIONS, GENESIS, AuditLog, entry_hash

T0 = datetime(2024, 1, 1, tzinfo=UTC)


class Clock:
    """A frozen clock that moves only when told (one step per reading by default)."""

    def __init__(self, start: datetime = T0, step: timedelta = timedelta(minutes=1)) -> None:
        self.now, self.step = start, step

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now


def make_log(root: Path, n: int, *, every: int = 10, clock: Clock | None = None) -> AuditLog:
    log = AuditLog(root, clock=clock or Clock(), checkpoint_every=every, durable=False)
    for i in range(n):
        log.record("consult", actor="user:alice", role="analyst", dataset="events",
                   filters={"zone": "13201", "page": i}, rows=i, purpose="operational_analysis")
    return log


def lines(log: AuditLog) -> list[str]:
    [seg] = log.segments()
    return seg.read_text().splitlines()


def rewrite(log: AuditLog, new: list[str]) -> None:
    [seg] = log.segments()
    seg.write_text("".join(f"{ln}\n" for ln in new))


def test_record_writes_one_chained_entry_with_every_field(tmp_path: Path) -> None:
    log = make_log(tmp_path, 0)
    e1 = log.record("consult", actor="user:alice", role="analyst", dataset="events",
                    filters={"zone": "13201", "start": "2025-01-01", "sources": ["a", "b"], "n": 2.5, "x": None},
                    rows=123, purpose="operational_analysis", detail={"status": 200})
    e2 = log.record("export", actor="token:t1", role="auditor", dataset="audit", recipient="CNIL", outcome="ok")
    assert [e1["seq"], e2["seq"]] == [1, 2]
    assert e1["prev"] == GENESIS and e2["prev"] == e1["hash"] == entry_hash(e1)
    assert e1["at"] == (T0 + timedelta(minutes=1)).isoformat(timespec="microseconds")
    stored = [json.loads(x) for x in lines(log)]
    assert stored == [e1, e2]
    assert set(e1) == {"seq", "at", "action", "actor", "role", "dataset", "filters", "rows", "purpose",
                       "recipient", "outcome", "detail", "prev", "hash"}
    assert ACTIONS >= {"ingest", "purge", "legal_hold", "key_rotation", "audit_verify"}


@pytest.mark.parametrize("kwargs", [
    {"action": "peek"},
    {"outcome": "maybe"},
    {"filters": {"record": {"name": "x"}}},          # nested mapping: could carry a record
    {"filters": {"blob": b"bytes"}},
    {"detail": {"row": object()}},
    {"detail": {"v": float("nan")}},
    {"filters": {"ids": [["nested"]]}},
    {"rows": -1},
    {"rows": True},
    {"actor": ""},
    {"purpose": 3},
])
def test_record_refuses_unknown_actions_and_disallowed_values(tmp_path: Path, kwargs: dict) -> None:
    log = make_log(tmp_path, 0)
    args = {"action": "consult", "actor": "user:a", "role": "analyst", "dataset": "events"} | kwargs
    action = args.pop("action")
    with pytest.raises(InputError):
        log.record(action, **args)
    assert log.segments() == [] or lines(log) == []


def test_an_intact_log_of_thousands_of_entries_verifies(tmp_path: Path) -> None:
    log = make_log(tmp_path, 2000, every=500)
    report = log.verify()
    assert report.ok, report.error
    assert (report.entries, report.first_seq, report.last_seq, report.checkpoints) == (2000, 1, 2000, 4)


def _tamper_field(ls: list[str]) -> list[str]:
    e = json.loads(ls[4])
    e["rows"] = 999
    ls[4] = json.dumps(e)
    return ls


def _tamper_field_rehashed(ls: list[str]) -> list[str]:
    e = json.loads(ls[4])
    e["actor"] = "user:mallory"
    e["hash"] = entry_hash(e)
    ls[4] = json.dumps(e)
    return ls


def _remove(ls: list[str]) -> list[str]:
    del ls[4]
    return ls


def _insert(ls: list[str]) -> list[str]:
    e = json.loads(ls[4])
    forged = {**e, "actor": "user:mallory", "seq": e["seq"] + 1, "prev": e["hash"]}
    forged["hash"] = entry_hash(forged)
    ls.insert(5, json.dumps(forged))
    return ls


def _swap(ls: list[str]) -> list[str]:
    ls[4], ls[5] = ls[5], ls[4]
    return ls


@pytest.mark.parametrize("tamper, seq, line, words", [
    (_tamper_field, 5, 5, "modified"),
    (_tamper_field_rehashed, 6, 6, "chain broken"),
    (_remove, 6, 5, "entry 5 is missing"),
    (_insert, 6, 7, "out of order"),
    (_swap, 6, 5, "entry 5 is missing"),
])
def test_tampering_with_an_entry_is_detected_and_located(tmp_path: Path, tamper, seq: int, line: int,
                                                         words: str) -> None:
    log = make_log(tmp_path, 25)
    rewrite(log, tamper(lines(log)))
    report = log.verify()
    assert not report.ok
    first = report.problems[0]
    assert (first.seq, first.line, first.file) == (seq, line, f"log/{log.segments()[0].name}")
    assert words in first.message
    assert f"seq {seq}" in report.error and f"line {line}" in report.error


def test_rewriting_the_whole_chain_after_an_entry_breaks_its_signed_checkpoint(tmp_path: Path) -> None:
    log = make_log(tmp_path, 25)                 # checkpoints at 10 and 20
    ls = [json.loads(x) for x in lines(log)]
    ls[4]["rows"] = 0
    prev = ls[3]["hash"]
    for e in ls[4:]:                              # a forger who recomputes every later hash
        e["prev"] = prev
        e["hash"] = prev = entry_hash(e)
    rewrite(log, [json.dumps(e) for e in ls])
    report = log.verify()
    assert not report.ok and report.problems[0].seq == 10
    assert "signed checkpoint" in report.problems[0].message


def test_truncating_the_tail_after_a_checkpoint_is_detected(tmp_path: Path) -> None:
    log = make_log(tmp_path, 12)
    log.checkpoint()                              # on demand, at seq 12
    rewrite(log, lines(log)[:11])
    report = log.verify()
    assert not report.ok and "removed from the tail" in report.error and "seq 12" in report.error


def test_an_altered_forged_or_removed_checkpoint_is_detected(tmp_path: Path) -> None:
    log = make_log(tmp_path, 25)
    cps = log.checkpoints_path.read_text().splitlines()
    assert len(cps) == 2
    altered = json.loads(cps[0])
    altered["hash"] = "0" * 64
    log.checkpoints_path.write_text(json.dumps(altered) + "\n" + cps[1] + "\n")
    report = log.verify()
    assert not report.ok and "signature" in report.error and "checkpoints.jsonl line 1" in report.error

    log.checkpoints_path.write_text(cps[1] + "\n")             # removed
    report = log.verify()
    assert not report.ok and report.problems[0].seq == 10 and "missing" in report.error

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from observatoire.governance.audit import canonical

    body = {k: json.loads(cps[0])[k] for k in ("seq", "hash", "at", "key_id")}
    forged = {**body, "sig": Ed25519PrivateKey.generate().sign(canonical(body)).hex()}
    log.checkpoints_path.write_text(json.dumps(forged) + "\n" + cps[1] + "\n")
    assert "forged" in log.verify().error


def test_the_signing_key_is_private_and_apart_from_the_log(tmp_path: Path) -> None:
    log = make_log(tmp_path, 10)
    assert stat.S_IMODE(log.key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.key_path.parent.stat().st_mode) == 0o700
    assert len(list(log.public_keys_dir.glob("*.pub"))) == 1


@hsettings(max_examples=40, deadline=None)
@given(n=st.integers(3, 40), data=st.data())
def test_any_single_tampering_is_detected_property(tmp_path_factory: pytest.TempPathFactory, n: int,
                                                   data: st.DataObject) -> None:
    log = make_log(tmp_path_factory.mktemp("prop"), n, every=7)
    log.checkpoint()
    ls = lines(log)
    i = data.draw(st.integers(0, n - 1))
    op = data.draw(st.sampled_from(["modify", "remove", "duplicate", "swap"]))
    if op == "modify":
        e = json.loads(ls[i])
        e[data.draw(st.sampled_from(["actor", "dataset", "rows", "at", "purpose"]))] = "x"
        ls[i] = json.dumps(e)
    elif op == "remove":
        del ls[i]
    elif op == "duplicate":
        ls.insert(i, ls[i])
    else:
        j = data.draw(st.integers(0, n - 1).filter(lambda j: j != i))
        ls[i], ls[j] = ls[j], ls[i]
    rewrite(log, ls)
    report = log.verify()
    assert not report.ok
    assert report.problems[0].seq is not None and report.problems[0].seq <= n


def _write_many(root: str, who: str, k: int) -> None:
    log = AuditLog(Path(root), checkpoint_every=50, durable=False)
    for i in range(k):
        log.record("consult", actor=who, role="analyst", dataset="events", rows=i)


def test_threads_and_processes_append_without_breaking_the_chain(tmp_path: Path) -> None:
    threads = [threading.Thread(target=_write_many, args=(str(tmp_path), f"user:t{i}", 40)) for i in range(4)]
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_write_many, args=(str(tmp_path), f"user:p{i}", 40)) for i in range(2)]
    for w in [*threads, *procs]:
        w.start()
    for w in [*threads, *procs]:
        w.join()
    log = AuditLog(tmp_path, checkpoint_every=50)
    report = log.verify()
    assert report.ok, report.error
    assert [e["seq"] for e in log.entries()] == list(range(1, 241))


def test_purge_keeps_three_years_from_the_last_checkpoint_before_the_cut_and_still_verifies(tmp_path: Path) -> None:
    clock = Clock(step=timedelta(days=1))
    log = make_log(tmp_path, 1500, every=100, clock=clock)      # ~4 years, one entry a day
    segments_before = len(log.segments())
    clock.step = timedelta(0)
    cutoff = clock.now - timedelta(days=3 * 365 + 1)
    old = sum(1 for e in log.entries() if datetime.fromisoformat(e["at"]) < cutoff)
    anchor = old // 100 * 100                      # the last signed checkpoint before the cut
    assert anchor >= 300
    removed = log.purge(actor="system:test")
    report = log.verify()
    assert report.ok, report.error
    kept = list(log.entries())
    # Everything up to the anchor went; entries past it stay, with at most 99 days just before the cut.
    assert report.anchor_seq == anchor and report.first_seq == anchor + 1 and removed == anchor
    assert all(datetime.fromisoformat(e["at"]) >= cutoff - timedelta(days=100) for e in kept)
    assert len(log.segments()) < segments_before
    purge = kept[-1]
    assert (purge["action"], purge["dataset"], purge["rows"], purge["detail"]["anchor_seq"]) == (
        "purge", "audit", anchor, anchor)
    assert log.purge() == 0 and log.verify().ok        # nothing more to purge: no new entry
    # Removing leading entries without a purge is still detected.
    first = log.segments()[0]
    first.write_text("".join(f"{x}\n" for x in first.read_text().splitlines()[1:]))
    report = log.verify()
    assert not report.ok and report.problems[0].seq == anchor + 2 and "missing" in report.error


def test_a_purge_refuses_a_log_that_does_not_verify(tmp_path: Path) -> None:
    log = make_log(tmp_path, 30)
    rewrite(log, _remove(lines(log)))
    with pytest.raises(Exception, match="does not verify"):
        log.purge()


def _cli(*args: str, audit: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OBSERVATOIRE_AUDIT": str(audit), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "observatoire.cli", "audit", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_verify_exits_0_when_intact_and_2_with_one_error_line_naming_the_place(tmp_path: Path) -> None:
    log = make_log(tmp_path, 15)
    ok = _cli("verify", audit=tmp_path)
    assert ok.returncode == 0 and "intact" in ok.stderr, ok.stderr
    assert list(log.entries())[-1]["action"] == "audit_verify"            # the verification is itself audited
    shown = _cli("show", "--last", "2", audit=tmp_path)
    assert shown.returncode == 0 and [json.loads(x)["seq"] for x in shown.stdout.splitlines()] == [15, 16]
    cp = _cli("checkpoint", audit=tmp_path)
    assert cp.returncode == 0 and json.loads(cp.stdout)["seq"] == 17
    head = _cli("head", audit=tmp_path)                  # the signed head, to publish elsewhere
    assert head.returncode == 0 and json.loads(head.stdout)["seq"] == 17 and json.loads(head.stdout)["sig"]
    first = log.segments()[0]                     # the CLI's entries went to the current month's segment
    ls = first.read_text().splitlines()
    ls[2] = ls[2].replace('"rows":2', '"rows":3')
    first.write_text("".join(f"{x}\n" for x in ls))
    bad = _cli("verify", audit=tmp_path)
    err = [x for x in bad.stderr.splitlines() if x.strip()]
    assert bad.returncode == 2 and len(err) == 1 and err[0].startswith("error:") and "seq 3" in err[0], bad.stderr
    assert "line 3" in err[0] and "Traceback" not in bad.stderr


# -- the signed head: the tail and the checkpoint list ------------------------------------------------
def _head(log: AuditLog) -> dict:
    return json.loads(log.head_path.read_text())


def test_an_intact_log_has_a_signed_head_on_its_last_entry_and_checkpoint_list(tmp_path: Path) -> None:
    log = make_log(tmp_path, 25)                  # periodic checkpoints at 10 and 20
    log.checkpoint()                              # on demand at 25
    head = _head(log)
    assert (head["seq"], head["hash"], head["checkpoints"], head["checkpoint_seq"]) == (
        25, list(log.entries())[-1]["hash"], 3, 25)
    assert len(log.head_path.read_bytes()) == 512 and log.head() == head
    report = log.verify()
    assert report.ok, report.error


def test_truncating_the_tail_after_the_last_checkpoint_is_detected_by_the_head(tmp_path: Path) -> None:
    log = make_log(tmp_path, 25)                  # last checkpoint at 20: entries 21..25 are only in the head
    rewrite(log, lines(log)[:22])
    report = log.verify()
    assert not report.ok and len(report.problems) == 1
    p = report.problems[0]
    assert (p.seq, p.file) == (25, "head.json") and "removed from the tail" in p.message
    assert report.error.startswith("seq 25, head.json: the log ends at seq 22")


def test_removing_an_on_demand_checkpoint_is_detected_and_located(tmp_path: Path) -> None:
    log = make_log(tmp_path, 13)                  # periodic at 10
    log.checkpoint()                              # on demand at 13
    cps = log.checkpoints_path.read_text().splitlines()
    log.checkpoints_path.write_text(cps[0] + "\n")          # the latest (on-demand) checkpoint removed
    report = log.verify()
    assert not report.ok and report.problems[0].seq == 13 and report.problems[0].file == "checkpoints.jsonl"
    assert "latest signed checkpoint was removed" in report.error

    log.checkpoints_path.write_text("".join(f"{c}\n" for c in cps))
    for _ in range(2):
        log.record("consult", actor="user:bob", role="analyst", dataset="events")
    log.checkpoint()                              # on demand at 15, after the one at 13
    cps = log.checkpoints_path.read_text().splitlines()
    log.checkpoints_path.write_text(cps[0] + "\n" + cps[2] + "\n")   # a middle (on-demand) checkpoint removed
    report = log.verify()
    assert not report.ok
    link = next(p for p in report.problems if "before this one was removed" in p.message)
    assert (link.seq, link.file, link.line) == (15, "checkpoints.jsonl", 2)
    assert any("a signed checkpoint was removed" in p.message for p in report.problems)


def test_a_deleted_head_is_detected(tmp_path: Path) -> None:
    log = make_log(tmp_path, 15)
    log.head_path.unlink()
    report = log.verify()
    assert not report.ok and report.problems[0].seq == 15 and "head is missing" in report.error
    assert "head.json" in report.error


def test_an_older_head_put_back_is_detected_and_a_write_after_it_records_the_anomaly(tmp_path: Path) -> None:
    log = make_log(tmp_path, 12)
    old = log.head_path.read_bytes()              # a genuine head, at seq 12
    for _ in range(6):
        log.record("consult", actor="user:bob", role="analyst", dataset="events")
    log.head_path.write_bytes(old)                # replay
    report = log.verify()
    assert not report.ok and report.problems[0].seq == 13 and "older head was put back" in report.error
    # A forger who also cuts the log back to the old head's end leaves nothing for verify ...
    rewrite(log, lines(log)[:12])
    log.head_path.write_bytes(old)
    assert log.verify().ok
    # ... but not when the cut is not to the head's exact end: the next write records the anomaly first.
    rewrite(log, lines(log)[:12])
    log.head_path.write_bytes(old)
    rewrite(log, lines(log)[:11])
    entry = log.record("consult", actor="user:carol", role="analyst", dataset="events")
    note = list(log.entries())[-2]
    assert entry["seq"] == 13 and (note["action"], note["outcome"], note["detail"]) == (
        "audit_verify", "failed", {"head": "ahead", "head_seq": 12, "log_seq": 11})
    report = log.verify()
    assert not report.ok and len(report.problems) == 1 and report.problems[0].recorded
    assert report.problems[0].seq == 12 and "recorded it here" in report.error


def test_a_head_signed_with_another_key_is_detected(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from observatoire.governance.audit import canonical

    log = make_log(tmp_path, 15)
    rewrite(log, lines(log)[:14])                 # cut the last entry and re-sign the head with another key
    head = _head(log)
    body = {k: v for k, v in head.items() if k != "sig"} | {"seq": 14, "hash": json.loads(lines(log)[-1])["hash"]}
    mallory = Ed25519PrivateKey.generate()
    log.head_path.write_text(json.dumps({**body, "sig": mallory.sign(canonical(body)).hex()}))
    report = log.verify()
    assert not report.ok and "seq 14, head.json" in report.error and "does not verify" in report.error
    log.head_path.write_text(json.dumps({**body, "key_id": "mallory", "sig": mallory.sign(
        canonical({**body, "key_id": "mallory"})).hex()}))
    report = log.verify()
    assert not report.ok and "unknown key" in report.error
    entry = log.record("consult", actor="user:bob", role="analyst", dataset="events")   # the writer won't trust it
    assert entry["seq"] == 16 and list(log.entries())[-2]["detail"]["head"] == "unknown key"


def test_a_log_from_before_signed_heads_verifies_and_gets_one_at_its_next_write(tmp_path: Path) -> None:
    log = make_log(tmp_path, 12)
    log.head_path.unlink()
    (log.public_keys_dir / "head.started").unlink()
    assert log.verify().ok
    log.record("consult", actor="user:bob", role="analyst", dataset="events")
    assert _head(log)["seq"] == 13 and log.verify().ok
    assert [e["action"] for e in log.entries()].count("audit_verify") == 0


def test_purge_keeps_the_head_consistent_and_tolerates_recorded_anomalies(tmp_path: Path) -> None:
    clock = Clock(step=timedelta(days=1))
    log = make_log(tmp_path, 1300, every=100, clock=clock)
    old = log.head_path.read_bytes()
    log.record("consult", actor="user:bob", role="analyst", dataset="events")
    log.head_path.write_bytes(old)                # a replayed head: the next write records it
    log.record("consult", actor="user:bob", role="analyst", dataset="events")
    assert not log.verify().ok
    clock.step = timedelta(0)
    assert log.purge(actor="system:test") > 0
    report = log.verify()
    assert all(p.recorded for p in report.problems) and len(report.problems) == 1
    head = _head(log)
    assert head["seq"] == report.last_seq and head["checkpoints"] == len(log.checkpoints_path.read_text().splitlines())
