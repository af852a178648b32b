"""Every kept field is checked: the checks of ``gate/checks.py``, the policy's refusal of an unchecked
``keep``, and the record key that makes event ids keyed."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from observatoire.errors import InputError
from observatoire.gate.checks import failing
from observatoire.gate.policy import load_policies
from observatoire.gate.pseudonym import init_keyring, load_keyring, rotate_keyring
from observatoire.sources.canonical import event_ids
from observatoire.sources.registry import load_sources


@pytest.mark.parametrize("check, value, ok", [
    ("number", "5,37412", True), ("number", "-1.5", True), ("number", "12 345", True), ("number", "0,5", True),
    ("number", "1e3", True), ("number", "0", True), ("number", "abc", False), ("number", "0612345678", False),
    ("number", "+33612345678", False), ("number", "06 12 34 56 78", False), ("number", "12345678901", False),
    ("number", "Jean", False), ("number", '{"v": 1}', False),
    ("integer", "65000", True), ("integer", "+2", True), ("integer", "-3", True), ("integer", "2,5", False),
    ("integer", "0798765432", False), ("integer", "deux", False),
    ("time", "01/03/2025 14:05", True), ("time", "2025-03-01T14:05:00+01:00", True), ("time", "2025-03-01T13:05Z", True),
    ("time", "2018-07", True), ("time", "14:05", True), ("time", "July 2018", False),
    ("time", "01/03/2025 chez DUPONT", False), ("time", "jean.dupont@exemple.fr", False),
])
def test_a_kept_value_passes_its_check_only_when_it_has_the_checks_form(check: str, value: str, ok: bool) -> None:
    assert failing(check, pa.array([value, None, "  "]), pattern=None).tolist() == [not ok, False, False]


@pytest.mark.parametrize("pattern, value, ok", [
    (r"\d{5}", "13001", True), (r"\d{5}", "130011", False), (r"\d{5}", "13001 Jean", False),
    (r"[EWSN]\d{8}", "E01011264", True), (r"[EWSN]\d{8}", "Leeds 111B", False),
    (r"[a-z]{2}([-_][A-Za-z]{2,4})?|und", "fr", True), (r"[a-z]{2}([-_][A-Za-z]{2,4})?|und", "pt-BR", True),
    (r"[a-z]{2}([-_][A-Za-z]{2,4})?|und", "und", True), (r"[a-z]{2}([-_][A-Za-z]{2,4})?|und", "fr, Bob", False),
    (r"[a-z]{2}([-_][A-Za-z]{2,4})?|und", '{"code": "fr", "auteur": "Jean"}', False),
])
def test_a_code_is_a_whole_value_match_of_its_pattern(pattern: str, value: str, ok: bool) -> None:
    assert failing("code", pa.array([value]), pattern=pattern).tolist() == [not ok]


def test_a_vocabulary_compares_folded_and_extra_spellings_widen_another_check() -> None:
    words = ("Dégradations", "Trouble à l'ordre public")
    values = pa.array(["degradations", "  DÉGRADATIONS ", "Trouble à l’ordre  public", "Dégradations de Jean", None])
    assert failing("vocabulary", values, values=words).tolist() == [False, False, False, True, False]
    assert failing("integer", pa.array(["12", "s", "< 11", "Jean"]), values=("s", "< 11")).tolist() == \
        [False, False, False, True]


@pytest.mark.parametrize("rule, message", [
    ('"keep"', "keep needs a check"),
    ('"keep:text"', "keep needs a check"),
    ('"keep:code"', "keep:code needs one"),
    ('{ action = "keep:number", pattern = "\\\\d+" }', "a pattern goes with keep:code"),
    ('{ action = "keep:code", pattern = "(" }', "not a regular expression"),
    ('{ action = "drop", values = ["a"] }', "belong to a keep rule"),
    ('{ action = "keep:vocabulary", values = "a" }', "values is a list of strings"),
])
def test_a_policy_that_keeps_a_field_unchecked_is_refused(tmp_path: Path, rule: str, message: str) -> None:
    bad = tmp_path / "p.toml"
    bad.write_text(f"[planned_events.fields]\nnom = {rule}\n")
    with pytest.raises(InputError, match=message):
        load_policies(bad)


def test_the_packaged_policies_check_every_kept_field_and_name_a_vocabulary_for_every_closed_list() -> None:
    policies, sources = load_policies(), load_sources()
    for name, policy in policies.sources.items():
        vocabularies = getattr(sources[name], "vocabularies", {})
        for field, rule in policy.fields.items():
            if rule.action == "keep":
                assert rule.check, (name, field)
                if rule.check == "vocabulary":
                    assert rule.values or field in vocabularies, (name, field)
    assert policies.of("planned_events").fields["nom"].action == "scrub"
    assert policies.of("planned_events").fields["lieu"].action == "scrub"
    keyed = {(n, f) for n, p in policies.sources.items() for f, r in p.fields.items() if r.action == "key"}
    assert keyed == {("mains_courantes", "numero"), ("verbalisations", "numero_avis"), ("municipal_reports", "id"),
                     ("cctv_events", "event_id"), ("social_media", "id"), ("planned_events", "id"),
                     ("police_uk", "Crime ID"), ("stops", "stop_id")}


def test_the_record_key_survives_every_rotation_and_an_old_ring_gets_one_once(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "pseudonym.key"
    ring = init_keyring(path)
    [digest] = ring.record_digests([" 1799000123456789 "])
    assert digest and digest.startswith("r") and len(digest) == 33 and "1799000123456789" not in digest
    assert ring.record_digests(["1799000123456789", "", None]) == [digest, None, None]
    rotate_keyring(path)
    rotate_keyring(path, forget_old=True)
    assert load_keyring(path).record_digests(["1799000123456789"]) == [digest]
    assert ring.record.hex() not in repr(ring)
    # A ring written before record keys existed: one is added, then kept.
    doc = json.loads(path.read_text())
    del doc["record"]
    path.write_text(json.dumps(doc))
    first = load_keyring(path).record_digests(["x"])
    assert first != ring.record_digests(["x"]) and load_keyring(path).record_digests(["x"]) == first
    assert path.stat().st_mode & 0o777 == 0o600


def test_an_event_id_cannot_be_computed_from_the_public_id_without_the_ring(tmp_path: Path) -> None:
    ring = init_keyring(tmp_path / "k" / "pseudonym.key")
    plain = f"social_media:{hashlib.sha256(b'social_media' + bytes([0x1f]) + b'1799000123456789').hexdigest()[:24]}"
    keyed = event_ids("social_media", ring.record_digests(["1799000123456789"]))[0]
    other = event_ids("social_media", init_keyring(tmp_path / "k2" / "pseudonym.key").record_digests(
        ["1799000123456789"]))[0]
    assert keyed != plain and keyed != other


def test_the_city_finds_the_event_of_a_record_it_knows_from_the_command_line(tmp_path: Path) -> None:
    env_keys = tmp_path / "keys" / "pseudonym.key"
    ring = init_keyring(env_keys)
    out = subprocess.run([sys.executable, "-m", "observatoire.cli", "keys", "record-id", "mains_courantes",
                          "MC-2025-000123", "--keys", str(env_keys)], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "OBSERVATOIRE_AUDIT": str(tmp_path / "audit")})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == event_ids("mains_courantes", ring.record_digests(["MC-2025-000123"]))[0]
    log = "".join(p.read_text(errors="replace") for p in (tmp_path / "audit").rglob("*") if p.is_file())
    assert "MC-2025-000123" not in log and '"record_id_of":"mains_courantes"' in log.replace(" ", "")
