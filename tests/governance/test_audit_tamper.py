"""The tamper suite: an insider forges the audit log every way we know, and verification must say so.

Two insiders: one who can write the log's folder (``folder``), and one who also holds the signing key and can write
its folder (``key``). Each forgery is checked by three verifiers:

* ``plain``: the operator's ``verify()``, pinned to the configured signing key (outside the log's folder), no witness;
* ``witness``: the DPO's ``verify()``, pinned to a copy of the public key, with the append-only witness file;
* ``receipt``: ``verify(against=[receipt])``, pinned, with a receipt the DPO took at seq 21 and kept apart.

Every forgery must fail under the witness and under the receipt; the ones that pass ``plain`` are the limits
``docs/audit.md`` states (checked here against the document, and printed).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from observatoire.governance.audit import AuditLog, entry_hash
from observatoire.governance.audit.keys import key_id, public_hex, sign

T0 = datetime(2024, 1, 1, tzinfo=UTC)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "audit.md"
N, RECEIPT_AT, SNAPSHOT_AT, CUT_AT, TARGET = 30, 21, 12, 15, 5


class Clock:
    """A clock that moves a minute a reading, or stays where a forger puts it."""

    def __init__(self) -> None:
        self.now, self.fixed = T0, False

    def __call__(self) -> datetime:
        if not self.fixed:
            self.now += timedelta(minutes=1)
        return self.now


@dataclass
class World:
    root: Path
    audit: Path
    key: Path            # the signing key, apart from the log (its own folder)
    pub: Path            # the DPO's pinned copy of the public key
    witness: Path        # the DPO's append-only witness
    receipt: Path        # the DPO's receipt of seq 21
    snapshot: Path       # a copy of the log's folder at seq 12, as a backup would hold it

    def log(self, **kw: object) -> AuditLog:
        return AuditLog(self.audit, key_path=self.key, durable=False, **kw)

    def seg(self) -> Path:
        [seg] = sorted((self.audit / "log").glob("*.jsonl"))
        return seg

    def entries(self) -> list[dict]:
        return [json.loads(x) for x in self.seg().read_text().splitlines()]

    def write_entries(self, entries: list[dict]) -> None:
        self.seg().write_text("".join(json.dumps(e) + "\n" for e in entries))


def _record(log: AuditLog, i: int) -> None:
    log.record("consult", actor="user:alice", role="analyst", dataset="events", filters={"zone": "13201", "page": i},
               rows=i, purpose="operational_analysis")


def build(root: Path) -> World:
    dpo = root / "dpo"
    dpo.mkdir()
    w = World(root, root / "audit", root / "signing" / "checkpoint.key", dpo / "checkpoint.pub",
              dpo / "witness.jsonl", dpo / "receipt.json", root / "backup-seq12")
    log = AuditLog(w.audit, clock=Clock(), key_path=w.key, durable=False, witness=w.witness)
    for i in range(SNAPSHOT_AT):
        _record(log, i)
    shutil.copytree(w.audit, w.snapshot)
    for i in range(SNAPSHOT_AT, RECEIPT_AT):
        _record(log, i)
    receipt = log.receipt()                       # a fresh checkpoint at seq 21, signed again for the DPO
    assert receipt["seq"] == RECEIPT_AT
    w.receipt.write_text(json.dumps(receipt))
    while len(list(log.entries())) < N:
        _record(log, len(list(log.entries())))
    [pub] = list(w.key.parent.glob("*.pub"))
    shutil.copy(pub, w.pub)
    assert log.verify().ok
    return w


# -- the forgeries ------------------------------------------------------------------------------------------
def rechain(entries: list[dict], start: int) -> list[dict]:
    """Recompute ``prev`` and ``hash`` from ``entries[start]`` on, as a forger without the key would."""
    prev = entries[start - 1]["hash"] if start else "0" * 64
    for e in entries[start:]:
        e["prev"] = prev
        e["hash"] = prev = entry_hash(e)
    return entries


def replay(w: World, entries: list[dict], *, key: Path) -> None:
    """Write ``entries`` as a genuine log with the signing key ``key`` (the forger's, or the real one), with
    the checkpoint the real log had at the receipt, and put it in place of the real folder: what whoever holds
    the key can do."""
    forged = w.root / "forged"
    clock = Clock()
    clock.fixed = True
    log = AuditLog(forged, clock=clock, key_path=key, durable=False)
    for e in entries:
        clock.now = datetime.fromisoformat(e["at"])
        log.record(e["action"], actor=e["actor"], role=e["role"], dataset=e["dataset"], filters=e["filters"],
                   rows=e["rows"], purpose=e["purpose"], recipient=e["recipient"], outcome=e["outcome"],
                   detail=e["detail"])
        if e["seq"] == RECEIPT_AT:
            log.checkpoint()
    for name in ("log", "head.json", "checkpoints.jsonl"):
        target = w.audit / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
        if (forged / name).is_dir():
            shutil.copytree(forged / name, target)
        elif (forged / name).exists():
            shutil.copy(forged / name, target)


def sign_head(w: World, key: Ed25519PrivateKey) -> None:
    """Sign a head over the log's last entry with ``key``, and drop its public key into the log's ``keys/``."""
    last = w.entries()[-1]
    head = json.loads(w.audit.joinpath("head.json").read_text())
    pub = public_hex(key.public_key())
    body = {k: v for k, v in head.items() if k != "sig"} | {"seq": last["seq"], "hash": last["hash"],
                                                              "key_id": key_id(pub)}
    w.audit.joinpath("head.json").write_text(json.dumps({**body, "sig": sign(key, body)}))
    (w.audit / "keys").mkdir(exist_ok=True)
    (w.audit / "keys" / f"{key_id(pub)}.pub").write_text(pub + "\n")


def edit(w: World) -> None:
    es = w.entries()
    es[TARGET - 1]["rows"] = 999
    w.write_entries(es)


def delete(w: World) -> None:
    es = w.entries()
    del es[TARGET - 1]
    w.write_entries(es)


def insert(w: World) -> None:
    es = w.entries()
    forged = {**es[TARGET - 1], "actor": "user:mallory", "seq": TARGET + 1, "prev": es[TARGET - 1]["hash"]}
    forged["hash"] = entry_hash(forged)
    w.write_entries(es[:TARGET] + [forged] + es[TARGET:])


def swap(w: World) -> None:
    es = w.entries()
    es[TARGET - 1], es[TARGET] = es[TARGET], es[TARGET - 1]
    w.write_entries(es)


def truncate(w: World) -> None:
    w.write_entries(w.entries()[:CUT_AT])


def truncate_and_delete_head(w: World) -> None:
    truncate(w)
    (w.audit / "head.json").unlink()
    (w.audit / "keys" / "head.started").unlink(missing_ok=True)     # where older versions kept the marker
    (w.audit / "checkpoints.jsonl").unlink()


def rehash(w: World) -> None:
    es = w.entries()
    es[TARGET - 1]["actor"] = "user:mallory"
    w.write_entries(rechain(es, TARGET - 1))


def rewrite_small_log(w: World) -> None:
    """Under 1,000 entries there is no periodic checkpoint: rewrite it all and delete every control file."""
    rehash(w)
    for name in ("head.json", "checkpoints.jsonl", ".lock"):
        (w.audit / name).unlink(missing_ok=True)
    shutil.rmtree(w.audit / "keys", ignore_errors=True)


def resign_new_key(w: World) -> None:
    es = w.entries()
    es[TARGET - 1]["actor"] = "user:mallory"
    mallory = w.root / "mallory" / "checkpoint.key"
    replay(w, es, key=mallory)
    [pub] = list(mallory.parent.glob("*.pub"))
    shutil.copy(pub, w.audit / "keys" / pub.name)              # and trusted, it hopes, from the log's keys/


def drop_key(w: World) -> None:
    truncate(w)
    sign_head(w, Ed25519PrivateKey.generate())
    (w.audit / "checkpoints.jsonl").unlink()


def restore_old_head(w: World) -> None:
    for name in ("log", "head.json", "checkpoints.jsonl"):
        target = w.audit / name
        shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
        source = w.snapshot / name
        if source.is_dir():
            shutil.copytree(source, target)
        elif source.exists():
            shutil.copy(source, target)


def delete_checkpoints(w: World) -> None:
    (w.audit / "checkpoints.jsonl").unlink()


def delete_head(w: World) -> None:
    (w.audit / "head.json").unlink()


def delete_control_files(w: World) -> None:
    for name in ("head.json", "checkpoints.jsonl", ".lock"):
        (w.audit / name).unlink(missing_ok=True)
    shutil.rmtree(w.audit / "keys", ignore_errors=True)


def resign_genuine_key(w: World) -> None:
    es = w.entries()
    es[TARGET - 1]["actor"] = "user:mallory"
    replay(w, es, key=w.key)


def truncate_and_resign(w: World) -> None:
    replay(w, w.entries()[:CUT_AT], key=w.key)


def truncate_and_delete_marker(w: World) -> None:
    truncate(w)
    for name in ("head.json", "checkpoints.jsonl"):
        (w.audit / name).unlink()
    for marker in w.key.parent.glob("head*.started"):          # beside the key: this insider may write there
        marker.unlink()


# (id, who can do it, forgery)
CASES: list[tuple[str, str, Callable[[World], None]]] = [
    ("edit", "folder", edit),
    ("delete", "folder", delete),
    ("insert", "folder", insert),
    ("swap", "folder", swap),
    ("truncate", "folder", truncate),
    ("truncate-delete-head", "folder", truncate_and_delete_head),
    ("rehash", "folder", rehash),
    ("rewrite-small-log", "folder", rewrite_small_log),
    ("resign-new-key", "folder", resign_new_key),
    ("drop-key", "folder", drop_key),
    ("restore-old-head", "folder", restore_old_head),
    ("delete-checkpoints", "folder", delete_checkpoints),
    ("delete-head", "folder", delete_head),
    ("delete-control-files", "folder", delete_control_files),
    ("resign-genuine-key", "key", resign_genuine_key),
    ("truncate-resign", "key", truncate_and_resign),
    ("truncate-delete-marker", "key", truncate_and_delete_marker),
]


def outcomes(w: World) -> dict[str, str | None]:
    """Each verifier's first problem (None: it found the log intact)."""
    nokey = w.root / "dpo" / "no-key-here" / "checkpoint.key"
    plain = w.log().verify()
    witnessed = AuditLog(w.audit, key_path=nokey, trusted_keys=[w.pub], witness=w.witness).verify()
    receipt = AuditLog(w.audit, key_path=nokey, trusted_keys=[w.pub]).verify(against=[w.receipt])
    said = {"plain": plain.error, "witness": witnessed.error, "receipt": receipt.error}
    return {k: v.replace(f"{w.root}/", "") if v else v for k, v in said.items()}


RESULTS: dict[str, dict[str, str | None]] = {}


@pytest.mark.parametrize("case, who, forge", CASES, ids=[c[0] for c in CASES])
def test_each_forgery_fails_verification_with_the_witness_and_with_a_receipt(tmp_path: Path, case: str, who: str,
                                                                             forge: Callable[[World], None]) -> None:
    w = build(tmp_path)
    assert all(v is None for v in outcomes(w).values())
    forge(w)
    got = outcomes(w)
    RESULTS[case] = got
    print(f"\n{case} ({who}): " + "; ".join(f"{k}: {v or 'INTACT'}" for k, v in got.items()))
    assert got["witness"] is not None, "the witness did not catch it"
    assert got["receipt"] is not None, "the receipt did not catch it"
    if who == "folder" and case != "restore-old-head":
        assert got["plain"] is not None, "verify alone did not catch a forgery made without the key"


def documented_limits() -> dict[str, str]:
    """The cases docs/audit.md states as limits: rows ``| `case` | ... |`` of its limits table."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Limits", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `([a-z-]+)` \| (.+?) \|", section, flags=re.M))


def test_every_forgery_verify_alone_misses_is_a_documented_limit(tmp_path_factory: pytest.TempPathFactory) -> None:
    missed = {}
    for case, who, forge in CASES:
        if case not in RESULTS:                        # run alone: forge again
            w = build(tmp_path_factory.mktemp(case))
            forge(w)
            RESULTS[case] = outcomes(w)
        if RESULTS[case]["plain"] is None:
            missed[case] = who
    print("\nforgeries that verify alone does not catch (caught by the witness and the receipt):")
    for case, who in missed.items():
        print(f"  {case} ({who})")
    assert set(missed) == {"restore-old-head", "resign-genuine-key", "truncate-resign", "truncate-delete-marker"}
    assert set(documented_limits()) == set(missed), documented_limits()


def test_what_each_verifier_says_is_printed_for_docs(capsys: pytest.CaptureFixture[str]) -> None:
    """The table of docs/audit.md: for each forgery, the first thing each verifier says."""
    if len(RESULTS) < len(CASES):
        pytest.skip("run with the whole module")
    with capsys.disabled():
        print("\n| forgery | plain verify | with the witness | against the receipt |")
        for case, who, _ in CASES:
            got = RESULTS[case]
            print(f"| `{case}` ({who}) | " + " | ".join((got[k] or "intact")[:110] for k in got) + " |")


# -- pinning -------------------------------------------------------------------------------------------------
def test_a_key_found_only_in_the_log_folder_is_unpinned_never_intact(tmp_path: Path) -> None:
    audit = tmp_path / "audit"
    inside = AuditLog(audit, key_path=audit / "keys" / "checkpoint.key", durable=False)   # the older layout
    for i in range(5):
        _record(inside, i)
    report = inside.verify()
    assert not report.ok and report.error.startswith("unpinned: the only key at hand is the signing key")
    # Reopened with no key named, it still finds the older layout's key: still unpinned.
    report = AuditLog(audit, durable=False).verify()
    assert not report.ok and "unpinned" in report.error
    # A verifier with no key and no pin: unpinned; with the key's fingerprint pinned: intact.
    nokey = tmp_path / "elsewhere" / "checkpoint.key"
    assert "unpinned" in AuditLog(audit, key_path=nokey).verify().error
    [pub] = list((audit / "keys").glob("*.pub"))
    from observatoire.governance.audit.keys import fingerprint

    fp = fingerprint(pub.read_text().strip())
    assert AuditLog(audit, key_path=nokey, trusted_keys=[fp]).verify().ok


def test_a_public_key_dropped_in_keys_is_never_trusted(tmp_path: Path) -> None:
    w = build(tmp_path)
    mallory = Ed25519PrivateKey.generate()
    sign_head(w, mallory)                                # re-signed head, its key in the log's keys/
    report = w.log().verify()
    assert not report.ok and "unknown key" in report.error
    # Even pinned by fingerprint, a key is taken from keys/ only when its fingerprint is the pinned one.
    from observatoire.governance.audit.keys import fingerprint

    genuine = fingerprint(w.pub.read_text().strip())
    nokey = tmp_path / "nokey" / "checkpoint.key"
    report = AuditLog(w.audit, key_path=nokey, trusted_keys=[genuine]).verify()
    assert not report.ok and "unknown key" in report.error and genuine in report.trust


def test_a_missing_head_is_a_failure_unless_the_key_folder_says_there_never_was_one(tmp_path: Path) -> None:
    w = build(tmp_path)
    delete_head(w)
    assert "head is missing" in w.log().verify().error
    for marker in w.key.parent.glob("head*.started"):   # needs the key's folder: then only the witness sees it
        marker.unlink()
    (w.audit / "checkpoints.jsonl").unlink()
    assert w.log().verify().ok
    witnessed = w.log(witness=w.witness).verify()
    assert not witnessed.ok and "head is missing" in witnessed.error
