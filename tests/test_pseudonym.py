"""Keyed pseudonyms: deterministic per key, spelling-proof, changed by rotation, key kept apart."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from observatoire.gate.pseudonym import (TOKEN_HEX, KeyRingError, init_keyring, load_keyring, normalise,
                                         rotate_keyring)
from observatoire.errors import InputError


@pytest.fixture
def ring_path(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "pseudonym.key"
    init_keyring(path)
    return path


def test_key_ring_is_created_private_and_never_shown(ring_path: Path) -> None:
    assert stat.S_IMODE(ring_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(ring_path.parent.stat().st_mode) == 0o700
    ring = load_keyring(ring_path)
    key_hex = ring.keys[ring.current].hex()
    assert key_hex not in repr(ring) and key_hex not in str(ring)


def test_when_the_ring_is_readable_by_others_then_it_is_refused(ring_path: Path) -> None:
    os.chmod(ring_path, 0o644)
    with pytest.raises(KeyRingError, match="readable by others"):
        load_keyring(ring_path)


def test_when_a_ring_exists_then_init_refuses_to_overwrite_it(ring_path: Path) -> None:
    with pytest.raises(InputError, match="already exists"):
        init_keyring(ring_path)


@pytest.mark.parametrize("kind, a, b", [
    ("plate", "AB-123-CD", "ab 123 cd"),
    ("plate", "1234 AB 13", "1234-ab-13"),
    ("phone", "06 12 34 56 78", "+33 6 12 34 56 78"),
    ("phone", "06.12.34.56.78", "0033612345678"),
    ("person", "BENALI Karim", "karim benali"),
    ("person", "Éloïse Dupont-Moreau", "dupont moreau eloise"),
    ("officer", "PM0421", " PM0421 "),
])
def test_when_the_same_identifier_is_spelled_differently_then_the_token_is_the_same(
        ring_path: Path, kind: str, a: str, b: str) -> None:
    ring = load_keyring(ring_path)
    assert ring.token(kind, a) == ring.token(kind, b)
    assert ring.token(kind, a).startswith(ring.current + ":")


def test_different_identifiers_and_kinds_give_different_tokens(ring_path: Path) -> None:
    ring = load_keyring(ring_path)
    assert ring.token("plate", "AB-123-CD") != ring.token("plate", "AB-123-CE")
    assert ring.token("officer", "0421") != ring.token("patient", "0421")


def test_rotation_changes_tokens_and_keeps_old_keys_unless_told(ring_path: Path) -> None:
    before = load_keyring(ring_path)
    token = before.token("plate", "AB-123-CD")
    old, new = rotate_keyring(ring_path)
    after = load_keyring(ring_path)
    assert (old, new) == (before.current, after.current) and old != new
    assert after.token("plate", "AB-123-CD") != token
    assert old in after.keys
    rotate_keyring(ring_path, forget_old=True)
    assert list(load_keyring(ring_path).keys) == [load_keyring(ring_path).current]


@settings(max_examples=200, deadline=None)
@given(value=st.text(min_size=1, max_size=30).filter(lambda v: v.strip()),
       kind=st.sampled_from(["plate", "phone", "person", "officer", "author", "id"]))
def test_tokens_are_deterministic_per_key_and_reveal_nothing(tmp_path_factory, value: str, kind: str) -> None:
    path = tmp_path_factory.mktemp("k") / "ring.key"
    ring = init_keyring(path)
    other = init_keyring(tmp_path_factory.mktemp("k") / "ring.key")
    t = ring.token(kind, value)
    assert t == ring.token(kind, value)
    assert t.split(":")[1] != other.token(kind, value).split(":")[1]
    assert normalise(kind, value) not in t.split(":")[1] or len(normalise(kind, value)) < 6


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.text(max_size=20),
                                 st.from_regex(r"\+?[0-9 .()-]{6,20}", fullmatch=True),
                                 st.from_regex(r"[A-Za-z]{2}[ -]?[0-9]{3}[ -]?[A-Za-z]{2}", fullmatch=True)),
                       max_size=20),
       kind=st.sampled_from(["plate", "phone", "officer", "id", "person"]))
def test_vectorised_normalisation_equals_the_reference_one(values: list, kind: str) -> None:
    import pyarrow as pa

    from observatoire.gate.pseudonym import normalise_array

    got = normalise_array(kind, pa.array(values, pa.string())).to_pylist()
    assert got == [None if v is None else normalise(kind, v) for v in values]


def test_a_token_is_the_keyed_hmac_of_kind_and_normalised_value(ring_path: Path) -> None:
    import hmac

    ring = load_keyring(ring_path)
    key = ring.keys[ring.current]
    expected = hmac.digest(key, b"plate\x1f" + b"ab123cd", "sha256").hex()[:TOKEN_HEX]
    assert ring.tokens("plate", ["AB-123-CD", None, " ", "ab 123 cd"]) == [f"{ring.current}:{expected}", None, None,
                                                                          f"{ring.current}:{expected}"]
