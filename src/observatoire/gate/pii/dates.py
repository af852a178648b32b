"""Dates of birth: a date, numeric or in words, only where the context says birth.

"né le 12/06/1990", "née le 1er mars 1987", "né le douze juin 1990", "DN : 5/7/1966",
"date de naissance 03.04.1975", "né(e) en 1990", "né à Marseille le 3 mai 1980", "né le 1990-06-12",
"née le 3 mars mille neuf cent quatre-vingt-sept", "né en deux mille trois".
A date without such a context ("le 12 juin 2024, les faits...") is left alone, but for one: a full date
written bare right after a person's name ("BENALI Karim, 13/05/1950, demeurant..."), the way police texts
give a person's identity (see :func:`find_apposed_birth_dates`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from observatoire.gate.pii.finding import Finding

# precompiled (the module-level re functions look their pattern up in a cache at each call)
_NUMERIC_DATE = re.compile(r"(\d{1,2})\s?[/.\-]\s?(\d{1,2})\s?[/.\-]").match
_ISO_DATE = re.compile(r"\d{4}\s?[/.\-]\s?(\d{1,2})\s?[/.\-]\s?(\d{1,2})").match
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
# A year of birth in words: 1900-1999 ("mille neuf cent quatre-vingt-sept", "mil neuf cent", "dix-neuf cent
# douze") and 2000-2099 ("deux mille trois"), words joined by spaces or hyphens (both spellings are correct).
_S = "[ -]"
_UNIT = "(?:un|deux|trois|quatre|cinq|six|sept|huit|neuf)"
_TEEN = f"(?:dix{_S}sept|dix{_S}huit|dix{_S}neuf|dix|onze|douze|treize|quatorze|quinze|seize)"
_N99 = (rf"(?:(?:vingt|trente|quarante|cinquante)(?:{_S}et{_S}un|{_S}{_UNIT})?"
        rf"|soixante(?:{_S}et{_S}(?:un|onze)|{_S}{_TEEN}|{_S}{_UNIT})?|quatre{_S}vingts?(?:{_S}{_TEEN}|{_S}{_UNIT})?"
        rf"|{_TEEN}|{_UNIT})")
_YEAR_WORDS = (rf"(?:(?:(?:mille|mil){_S}neuf|dix{_S}neuf){_S}cents?(?:{_S}{_N99})?|deux{_S}mille(?:{_S}{_N99})?)"
               r"(?![\w\-])")
_FULL_DATE = (rf"(?:\d{{1,2}}\s?[/.\-]\s?\d{{1,2}}\s?[/.\-]\s?(?:{_YEAR}|\d{{2}})(?![\d<])"      # 12/06/1990, 5.7.66
              rf"|{_YEAR}\s?[/.\-]\s?\d{{1,2}}\s?[/.\-]\s?\d{{1,2}}(?![\d<])"                   # 1990-06-12 (ISO)
              rf"|(?:1er|1°|\d{{1,2}}|{_DAY_WORD})\s+{_MONTH}\s+(?:{_YEAR}(?!\d)|\d{{2}}(?!\d)|{_YEAR_WORDS}))")
_DATE = (rf"(?:{_FULL_DATE}"
         rf"|(?:1er|1°|\d{{1,2}}|{_DAY_WORD})\s+{_MONTH}(?!\d)"                           # 1er mars
         rf"|{_MONTH}\s+(?:{_YEAR}|{_YEAR_WORDS})"                                            # (en) juin 1990
         rf"|{_YEAR}(?![\d/.\-]\d)|{_YEAR_WORDS})")                                          # (en) 1990
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
    m = _ISO_DATE(date)
    if m:
        return 1 <= int(m[2]) <= 31 and 1 <= int(m[1]) <= 12
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


# A full date starting with a digit right after a person's name (and an initial, "Karim B."), set off by a comma,
# a bracket or a dash, without an article ("le", "du"), and not followed by a time of day: "BENALI Karim,
# 13/05/1950, demeurant", "M. X (13 mai 1950)", "X, 1950-05-13".
_APPOSED = re.compile(rf"(?:[ \t]+[^\W\d_](?!\w))?\.?[ \t]*[,(\-–][ \t]*(?=\d)(?P<date>{_FULL_DATE})"
                      r"(?!\s*(?:à\s*)?\d{1,2}\s*[h:]\d)", re.IGNORECASE)


def find_apposed_birth_dates(text: str, name_ends: Iterable[int]) -> Iterator[Finding]:
    """Full dates written with digits in apposition to a person's name (``name_ends``: where the names found,
    or the ``<PERSONNE>`` placeholders, end): a date of birth with no birth cue.

    A police text gives a person's identity as "NOM Prénom, date, address": a bare full date right after a
    name is that person's date of birth, whatever its year; the date of an event takes an article ("M. X,
    le 12/03/2025, a déclaré") or a time ("M. X, 12/03/2025 à 14h30"), and is left. The name read from a
    placeholder gives the same answer once the name is scrubbed, which keeps scrubbing idempotent.
    """
    for end in name_ends:
        m = _APPOSED.match(text, end)
        if m is not None and _plausible(m["date"]):
            form = "numeric" if _DATE_SEP(m["date"]) else "in words"
            yield Finding("BIRTH_DATE", m.start("date"), m.end("date"), 0.9, "regex:birth_date_fr",
                          f"full date ({form}) right after a person's name, no birth cue")
