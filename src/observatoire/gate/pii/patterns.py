"""Structured identifiers: a regular expression plus a validator, as data.

Each :class:`PatternDetector` is one row of :data:`STRUCTURED`: the pattern
finds candidates, the validator keeps those whose key, checksum or
département checks (and may narrow the span), and context words seen just
before raise the score. The patterns are exported (:data:`PATTERNS`) so that
the benchmark can build Presidio recognizers from the very same expressions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from observatoire.gate.pii.finding import Entity, Finding
from observatoire.gate.pii.text import is_latin1
from observatoire.gate.pii.validators import (department_ok, iban_prefix, nir_reason, nir_typo_reason, phone_reason,
                                              plate_words_ok)

_DIGITS = re.compile(r"\d").findall
_NUMERIC = re.compile(r"[+\d]").search
# A validator gets the match and returns (start, end offsets in the text, reason), or None to reject.
Validator = Callable[[re.Match[str]], "tuple[int, int, str] | None"]

_SIV_LETTER = "[A-HJ-NP-TV-Z]"   # SIV plates never use I, O, U
_FNI_LETTER = "[A-HJ-NP-Z]"      # FNI plates never use I, O

# Social-media accounts: a mention "@name", a profile link "instagram.com/name" (the account masked, the platform
# kept) and "snap : name", three patterns that each start with a plain character ("@", "/", ":"), which the regex
# engine skips to at C speed (and a text without it is not searched); the look-behinds after it say which
# platform the link or the colon follows, the last letter of the platforms' names first (a date's "/", a role
# word's ":" fail there).
HANDLE_DOMAINS = ("instagram.com", "instagr.am", "twitter.com", "x.com", "tiktok.com", "facebook.com", "fb.com",
                  "snapchat.com/add", "youtube.com", "threads.net", "t.me", "linkedin.com/in", "twitch.tv")
HANDLE_PLATFORMS = ("insta", "instagram", "ig", "snap", "snapchat", "tiktok", "tik tok", "twitter", "telegram",
                    "twitch")
_HANDLE_LINK = "|".join(rf"(?<={re.escape(d)}/)(?<![\w\-]{re.escape(d)}/)" for d in HANDLE_DOMAINS)
_HANDLE_COLON = "|".join(rf"(?<={re.escape(w)}{s}:)(?<!\w{re.escape(w)}{s}:)" for w in HANDLE_PLATFORMS
                         for s in ("", " "))
_DOMAIN_ENDS = "".join(sorted({d[-1] for d in HANDLE_DOMAINS}))
_PLATFORM_ENDS = "".join(sorted({w[-1] for w in HANDLE_PLATFORMS}))

# Look-arounds treat "<" and ">" as parts of a word: after scrubbing, a placeholder stands where a word
# was, and what was not found next to that word must not be found next to its placeholder.
PATTERNS: dict[str, str] = {
    # 0X XX XX XX XX, +33 / (+33) / 0033 X XX XX XX XX (the 0 kept too), and a mobile's nine digits alone,
    # spaced (6 12 34 56 78: the 0 dropped, as after +33)
    "phone_fr": r"(?<![\d+>])(?:(?:\(?(?:\+|00)[ \u00a0]?33\)?[ \u00a0.\-]?(?:\(0\)[ \u00a0.\-]?|0)?|0)[1-9]"
                r"(?:[ \u00a0\u202f.\-]?\d{2}){4}|[67](?:[ \u00a0\u202f]\d{2}){4})(?![\d<])",
    "plate_siv": rf"(?<![\w\->])(?P<l1>{_SIV_LETTER}{{2}})(?P<s1> ?- ?| ?)(?P<num>\d{{3}})(?P<s2> ?- ?| ?)"
                 rf"(?P<l2>{_SIV_LETTER}{{2}})(?![\w\-<])",
    "plate_fni": rf"(?<![\w\->])(?P<num>[1-9]\d{{0,3}})(?P<s1> ?- ?| ?)(?P<l1>{_FNI_LETTER}{{2,3}})(?P<s2> ?- ?| ?)"
                 rf"(?P<dept>97[1-6]|2[AB]|\d{{2}})(?![\w\-<])",
    "nir": r"(?<![\d>])[1-478](?:[ .\-]?\d){4}[ .\-]?(?:\d[ .\-]?\d|2[ .\-]?[AB])(?:[ .\-]?\d){6}[ .\-]?\d{2}"
           r"(?![\d<])",
    "iban": r"(?<![\w>])[A-Z]{2}\d{2}(?:(?:[ \-]|[ \t]*\r?\n[ \t]*)?[A-Z0-9]){11,30}",   # broken across lines too
    "email": r"(?<![\w.+\->])[\w.%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9\-]+)*"
             r"\.[A-Za-z]{2,24}(?![\w\-<])",
    "handle": r"@(?<![\w.+\-@>/]@)(?P<name>\w(?:[\w.]{0,28}\w)?)(?![\w@<])",
    "handle_link": rf"/(?<=[{_DOMAIN_ENDS}]/)(?:{_HANDLE_LINK})"
                   rf"(?P<name>@?(?:profile\.php\?id=\d+|\w(?:[\w.\-]{{0,58}}\w)?))(?![\w<])",
    "handle_platform": rf":(?:(?<=[{_PLATFORM_ENDS}]:)|(?<=[{_PLATFORM_ENDS}] :))(?:{_HANDLE_COLON})"
                       rf"[ \u00a0]?(?P<name>@?\w(?:[\w.\-]{{0,28}}\w)?)(?![\w<])",
}


# Where a match of each pattern can start, as an expression that begins with a plain character class, so that
# the regex engine skips to candidates at C speed (the patterns begin with a look-behind, which makes the engine
# try every position). Each anchor matches at every position where its pattern can match (a superset: the
# pattern still decides), so ``PatternDetector.first`` returns exactly what ``pattern.search`` would. The first
# class lists the case variants that IGNORECASE lets match (U+017F long s, U+212A kelvin sign), so that the
# anchors need no IGNORECASE on their first character.
_SIV_FIRST = "[A-HJ-NP-TV-Za-hj-np-tv-z\u017f\u212a]"
ANCHORS: dict[str, str] = {
    # after the anchor's character, its look-ahead is what the pattern needs next (up to its final look-ahead), so
    # that a character starting nothing is passed over at C speed rather than tried by the pattern from Python:
    # "+" or "0" then " 33" or "0 33" (+33, 0033), or a first digit and four pairs (06 12 34 56 78)
    # or "(" then "+33" / "0033", or a 6 or a 7 and four pairs after spaces (6 12 34 56 78)
    "phone_fr": r"[(+067](?<![\d+>].)(?:(?<=\()(?=\+|00)"
                r"|(?<=[+0])(?=0?[ \u00a0]?33|[1-9](?:[ \u00a0\u202f.\-]?\d\d){4})"
                r"|(?<=[67])(?=(?:[ \u00a0\u202f]\d\d){4}))",
    # a plate's number, with two letters after it and a letter and a separator (none, " ", "-", " -", "- ",
    # " - ") before it: the plate starts 5, 4, 3 or 2 characters before (tried in that order). What follows is
    # tested first: most digits are not followed by two digits and two letters, and that fails fastest.
    "plate_siv": rf"\d(?=\d\d(?: ?- ?| ?)(?i:{_SIV_LETTER}{_SIV_LETTER}))"
                 r"(?:(?<=[^\W\d_]\d)|(?<=[^\W\d_][ \-]\d)|(?<=[^\W\d_] -\d)|(?<=[^\W\d_]- \d)|(?<=[^\W\d_] - \d))",
    "plate_fni": rf"[1-9](?<![\w\->].)(?=\d{{0,3}}(?: ?- ?| ?)(?i:{_FNI_LETTER}{{2,3}})(?: ?- ?| ?)(?:\d\d|2(?i:[AB])))",
    "nir": r"[1-478](?<![\d>].)(?=(?:[ .\-]?\d){4}[ .\-]?(?:\d[ .\-]?\d|2[ .\-]?(?i:[AB]))(?:[ .\-]?\d){6}[ .\-]?\d\d)",
    # an IBAN's first digit is always its third character: the anchor finds that digit (offset 2)
    "iban": r"\d(?<=(?i:[A-Z][A-Z])\d)(?=\d)",
}
# How far before its anchor a match starts (largest first, so that starts are tried left to right). With several
# offsets, a later anchor never gives a start left of a match found from an earlier one (a plate's separator
# holds no digit), so the first match found is the leftmost one, as with ``pattern.search``.
ANCHOR_OFFSETS: dict[str, tuple[int, ...]] = {"iban": (2,), "plate_siv": (5, 4, 3, 2)}
_LEAD = max(max(o) for o in ANCHOR_OFFSETS.values())


def _phone(m: re.Match[str]) -> tuple[int, int, str] | None:
    reason = phone_reason(m.group())
    return (m.start(), m.end(), reason) if reason else None


# "immatriculé", "immat.", "plaque", "plaque n° :" right before: what follows is a plate, whatever its letters.
_PLATE_SAID = re.compile(r"(?<!\w)(?:immatricul\w*|immat\.?|plaques?)\s*(?:n°\s*)?:?\s*$", re.IGNORECASE).search


def _plate_said(m: re.Match[str]) -> bool:
    """Whether the text right before the match says a plate follows ("immatriculée me 456 ta")."""
    return _PLATE_SAID(m.string, max(0, m.start() - 25), m.start()) is not None


def _siv(m: re.Match[str]) -> tuple[int, int, str] | None:
    if m["num"] == "000":
        return None
    if not plate_words_ok((m["l1"], m["l2"]), (m["s1"], m["s2"])) and not _plate_said(m):
        return None
    return m.start(), m.end(), "SIV plate AA-123-AA (letters without I, O, U)"


def _fni(m: re.Match[str]) -> tuple[int, int, str] | None:
    if not department_ok(m["dept"]):
        return None
    if not plate_words_ok((m["l1"],), (m["s1"], m["s2"])) and not _plate_said(m):
        return None
    if not m["s1"] and not m["s2"] and m["l1"].islower():
        return None   # "12abc13" in lower case is more likely a code than a plate
    return m.start(), m.end(), f"FNI plate 1234 AB 12, département {m['dept'].upper()} exists"


def _nir(m: re.Match[str]) -> tuple[int, int, str] | None:
    reason = nir_reason(m.group()) or nir_typo_reason(m.group())
    return (m.start(), m.end(), reason) if reason else None


def _iban(m: re.Match[str]) -> tuple[int, int, str] | None:
    found = iban_prefix(m.group())
    return (m.start(), m.start() + found[0], found[1]) if found else None


def _email(m: re.Match[str]) -> tuple[int, int, str] | None:
    return m.start(), m.end(), "e-mail address pattern"


_NOT_AN_ACCOUNT = re.compile(r"\d+|\d{1,2}h\d{0,2}", re.IGNORECASE).fullmatch   # "@2025", "@18h30"


def _mention(m: re.Match[str]) -> tuple[int, int, str] | None:
    """A social-media account named "@name"; "@18h30" and "@2025" are a time and a number, not accounts."""
    if _NOT_AN_ACCOUNT(m["name"]):
        return None
    return m.start(), m.end(), "social-media mention '@' + name"


def _profile_link(m: re.Match[str]) -> tuple[int, int, str] | None:
    """The account of a profile link; the platform stays ("instagram.com/<PSEUDO>")."""
    return m.start("name"), m.end(), "social-media profile link, account name"


def _platform_name(m: re.Match[str]) -> tuple[int, int, str] | None:
    """The account after a platform word and a colon ("snap : name"); the platform word stays."""
    return m.start("name"), m.end(), "social-media platform word + colon + account name"


@dataclass(frozen=True, slots=True)
class PatternDetector:
    """One structured identifier: pattern, validator, context words and scores."""

    name: str
    entity: Entity
    pattern: re.Pattern[str]
    validate: Validator
    score: float
    context: tuple[str, ...] = ()
    context_score: float = 1.0
    window: int = 40
    min_digits: int = 0            # a text with fewer digits cannot hold this identifier: skip the regex
    needs: str = ""                # a character the text must contain ("@" for an e-mail)
    anchor: re.Pattern[str] | None = None   # where a match can start (see ANCHORS); None: search everywhere
    anchor_offsets: tuple[int, ...] = (0,)   # the anchor matches this many characters after the start
    context_rx: re.Pattern[str] | None = None

    @property
    def detector(self) -> str:
        return f"regex:{self.name}"

    def _search(self, text: str, pos: int) -> re.Match[str] | None:
        """``pattern.search(text, pos)``, trying the pattern only where its anchor says a match can start."""
        anchor = self.anchor
        if anchor is None:
            return self.pattern.search(text, pos)
        match, candidate, offsets = self.pattern.match, anchor.search, self.anchor_offsets
        at = pos + offsets[-1]
        while (a := candidate(text, at)) is not None:
            at = a.start()
            for offset in offsets:
                start = at - offset
                if start >= pos:
                    m = match(text, start)
                    if m is not None:
                        return m
            at += 1
        return None

    def first(self, text: str, pos: int = 0) -> re.Match[str] | None:
        """The first candidate match in ``text`` that starts at ``pos`` or after (``None``: the detector has
        nothing to do there)."""
        if self.needs and self.needs not in text:
            return None
        return self._search(text, pos)

    def validated(self, text: str, m: re.Match[str] | None) -> list[Finding]:
        """The validated matches in ``text``, from its first candidate match ``m`` on."""
        out = []
        while m is not None:
            verdict = self.validate(m)
            if verdict is None:
                m = self._search(text, m.start() + 1)   # a rejected candidate may hide a valid one inside it
                continue
            start, end, reason = verdict
            score = self.score
            if self.context:
                hit = (self.context_rx or _context_rx(self.context)).search(text, max(0, m.start() - self.window),
                                                                             m.start())
                if hit is not None:
                    score, reason = self.context_score, f"{reason}; context '{hit.group().lower()}'"
            out.append(Finding(self.entity, start, end, score, self.detector, reason))
            m = self._search(text, end)                  # a validator may narrow the span: search again after it
        return out


def find_structured(detectors: Sequence[PatternDetector], text: str) -> list[Finding]:
    """The validated matches of each detector in ``text``, in detector order. A detector is skipped, before any
    search, when the text has too few digits for its identifier or lacks the character it needs."""
    out: list[Finding] = []
    digits, first = _digits(text)
    # Every match of an anchored detector holds a digit or a "+" (its anchor), at most ``_LEAD`` characters
    # after the match's start: the characters before ``lead`` cannot start one.
    lead = -1 if first < 0 else max(0, first - _LEAD)
    for d in detectors:
        anchored = d.anchor is not None
        if (anchored and lead < 0) or digits < d.min_digits or (d.needs and d.needs not in text):
            continue
        m = d._search(text, lead if anchored else 0)
        if m is not None:
            out += d.validated(text, m)
    return out


_ASCII_DIGITS = "0123456789"


def _digits(text: str) -> tuple[int, int]:
    """How many digits ``text`` holds, and where its first digit or "+" is (-1: none).

    A text all below U+0100 (nearly every one) holds no digit but 0 to 9 (the others, "٣", "３", are far
    above): ten counts and eleven finds, each a C loop, tell; a regular expression would test each character.
    """
    if not (text.isascii() or is_latin1(text)):
        first = _NUMERIC(text)
        return len(_DIGITS(text)), -1 if first is None else first.start()
    digits = sum(map(text.count, _ASCII_DIGITS))
    if not digits:
        return 0, text.find("+")
    return digits, min(p for p in map(text.find, "+" + _ASCII_DIGITS) if p >= 0)


@lru_cache(maxsize=64)
def _context_rx(words: tuple[str, ...]) -> re.Pattern[str]:
    """Context words at the start of a word ("immatricul" matches "immatriculé", "tel" not "hôtel")."""
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + ")", re.IGNORECASE)


def _rx(name: str, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    return re.compile(PATTERNS[name], flags)


def _fast(name: str) -> dict[str, Any]:
    """The anchor of a pattern, as keyword arguments of :class:`PatternDetector`."""
    return {"anchor": re.compile(ANCHORS[name]) if name in ANCHORS else None,
            "anchor_offsets": ANCHOR_OFFSETS.get(name, (0,))}


def structured_detectors() -> tuple[PatternDetector, ...]:
    """The structured detectors, compiled (call once, at construction of a scrubber)."""
    plate_ctx = ("immatricul", "plaque", "véhicule", "vehicule", "voiture", "scooter", "moto", "camion", "fourgon")
    phone_ctx = ("tél", "tel", "téléphone", "telephone", "portable", "mobile", "joignable", "appeler", "numéro",
                 "numero", "n°", "fixe", "whatsapp", "sms", "contact")
    plate_rx, phone_rx = _context_rx(plate_ctx), _context_rx(phone_ctx)
    return (
        PatternDetector("phone_fr", "PHONE", _rx("phone_fr"), _phone, 0.85, phone_ctx, 0.99, 25, min_digits=9,
                        **_fast("phone_fr"), context_rx=phone_rx),
        PatternDetector("plate_siv", "PLATE", _rx("plate_siv"), _siv, 0.9, plate_ctx, 0.99, min_digits=3,
                        **_fast("plate_siv"), context_rx=plate_rx),
        PatternDetector("plate_fni", "PLATE", _rx("plate_fni"), _fni, 0.7, plate_ctx, 0.95, min_digits=3,
                        **_fast("plate_fni"), context_rx=plate_rx),
        PatternDetector("nir", "NIR", _rx("nir"), _nir, 0.99, min_digits=13, **_fast("nir")),
        PatternDetector("iban", "IBAN", _rx("iban"), _iban, 0.99, min_digits=8, **_fast("iban")),
        PatternDetector("email", "EMAIL", _rx("email"), _email, 0.95, needs="@"),
        PatternDetector("handle", "HANDLE", _rx("handle"), _mention, 0.9, needs="@"),
        PatternDetector("handle_link", "HANDLE", _rx("handle_link"), _profile_link, 0.9, needs="/"),
        PatternDetector("handle_platform", "HANDLE", _rx("handle_platform"), _platform_name, 0.9, needs=":"),
    )
