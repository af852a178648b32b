"""Checks that turn a pattern match into personal data: keys, checksums, départements.

Each returns a short reason when the value passes, ``None`` when it does not.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

# precompiled (the module-level re functions look their pattern up in a cache at each call)
_NON_DIGIT = re.compile(r"\D").sub

_SEP = re.compile(r"[\s.\-]")
# Two-letter words that look like plate letters in running lower-case text ("de 123 la").
FRENCH_SHORT_WORDS = frozenset({
    "au", "aux", "ou", "où", "du", "de", "la", "le", "en", "et", "un", "ma", "sa", "ta", "me", "se", "te", "ne", "ce",
    "je", "il", "on", "ni", "va", "vu", "eu", "as", "es", "est", "les", "des", "une", "sur", "par", "ans", "bis", "ter",
    "mai", "ses", "mes", "tes", "nos", "vos", "pas", "rue", "bd", "av", "ch", "h", "km", "kg", "mn", "min", "mm", "cm",
    "am", "pm", "rdv", "env", "apt", "app", "bat", "bât", "esc", "pl", "st"})


def nir_key(nir13: str) -> int:
    """The key of the 13 first characters of a NIR: 97 - (n mod 97), Corsica 2A -> 19, 2B -> 18."""
    dept = nir13[5:7].upper()
    digits = nir13[:5] + {"2A": "19", "2B": "18"}.get(dept, dept) + nir13[7:13]
    return 97 - int(digits) % 97


def nir_reason(raw: str) -> str | None:
    """A French social security number (NIR, 15 characters) whose key checks."""
    nir = _nir_shape(raw)
    if nir is None or nir_key(nir) != int(nir[13:]):
        return None
    dept = nir[5:7]
    return f"NIR key {nir[13:]} = 97 - (n mod 97){', Corsica ' + dept if dept in ('2A', '2B') else ''}"


# How a NIR is written when it is written on purpose: in one piece, key apart, or grouped as on the card.
_NIR_GROUPS = frozenset({(15,), (13, 2), (1, 2, 2, 2, 3, 3, 2)})
_GROUPS = re.compile(r"[0-9A-Za-z]+").findall


def nir_typo_reason(raw: str) -> str | None:
    """A NIR whose key does not check: a person's number mistyped (a digit swapped, the key misread) is still
    that person's number, and the key is all that is wrong with it.

    Only the ways a NIR is written on purpose count (15 characters in one piece, the key apart, or grouped
    1 2 2 2 3 3 2 as on the card), with the sex, month and département of a NIR: any 15 digits of an account
    number, spaced in fours, have no key to check and are not taken.
    """
    nir = _nir_shape(raw)
    if nir is None or nir_key(nir) == int(nir[13:]):
        return None
    if tuple(map(len, _GROUPS(raw))) not in _NIR_GROUPS:
        return None
    return f"NIR shape, key {nir[13:]} does not check (a mistyped NIR)"


def _nir_shape(raw: str) -> str | None:
    """``raw`` without separators, upper-cased, if it has a NIR's shape: 15 characters, sex 1-4, 7 or 8, a month
    (01-12, 20-42 or 50-99 for unknown or provisional ones), a département (01-99, 2A, 2B, never 00)."""
    nir = _SEP.sub("", raw).upper()
    if len(nir) != 15 or not (nir[:5].isdigit() and nir[7:].isdigit()):
        return None
    dept = nir[5:7]
    if not (dept.isdigit() or dept in ("2A", "2B")) or dept == "00":
        return None
    if nir[0] not in "123478":
        return None
    month = int(nir[3:5])
    if not (1 <= month <= 12 or 20 <= month <= 42 or 50 <= month <= 99):
        return None
    return nir


def iban_prefix(raw: str) -> tuple[int, str] | None:
    """The length in characters of ``raw`` (spaces included) of the valid IBAN it starts with, if any.

    The country's IBAN length comes from python-stdnum's registry; the candidate
    is then checked by python-stdnum (mod 97 and the country's BBAN structure;
    national checks such as bank registries are left out: an unknown bank must
    not let an IBAN through).
    """
    from stdnum.iso7064 import mod_97_10  # python-stdnum

    chars = [(i, c) for i, c in enumerate(raw) if c.isalnum()]
    compact = "".join(c for _, c in chars).upper()
    country = _iban_country(compact[:2])
    if country is None or len(compact) < country[0]:
        return None
    length, bban = country
    # what stdnum.iban.validate(..., check_country=False) checks, with the country's registry entry looked
    # up once per country instead of once per number
    number = compact[:length]
    try:
        if not mod_97_10.is_valid(number[4:] + number[:4]) or not bban(number[4:]):
            return None
    except ValueError:   # a character python-stdnum cannot read as a base-36 digit
        return None
    return chars[length - 1][0] + 1, f"IBAN mod 97 and {compact[:2]} BBAN format (python-stdnum)"


@lru_cache(maxsize=256)
def _iban_country(country: str) -> tuple[int, Callable[[str], object]] | None:
    """The length of an IBAN of ``country`` (``FR`` -> 27) and the check of its BBAN's structure (as
    python-stdnum's ``iban.validate`` builds it), from python-stdnum's registry; ``None`` for a country
    without IBAN."""
    from stdnum import numdb

    info = numdb.get("iban").info(country + "00")
    bban = info[0][1].get("bban") if info and info[0][0] == country else None
    if not bban:
        return None
    classes = {"n": "[0-9]", "a": "[A-Z]", "c": "[A-Za-z0-9]"}
    structure = re.compile("^" + _BBAN_PART.sub(lambda m: f"{classes[m[2]]}{{{m[1]}}}", bban) + "$")
    return 4 + sum(int(n) for n in re.findall(r"(\d+)!?[nac]", bban)), structure.match


_BBAN_PART = re.compile(r"([1-9][0-9]*)!([nac])")


def department_ok(dept: str) -> bool:
    """A département of a plate: 01-95 (20 for old Corsican plates), 2A, 2B, 971-976."""
    d = dept.upper()
    if d in ("2A", "2B"):
        return True
    if len(d) == 3:
        return d in ("971", "972", "973", "974", "975", "976")
    return d.isdigit() and 1 <= int(d) <= 95


def plate_words_ok(letters: tuple[str, ...], separators: tuple[str, ...]) -> bool:
    """Rejects running lower-case words that happen to fit a plate ("de 123 la", "12 bis 13").

    Words run with spaces between them: dashes are deliberate, and so is a plate written in one piece
    ("de123et"), both always accepted.
    """
    if any("-" in s for s in separators) or not any(separators):
        return True
    return not any(x.islower() and x.lower() in FRENCH_SHORT_WORDS for x in letters)


_PAIRS = re.compile(r"(\d{2})([^\d]*)(\d{2})([^\d]*)(\d{2})([^\d]*)(\d{2})$")


def phone_reason(raw: str) -> str | None:
    """A French number: 0 + 9 digits, +33 / (+33) / 0033 + 9 digits, the first of them 1-9, or a mobile's
    9 digits alone, spaced "6 12 34 56 78" (the 0 dropped, as after +33).

    The last four pairs must be spaced alike ("06 12 34 56 78", "0612345678"), or the last of them glued
    ("06 12 34 5678", "06 12 345678"): "08 2853 8040", glued then spaced, is a piece of an account number,
    not a phone.
    """
    pairs = _PAIRS.search(raw)
    if pairs is None:
        return None
    seps = (pairs[2], pairs[4], pairs[6])
    if len(set(seps)) != 1 and not (len(set(s for s in seps if s)) == 1 and _glued_last(seps)):
        return None
    digits = _NON_DIGIT("", raw.replace("(0)", ""))
    lead = raw.lstrip(" (")
    if digits.startswith("0033") or (digits.startswith("33") and lead.startswith("+")):
        national = digits[4:] if digits.startswith("0033") else digits[2:]
        digits = national if national.startswith("0") else "0" + national   # "+33 06...": the 0 kept by mistake
    elif len(digits) == 9 and lead[:1] in ("6", "7"):
        digits = "0" + digits   # "6 12 34 56 78": the pattern lets this through spaced only
    if len(digits) != 10 or digits[0] != "0" or digits[1] == "0":
        return None
    kind = {"6": "mobile", "7": "mobile", "8": "special", "9": "non-geographic"}.get(digits[1], "landline")
    return f"French {kind} number (10 digits)"


def _glued_last(seps: tuple[str, ...]) -> bool:
    """Whether the separators, left to right, are some and then none ("06 12 34 5678"), never none then some."""
    return list(seps) == sorted(seps, key=lambda s: s == "")
