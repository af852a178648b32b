"""Dates of birth: a date, numeric or in words, only where the context says birth.

"né le 12/06/1990", "née le 1er mars 1987", "né le douze juin 1990", "DN : 5/7/1966",
"date de naissance 03.04.1975", "né(e) en 1990", "né à Marseille le 3 mai 1980".
A date without such a context ("le 12 juin 2024, les faits...") is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from observatoire.gate.pii.finding import Finding

# precompiled (the module-level re functions look their pattern up in a cache at each call)
_NUMERIC_DATE = re.compile(r"(\d{1,2})\s?[/.\-]\s?(\d{1,2})\s?[/.\-]").match
_DAY_NUMBER = re.compile(r"(\d{1,2})\s").match
_DATE_SEP = re.compile(r"[/.\-]").search
_LETTER = re.compile(r"[^\W\d]").search

MONTHS = ("janvier", "février", "fevrier", "mars", "avril", "mai", "juin", "juillet", "août", "aout", "septembre",
          "octobre", "novembre", "décembre", "decembre", "janv", "févr", "fevr", "avr", "juil", "sept", "oct", "nov",
          "déc", "dec")
_UNITS = ("un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf")
_DAY_WORDS = ["premier", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze", "douze",
              "treize", "quatorze", "quinze", "seize", "dix[ -]sept", "dix[ -]huit", "dix[ -]neuf", "vingt", "trente",
              "vingt[ -](?:et[ -])?un", "trente[ -](?:et[ -])?un"]
_DAY_WORDS += [f"vingt[ -]{u}" for u in _UNITS[1:]]
_DAY_WORD = "(?:" + "|".join(sorted(_DAY_WORDS, key=len, reverse=True)) + ")"
_MONTH = "(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?:1[89]\d\d|20\d\d)"
_DATE = (rf"(?:\d{{1,2}}\s?[/.\-]\s?\d{{1,2}}\s?[/.\-]\s?(?:{_YEAR}|\d{{2}})(?![\d<])"          # 12/06/1990, 5.7.66
         rf"|(?:1er|1°|\d{{1,2}}|{_DAY_WORD})\s+{_MONTH}(?:\s+(?:{_YEAR}|\d{{2}}))?(?!\d)"              # 1er mars 1987
         rf"|{_MONTH}\s+{_YEAR}"                                                              # (en) juin 1990
         rf"|{_YEAR}(?![\d/.\-]\d))")                                                         # (en) 1990
_CONTEXT = (r"(?:\bn[ée]e?s?(?:\s?\(e\))?|\bnee\b|\bdate\s+de\s+naissance|\bdate\s+naiss\.?|\bd\.?d\.?n\b\.?"
            r"|\bd\.\s?n\.|\bdn\b|\bnaissance\b|\bné\(e\))")
# context, then ":" or "le" / "en" / "à <place> le", then the date
BIRTH_PATTERN = (rf"(?P<ctx>{_CONTEXT})\s*[:\-]?\s*(?:(?:le|en|au|du|à\s+[^\d,.;:]{{1,40}}?\s+le)\s+)?"
                 rf"(?P<date>{_DATE})")
_BIRTH = re.compile(BIRTH_PATTERN, re.IGNORECASE)
# Where a birth context can start: a "d" or "n" at the start of a word, followed by a letter one of the contexts
# has there ("né", "nee", "naissance", "date", "d.d.n", "d. n.", "dn"). It begins with a plain character class,
# so that the engine skips to candidates at C speed; ``_BIRTH`` still decides at each candidate.
_BIRTH_ANCHOR = re.compile(r"[dDnN](?<!\w.)(?:(?<=[nN])(?i:[éea])|(?<=[dD])(?i:[a.dn]))")


def _birth_matches(text: str) -> Iterator[re.Match[str]]:
    """``_BIRTH.finditer(text)``, trying the pattern only at the anchor's candidates."""
    pos = 0
    candidate, match = _BIRTH_ANCHOR.search, _BIRTH.match
    while (a := candidate(text, pos)) is not None:
        start = a.start()
        m = match(text, start)
        if m is None:
            pos = start + 1
        else:
            yield m
            pos = m.end()


def _plausible(date: str) -> bool:
    m = _NUMERIC_DATE(date)
    if m:
        return 1 <= int(m[1]) <= 31 and 1 <= int(m[2]) <= 12
    m = _DAY_NUMBER(date)
    return m is None or 1 <= int(m[1]) <= 31


def find_birth_dates(text: str) -> Iterator[Finding]:
    for m in _birth_matches(text):
        date = m["date"]
        if not _plausible(date):
            continue
        ctx = " ".join(text[m.start():m.start("date")].split()).lower()
        form = "numeric" if date[:1].isdigit() and _DATE_SEP(date) else "in words" \
            if _LETTER(date) else "year"
        yield Finding("BIRTH_DATE", m.start("date"), m.end("date"), 0.95 if form != "year" else 0.85,
                      "regex:birth_date_fr", f"date ({form}) after birth context '{ctx}'")
