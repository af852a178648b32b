"""Dates of birth: a date, numeric or in words, only where the context says birth.

"né le 12/06/1990", "née le 1er mars 1987", "né le douze juin 1990", "DN : 5/7/1966",
"date de naissance 03.04.1975", "né(e) en 1990", "né à Marseille le 3 mai 1980".
A date without such a context ("le 12 juin 2024, les faits...") is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from observatoire.gate.pii.finding import Finding

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


def _plausible(date: str) -> bool:
    m = re.match(r"(\d{1,2})\s?[/.\-]\s?(\d{1,2})\s?[/.\-]", date)
    if m:
        return 1 <= int(m[1]) <= 31 and 1 <= int(m[2]) <= 12
    m = re.match(r"(\d{1,2})\s", date)
    return m is None or 1 <= int(m[1]) <= 31


def find_birth_dates(text: str) -> Iterator[Finding]:
    for m in _BIRTH.finditer(text):
        date = m["date"]
        if not _plausible(date):
            continue
        ctx = " ".join(text[m.start():m.start("date")].split()).lower()
        form = "numeric" if date[:1].isdigit() and re.search(r"[/.\-]", date) else "in words" \
            if re.search(r"[^\W\d]", date) else "year"
        yield Finding("BIRTH_DATE", m.start("date"), m.end("date"), 0.95 if form != "year" else 0.85,
                      "regex:birth_date_fr", f"date ({form}) after birth context '{ctx}'")
