"""The shortcuts taken for speed give what the plain computations give."""

from __future__ import annotations

import random
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import iban

from observatoire.gate.pii import Finding, resolve_overlaps
from observatoire.gate.pii.names import blocked_tokens
from observatoire.gate.pii.text import _LATIN_LETTER, _LATIN_WORD_SPLIT, _WORD_SPLIT, analyse
from observatoire.gate.pii.validators import iban_prefix


def test_iban_check_agrees_with_stdnum() -> None:
    rng = random.Random(3)
    valid = ["FR7630006000011234567890189", "DE89370400440532013000", "GB29NWBK60161331926819",
             "ES9121000418450200051332", "MC5811222000010123456789030", "BE68539007547034"]
    numbers = list(valid)
    for v in valid:   # one character changed, and the check digits recomputed or not
        for _ in range(20):
            i = rng.randrange(4, len(v))
            c = rng.choice("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
            w = v[:i] + c + v[i + 1:]
            numbers += [w, w[:2] + iban.calc_check_digits(w) + w[4:]]
    for n in numbers:
        expected = iban.is_valid(n, check_country=False)
        assert (iban_prefix(n) is not None) == expected, n


def test_overlaps_tie_broken_by_reason_whatever_the_order() -> None:
    a = Finding("PERSON", 0, 5, 0.85, "rule:role", "role word 'nom' + name word(s)")
    b = Finding("PERSON", 0, 5, 0.85, "rule:role", "role word 'prénom nom' + name word(s)")
    assert resolve_overlaps([a, b]) == resolve_overlaps([b, a]) == [b if b.reason < a.reason else a]


def test_no_overlap_fast_path_keeps_everything_in_order() -> None:
    fs = [Finding("PHONE", 10, 20, 0.9, "regex:phone_fr", "x"), Finding("PERSON", 0, 5, 0.9, "rule:title", "y")]
    assert resolve_overlaps(fs) == sorted(fs, key=lambda f: f.start)
    assert resolve_overlaps([*fs, fs[0]]) == sorted(fs, key=lambda f: f.start)   # a repeat is dropped


def test_blocked_tokens_is_the_plain_overlap_test() -> None:
    info = analyse("M. Karim BENALI, 12 rue de Rome, l'Estaque. Tél 06 12 34 56 78 — vu à 23h15")
    spans = [(0, 3), (9, 14), (17, 31), (40, 41), (60, 60), (200, 300)]
    plain = {i for i, (a, b) in enumerate(zip(info.starts, info.ends)) for s, e in spans if s < b and a < e}
    assert blocked_tokens(info, spans) == plain


def test_masked_words_are_left_out_and_gaps_run_from_the_previous_word() -> None:
    text = "plaque AB-123-CD vue rue X"
    info = analyse(text, [(7, 16)])
    assert info.words == ("plaque", "vue", "rue", "X")
    assert info.gaps[1] == " AB-123-CD "
    assert [text[s:e] for s, e in zip(info.starts, info.ends)] == list(info.words)
    assert info.shapes == ("LOWER", "LOWER", "LOWER", "INITIAL")
    assert info.spaced == (True, False, True, True)


def test_latin_letter_class_is_the_unicode_one_below_u0250() -> None:
    latin, unicode = re.compile(_LATIN_LETTER), re.compile(r"[^\W\d_]")
    assert [i for i in range(0x250) if bool(latin.fullmatch(chr(i))) != bool(unicode.fullmatch(chr(i)))] == []
    text = "M. Ödön ŁUKASZ-Ñúñez, l'Ĥôtel ª²µ ½ 12_ab ǅemal ɏ"
    assert _LATIN_WORD_SPLIT.split(text) == _WORD_SPLIT.split(text)


def test_a_text_beyond_latin_is_split_on_unicode_letters() -> None:
    info = analyse("Vu M. Nguyễn Văn Minh à 23h15")   # "ễ" is beyond U+0250
    assert info.words == ("Vu", "M", "Nguyễn", "Văn", "Minh", "à", "h")


@given(st.text(alphabet="aZé'’- \n.@_<>0912²ØŁ\u0628\u0645①ǅ\u0663", max_size=40))
@settings(max_examples=300, deadline=None)
def test_a_text_is_latin_when_no_character_is_beyond_u024f(text: str) -> None:
    assert analyse(text).latin == all(ord(c) < 0x250 for c in text)


def test_possessive_word_split_is_the_backtracking_one() -> None:
    plain = re.compile(r"([^\W\d_]+(?:['’\-][^\W\d_]+)*)")
    texts = ["M. Ödön ŁUKASZ-Ñúñez, l'Ĥôtel ª²µ ½ 12_ab ǅemal ɏ", "a--b -c- d'-e 'f' g’’h i-'j", "Jean-Pierre-", ""]
    for text in texts:
        assert _WORD_SPLIT.split(text) == _LATIN_WORD_SPLIT.split(text) == plain.split(text)
