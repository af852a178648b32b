"""The audit log's anchors of trust outside its folder: the signing key apart, pinned public keys, the DPO's witness,
receipts, RFC 3161 timestamps from a local timestamp authority (built here with `cryptography`; no network), the
command line around them, and the cost of an entry."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from observatoire.errors import InputError
from observatoire.governance.audit import AuditError, AuditLog, default_key_path, entry_hash, read_receipt
from observatoire.governance.audit.anchors import anchor_message, request_timestamp
from observatoire.governance.audit.keys import fingerprint, public_hex, sign
from observatoire.settings import Settings

T0 = datetime(2024, 1, 1, tzinfo=UTC)


# -- a local RFC 3161 timestamp authority ------------------------------------------------------------------------
SHA256, ECDSA_SHA256 = "2.16.840.1.101.3.4.2.1", "1.2.840.10045.4.3.2"
SIGNED_DATA, TST_INFO = "1.2.840.113549.1.7.2", "1.2.840.113549.1.9.16.1.4"
CONTENT_TYPE, MESSAGE_DIGEST = "1.2.840.113549.1.9.3", "1.2.840.113549.1.9.4"
SIGNING_CERT_V2 = "1.2.840.113549.1.9.16.2.47"


def der(tag: int, content: bytes) -> bytes:
    n = len(content)
    size = (n.bit_length() + 7) // 8
    return bytes([tag]) + (bytes([n]) if n < 0x80 else bytes([0x80 | size]) + n.to_bytes(size, "big")) + content


def seq(*parts: bytes) -> bytes:
    return der(0x30, b"".join(parts))


def set_of(*parts: bytes) -> bytes:
    return der(0x31, b"".join(sorted(parts)))


def integer(v: int) -> bytes:
    return der(0x02, v.to_bytes((v.bit_length() + 8) // 8, "big", signed=True))


def oid(dotted: str) -> bytes:
    a, b, *rest = (int(x) for x in dotted.split("."))
    body = bytes([40 * a + b])
    for p in rest:
        enc = [p & 0x7F]
        while p := p >> 7:
            enc.append(0x80 | (p & 0x7F))
        body += bytes(reversed(enc))
    return der(0x06, body)


def children(content: bytes) -> list[tuple[int, bytes]]:
    """(tag, the whole encoding) of each DER element in ``content``."""
    out, i = [], 0
    while i < len(content):
        n, j = content[i + 1], i + 2
        if n & 0x80:
            n, j = int.from_bytes(content[j:j + (n & 0x7F)], "big"), j + (n & 0x7F)
        out.append((content[i], content[i:j + n]))
        i = j + n
    return out


def inner(element: bytes) -> bytes:
    """The content of one DER element."""
    n, j = element[1], 2
    if n & 0x80:
        n, j = int.from_bytes(element[2:2 + (n & 0x7F)], "big"), 2 + (n & 0x7F)
    return element[j:j + n]


class LocalTSA:
    """A root CA, a time-stamping certificate it issued (EKU timeStamping, critical), and an HTTP endpoint on
    127.0.0.1 that answers RFC 3161 requests: the request's imprint and nonce, a TSTInfo, a CMS SignedData."""

    def __init__(self) -> None:
        now = datetime.now(UTC)
        self.root_key, self.key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
        root = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Observatoire test TSA root")])
        usage = {k: False for k in ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
                                    "key_agreement", "encipher_only", "decipher_only")}
        self.root = (x509.CertificateBuilder().subject_name(root).issuer_name(root)
                     .public_key(self.root_key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .add_extension(x509.KeyUsage(key_cert_sign=True, crl_sign=True, **usage), critical=True)
                     .sign(self.root_key, hashes.SHA256()))
        self.cert = (x509.CertificateBuilder()
                     .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Observatoire test TSA")]))
                     .issuer_name(root).public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
                     .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                     .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
                     .sign(self.root_key, hashes.SHA256()))
        self.issued = 0
        self.mode = "ok"          # or: "wrong nonce", "refuse", "garbage" (an authority that misbehaves)

    def write_root(self, path: Path) -> Path:
        path.write_bytes(self.root.public_bytes(serialization.Encoding.PEM))
        return path

    def reply(self, request: bytes) -> bytes:
        if self.mode == "garbage":
            return b"<html>busy</html>"
        if self.mode == "refuse":
            return seq(seq(integer(2)))                   # PKIStatus rejection, no token
        [(_, req)] = children(request)
        parts = children(inner(req))
        imprint = parts[1][1]
        nonce = next((raw for tag, raw in parts[2:] if tag == 0x02), b"")
        if self.mode == "wrong nonce":
            nonce = integer(12345)
        self.issued += 1
        gen = der(0x18, datetime.now(UTC).strftime("%Y%m%d%H%M%SZ").encode())
        tst = seq(integer(1), oid("1.2.3.4.1"), imprint, integer(self.issued), gen, nonce)
        cert = self.cert.public_bytes(serialization.Encoding.DER)
        attrs = set_of(seq(oid(CONTENT_TYPE), set_of(oid(TST_INFO))),
                       seq(oid(MESSAGE_DIGEST), set_of(der(0x04, hashlib.sha256(tst).digest()))),
                       seq(oid(SIGNING_CERT_V2), set_of(seq(seq(seq(der(0x04, hashlib.sha256(cert).digest())))))))
        signer = seq(integer(1), seq(self.cert.issuer.public_bytes(), integer(self.cert.serial_number)),
                     seq(oid(SHA256)), b"\xa0" + attrs[1:], seq(oid(ECDSA_SHA256)),
                     der(0x04, self.key.sign(attrs, ec.ECDSA(hashes.SHA256()))))
        signed = seq(integer(3), set_of(seq(oid(SHA256))), seq(oid(TST_INFO), der(0xA0, der(0x04, tst))),
                     der(0xA0, cert), set_of(signer))
        return seq(seq(integer(0)), seq(oid(SIGNED_DATA), der(0xA0, signed)))


@pytest.fixture(scope="module")
def tsa() -> Iterator[tuple[LocalTSA, str]]:
    authority = LocalTSA()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            out = authority.reply(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield authority, f"http://127.0.0.1:{server.server_address[1]}/tsa"
    server.shutdown()
    thread.join()


# -- helpers ----------------------------------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def fill(log: AuditLog, n: int) -> AuditLog:
    for i in range(n):
        log.record("consult", actor="user:alice", role="analyst", dataset="events", filters={"page": i}, rows=i)
    return log


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**{k: v for k, v in os.environ.items() if not k.startswith("OBSERVATOIRE_")}, "COLUMNS": "200",
            **(env or {})}
    return subprocess.run([sys.executable, "-m", "observatoire.cli", "audit", *args], env=full, capture_output=True,
                          text=True, timeout=120)


def one_error(out: subprocess.CompletedProcess[str]) -> str:
    lines = [x for x in out.stderr.splitlines() if x.strip()]
    assert out.returncode == 2 and len(lines) == 1 and lines[0].startswith("error:"), out.stderr
    assert "Traceback" not in out.stderr
    return " ".join(lines[0].split())


# -- the signing key, apart, and pinned keys --------------------------------------------------------------------
def test_the_signing_key_lives_outside_the_log_folder_by_default(tmp_path: Path) -> None:
    log = fill(AuditLog(tmp_path / "audit", clock=Clock(), durable=False), 3)
    assert log.key_path == tmp_path / "audit-signing" / "checkpoint.key" == default_key_path(tmp_path / "audit")
    assert stat.S_IMODE(log.key_path.stat().st_mode) == 0o600 and not list((tmp_path / "audit").rglob("*.key"))
    report = log.verify()
    assert report.ok and report.trust.startswith("the configured signing key") and "sha256:" in report.trust


def test_settings_and_environment_name_the_signing_key_pins_and_witness(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBSERVATOIRE_AUDIT", str(tmp_path / "audit"))
    monkeypatch.setenv("OBSERVATOIRE_AUDIT_SIGNING_KEY", str(tmp_path / "hsm" / "audit.key"))
    monkeypatch.setenv("OBSERVATOIRE_AUDIT_TRUSTED_KEYS", "sha256:" + "a" * 64 + ", /etc/observatoire/audit.pub")
    monkeypatch.setenv("OBSERVATOIRE_AUDIT_WITNESS", str(tmp_path / "dpo" / "witness.jsonl"))
    monkeypatch.setenv("OBSERVATOIRE_AUDIT_TSA", "https://tsa.example/")
    s = Settings.from_env()
    assert (s.audit_signing_key, s.audit_trusted_keys, s.audit_witness, s.audit_tsa_url) == (
        tmp_path / "hsm" / "audit.key", ("sha256:" + "a" * 64, "/etc/observatoire/audit.pub"),
        tmp_path / "dpo" / "witness.jsonl", "https://tsa.example/")
    log = s.audit_log()
    assert (log.key_path, log.witness, log.tsa_url) == (s.audit_signing_key, s.audit_witness, s.audit_tsa_url)
    # Unset, the witness defaults beside the log's folder, outside it.
    plain = Settings(audit_dir=tmp_path / "audit").audit_log()
    assert plain.witness == tmp_path / "audit-witness" / "witness.jsonl"
    assert plain.key_path.parent.name == "audit-signing"
    with pytest.raises(InputError, match="outside the audit folder"):
        Settings(audit_dir=tmp_path / "audit", audit_witness=tmp_path / "audit" / "w.jsonl").audit_log()


def test_the_cli_signs_with_signing_key_and_verifies_against_pinned_keys_only(tmp_path: Path) -> None:
    audit, key = tmp_path / "audit", tmp_path / "keyholder" / "audit.key"
    env = {"OBSERVATOIRE_AUDIT": str(audit)}
    shown = cli("show", "--signing-key", str(key), env=env)
    assert shown.returncode == 0, shown.stderr
    assert key.exists() and not (tmp_path / "audit-signing").exists()
    printed = cli("key", "--signing-key", str(key), env=env)
    fp = printed.stdout.strip()
    assert printed.returncode == 0 and fp == fingerprint(public_hex(
        serialization.load_pem_private_key(key.read_bytes(), None).public_key()))
    ok = cli("verify", "--signing-key", str(key), "--trusted-key", fp, env=env)
    assert ok.returncode == 0 and "intact" in ok.stderr and f"pinned keys {fp}" in " ".join(ok.stderr.split())
    # Pinned to another key: the log's own signatures are not trusted.
    other = tmp_path / "other.pub"
    other.write_text(public_hex(Ed25519PrivateKey.generate().public_key()) + "\n")
    assert "unknown key" in one_error(cli("verify", "--signing-key", str(key), "--trusted-key", str(other), env=env))
    # Neither pinned nor at hand (the default signing key, beside the folder, does not exist): unpinned.
    assert "unpinned: no public key is pinned" in one_error(cli("verify", env=env))
    # A verifier holding only the public key: intact, and nothing written to the log.
    before = sorted(p.read_text() for p in (audit / "log").glob("*.jsonl"))
    pinned = cli("verify", "--signing-key", str(tmp_path / "none" / "k.key"), "--trusted-key", fp,
                 "--witness", str(tmp_path / "audit-witness" / "witness.jsonl"), env=env)
    assert pinned.returncode == 0 and "not recorded" in pinned.stderr, pinned.stderr
    assert sorted(p.read_text() for p in (audit / "log").glob("*.jsonl")) == before


@pytest.mark.parametrize("args, words", [
    (["verify", "--trusted-key", "/nowhere/key.pub"], "trusted key /nowhere/key.pub: no such file"),
    (["verify", "--trusted-key", "{audit}/keys/x.pub"], "lies inside the audit folder"),
    (["verify", "--trusted-key", "{tmp}/garbage.pub"], "not an Ed25519 public key"),
    (["verify", "--against", "/nowhere/receipt.json"], "receipt /nowhere/receipt.json: no such file"),
    (["verify", "--against", "{tmp}/garbage.pub"], "not an audit receipt"),
    (["verify", "--witness", "{audit}/witness.jsonl"], "must lie outside the audit folder"),
    (["receipt", "--format", "xml"], "unknown receipt format 'xml'"),
    (["receipt", "--tsa", "ftp://tsa.example/"], "give an http:// or https:// address"),
    (["receipt", "--tsa", "http://127.0.0.1:9/"], "could not be reached"),
    (["verify", "--tsa-cert", "{tmp}/garbage.pub"], "not a PEM certificate"),
])
def test_bad_input_gets_one_clear_line_and_exit_2(tmp_path: Path, args: list[str], words: str) -> None:
    audit = tmp_path / "audit"
    fill(AuditLog(audit, durable=False), 2)
    (audit / "keys" / "x.pub").write_text("00" * 32)
    (tmp_path / "garbage.pub").write_text("not a key\n")
    args = [a.format(audit=audit, tmp=tmp_path) for a in args]
    assert words in one_error(cli(*args, env={"OBSERVATOIRE_AUDIT": str(audit)}))


# -- the witness -------------------------------------------------------------------------------------------------
def test_every_signed_head_goes_to_the_witness_and_a_missing_witness_is_a_failure(tmp_path: Path) -> None:
    witness = tmp_path / "dpo" / "witness.jsonl"
    log = fill(AuditLog(tmp_path / "audit", clock=Clock(), durable=False, witness=witness), 5)
    lines = [json.loads(x) for x in witness.read_text().splitlines()]
    assert [x["seq"] for x in lines] == [1, 2, 3, 4, 5]                 # from the first entry
    assert lines[-1] == log.head() and all(x["witnessed"] for x in lines)
    report = log.verify()
    assert report.ok and any("5 head(s) and 0 timestamp(s) checked" in n for n in report.notes)
    witness.unlink()
    report = log.verify()
    assert not report.ok and "witness file is missing or empty" in report.error
    # A line appended by another hand contradicting the log is not signed: reported as such.
    witness.write_text(json.dumps({**lines[-1], "hash": "0" * 64}) + "\n")
    assert "not signed by a pinned key" in log.verify().error


def test_a_witness_configured_on_an_existing_log_starts_with_its_next_entry(tmp_path: Path) -> None:
    log = fill(AuditLog(tmp_path / "audit", clock=Clock(), durable=False), 3)
    witnessed = AuditLog(tmp_path / "audit", clock=Clock(), durable=False, witness=tmp_path / "w" / "w.jsonl")
    report = witnessed.verify()
    assert report.ok and any("nothing witnessed yet" in n for n in report.notes)
    fill(witnessed, 1)
    assert witnessed.verify().ok and log.verify().ok


class Daily(Clock):
    def __call__(self) -> datetime:
        self.now += timedelta(days=1)
        return self.now


def test_a_purge_keeps_the_witness_consistent(tmp_path: Path) -> None:
    witness = tmp_path / "w.jsonl"
    log = fill(AuditLog(tmp_path / "audit", clock=Daily(), durable=False, checkpoint_every=100, witness=witness),
               1300)                               # three and a half years, one entry a day
    assert log.purge() > 0
    report = log.verify()
    assert report.ok and report.anchor_seq > 0, report.error
    assert json.loads(witness.read_text().splitlines()[1])["seq"] < report.anchor_seq   # its early lines: purged


# -- receipts ----------------------------------------------------------------------------------------------------
def test_a_receipt_is_signed_printable_and_proves_the_log_still_extends_it(tmp_path: Path) -> None:
    audit, dpo = tmp_path / "audit", tmp_path / "dpo"
    env = {"OBSERVATOIRE_AUDIT": str(audit)}
    fill(AuditLog(audit, clock=Clock(), durable=False), 6)
    dpo.mkdir()
    made = cli("receipt", "--format", "text", "--out", str(dpo / "receipt.txt"), env=env)
    assert made.returncode == 0 and "keep it apart" in made.stderr, made.stderr
    text = (dpo / "receipt.txt").read_text()
    receipt = read_receipt(dpo / "receipt.txt")
    assert text.startswith("Observatoire audit log receipt") and f"seq {receipt['seq']}" in text
    assert receipt["seq"] == 7                  # 6 entries, and the receipt's own issuing (an export to the DPO)
    log = Settings(audit_dir=audit).audit_log()
    issued = [e for e in log.entries() if e["action"] == "export" and e["dataset"] == "audit"]
    assert len(issued) == 1 and issued[0]["recipient"] == "dpo" and issued[0]["seq"] == receipt["seq"]
    again = cli("receipt", "--out", str(dpo / "receipt.txt"), env=env)
    assert "already exists" in one_error(again)
    ok = cli("verify", "--against", str(dpo / "receipt.txt"), env=env)
    assert ok.returncode == 0 and "found with the hash it witnessed" in ok.stderr, ok.stderr
    # An altered receipt is refused, not believed.
    altered = {**receipt, "seq": 3}
    (dpo / "altered.json").write_text(json.dumps(altered))
    assert "does not verify (the receipt was altered)" in one_error(cli("verify", "--against",
                                                                        str(dpo / "altered.json"), env=env))
    # Whoever holds the key rewrites entry 2 and everything after, re-signing it all: the receipt says so.
    segs = sorted((audit / "log").glob("*.jsonl"))         # the fill's month, and the CLI's
    es = [(seg, json.loads(x)) for seg in segs for x in seg.read_text().splitlines()]
    es[1][1]["actor"] = "user:mallory"
    prev = es[0][1]["hash"]
    for _, e in es[1:]:
        e["prev"] = prev
        e["hash"] = prev = entry_hash(e)
    for seg in segs:
        seg.write_text("".join(json.dumps(e) + "\n" for where, e in es if where == seg))
    es = [e for _, e in es]
    (audit / "checkpoints.jsonl").unlink()
    (audit / "head.json").unlink()
    forger = AuditLog(audit, durable=False)
    forger._write_head(es[-1]["seq"], es[-1]["hash"], es[-1]["at"], forger._cps_from_file())
    assert forger.verify().ok                                 # the folder alone cannot tell
    err = one_error(cli("verify", "--against", str(dpo / "receipt.txt"), "--witness", str(tmp_path / "none.jsonl"),
                        env=env))
    assert f"seq {receipt['seq']}" in err and "entry differs from the receipt" in err


# -- RFC 3161 ----------------------------------------------------------------------------------------------------
def test_a_checkpoint_and_a_receipt_are_timestamped_by_the_local_authority(tmp_path: Path, tsa) -> None:
    authority, url = tsa
    root = authority.write_root(tmp_path / "tsa-root.pem")
    witness = tmp_path / "dpo" / "witness.jsonl"
    log = fill(AuditLog(tmp_path / "audit", clock=Clock(), durable=False, witness=witness, tsa_url=url,
                        tsa_cert=root), 4)
    cp = log.checkpoint()
    stamp = log.last_timestamp
    assert stamp is not None and (stamp["seq"], stamp["hash"], stamp["tsa"]) == (cp["seq"], cp["hash"], url)
    assert json.loads(witness.read_text().splitlines()[-1]) == stamp
    receipt = log.receipt()
    assert receipt["rfc3161"]["tsa"] == url and receipt["seq"] == cp["seq"]
    (tmp_path / "r.json").write_text(json.dumps(receipt))
    report = log.verify(against=[tmp_path / "r.json"])
    assert report.ok, report.error
    assert any("2 timestamp(s) checked" in n for n in report.notes)
    assert any(n.endswith(f"by {url}") for n in report.notes)
    # Checked against another authority's root, the same tokens do not hold.
    other = LocalTSA().write_root(tmp_path / "other-root.pem")
    wrong = AuditLog(tmp_path / "audit", durable=False, witness=witness, tsa_cert=other)
    assert "does not chain to the authority's certificate" in wrong.verify().error
    # A token moved onto another seq (in the witness) does not hold.
    forged = {**stamp, "seq": 1, "hash": next(log.entries())["hash"]}
    with open(witness, "a") as fh:
        fh.write(json.dumps(forged) + "\n")
    assert "timestamp is of another seq or hash" in log.verify().error


def test_the_token_is_the_authoritys_answer_to_our_request(tsa) -> None:
    authority, url = tsa
    before = authority.issued
    token = request_timestamp(url, anchor_message(9, "cd" * 32))
    assert authority.issued == before + 1
    from rfc3161_client import decode_timestamp_response

    info = decode_timestamp_response(token).tst_info
    assert info.message_imprint.message == hashlib.sha256(anchor_message(9, "cd" * 32)).digest()
    assert abs(info.gen_time.timestamp() - time.time()) < 120


def test_the_cli_timestamps_a_receipt_and_checks_it_against_the_authority(tmp_path: Path, tsa) -> None:
    authority, url = tsa
    root = authority.write_root(tmp_path / "root.pem")
    audit = tmp_path / "audit"
    env = {"OBSERVATOIRE_AUDIT": str(audit), "OBSERVATOIRE_AUDIT_TSA": url}
    fill(AuditLog(audit, clock=Clock(), durable=False), 2)
    made = cli("receipt", "--out", str(tmp_path / "r.json"), env=env)
    assert made.returncode == 0 and f"by {url}" in made.stderr, made.stderr
    cp = cli("checkpoint", "--tsa-cert", str(root), env=env)
    assert cp.returncode == 0 and "timestamped" in cp.stderr, cp.stderr
    ok = cli("verify", "--against", str(tmp_path / "r.json"), "--tsa-cert", str(root), env=env)
    assert ok.returncode == 0 and "timestamped" in ok.stderr and "not checked" not in ok.stderr, ok.stderr
    unchecked = cli("verify", "--against", str(tmp_path / "r.json"), env=env)
    assert unchecked.returncode == 0 and "its signature not checked: no --tsa-cert given" in unchecked.stderr
    # Whoever holds the signing key re-signs a receipt whose timestamp they altered: the timestamp gives it away.
    receipt = json.loads((tmp_path / "r.json").read_text())
    token = bytearray(base64.b64decode(receipt["rfc3161"]["token"]))
    token[-10] ^= 1                                       # inside the authority's signature
    receipt["rfc3161"]["token"] = base64.b64encode(bytes(token)).decode()
    key = serialization.load_pem_private_key(default_key_path(audit).read_bytes(), None)
    body = {k: v for k, v in receipt.items() if k != "sig"}
    (tmp_path / "bad.json").write_text(json.dumps({**body, "sig": sign(key, body)}))
    err = one_error(cli("verify", "--against", str(tmp_path / "bad.json"), "--tsa-cert", str(root), env=env))
    assert "the receipt's timestamp does not hold" in err


@pytest.mark.parametrize("mode, words", [("wrong nonce", "answered another request (nonce mismatch)"),
                                         ("refuse", "refused the request (status 2)"),
                                         ("garbage", "not an RFC 3161 reply")])
def test_an_authority_that_misbehaves_is_refused_after_the_checkpoint_is_written(tmp_path: Path, tsa, mode: str,
                                                                                 words: str) -> None:
    authority, url = tsa
    log = fill(AuditLog(tmp_path / "audit", clock=Clock(), durable=False, tsa_url=url), 2)
    authority.mode = mode
    try:
        with pytest.raises(AuditError, match=re.escape(words)):
            log.checkpoint()
    finally:
        authority.mode = "ok"
    assert [json.loads(x)["seq"] for x in log.checkpoints_path.read_text().splitlines()] == [2]
    assert log.last_timestamp is None and log.verify().ok


def test_a_receipt_older_than_the_purge_anchor_is_said_to_be_purged(tmp_path: Path) -> None:
    log = fill(AuditLog(tmp_path / "audit", clock=Daily(), durable=False, checkpoint_every=100), 20)
    (tmp_path / "early.json").write_text(json.dumps(log.receipt()))
    fill(log, 1280)
    (tmp_path / "late.json").write_text(json.dumps(log.receipt()))
    assert log.purge() > 0
    report = log.verify(against=[tmp_path / "early.json", tmp_path / "late.json"])
    assert report.ok, report.error
    assert any("seq 20 was purged" in n for n in report.notes)
    assert any("found with the hash it witnessed" in n for n in report.notes)


def test_a_signing_key_readable_by_others_is_refused_and_one_handed_over_by_another_account_is_not(
        tmp_path: Path) -> None:
    key = tmp_path / "keyholder" / "audit.key"
    fill(AuditLog(tmp_path / "audit", key_path=key, durable=False), 1)
    env = {"OBSERVATOIRE_AUDIT": str(tmp_path / "audit"), "OBSERVATOIRE_AUDIT_SIGNING_KEY": str(key)}
    key.chmod(0o640)
    assert "is readable or writable by others; chmod 600 it" in one_error(cli("show", env=env))
    key.chmod(0o400)                                       # a read-only copy, as a credential store hands over
    assert cli("verify", env=env).returncode == 0
    if os.getuid() != 0:
        return                                             # only root can give the key to another account here
    os.chown(key, 65534, os.getgid())                      # the keyholder's, readable by the service's group
    key.chmod(0o440)
    assert cli("verify", env=env).returncode == 0
    key.chmod(0o444)
    assert "readable or writable by others" in one_error(cli("verify", env=env))


# -- the cost of an entry ---------------------------------------------------------------------------------------
def _cost(root: Path, *, durable: bool, witness: bool, n: int) -> float:
    log = AuditLog(root / "audit", durable=durable, witness=root / "w" / "w.jsonl" if witness else None)
    fill(log, 1)
    started = time.perf_counter()
    fill(log, n)
    return (time.perf_counter() - started) / n * 1000


def test_the_cost_of_an_entry_is_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    costs = {(d, w): min(_cost(tmp_path / f"{d}-{w}-{i}", durable=d, witness=w, n=200 if d else 400)
                         for i in range(2))
             for d in (False, True) for w in (False, True)}
    with capsys.disabled():
        for (d, w), ms in costs.items():
            print(f"\ncost of an entry: {ms:.2f} ms ({'fsync' if d else 'no fsync'}, "
                  f"{'with' if w else 'without'} the witness)", end="")
        print()
    assert all(ms < 50 for ms in costs.values()), costs
