"""The checks of kept fields: what a value must look like to pass the gate unchanged.

A field the policy keeps (``keep:<check>``, ``gate/policy.py``) carries whatever an export puts in it,
so each kept value is checked before it goes on:

``number``      a decimal number (``5,374``, ``-0.5``, ``1e3``; spaces between digit groups allowed) of at
                most 10 integer digits without a leading zero: a phone number does not pass
``integer``     a whole number of that form, signed or not
``time``        digits and the separators of dates and times only (``/ - : . T Z +`` and spaces):
                no letter of a name can pass; the connector parses the exact format
``code``        a whole-value match of the rule's ``pattern`` (a postcode, an INSEE or LSOA code)
``vocabulary``  one of a closed list of words, compared folded (case, accents, apostrophes, spacing)

A missing or blank value passes (the connector decides whether the field is required). ``values``
given with another check are further spellings it accepts ("NA" for a number, "s" for a hidden count).
Each returns a mask of the values that fail, computed on the distinct values of the column.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SPACES = "[\\s\u00a0\u202f]"
# At most 10 integer digits and no leading zero before another digit: a count, a population, a coordinate,
# never a phone number ("0612345678", "+33612345678") or a long account number.
NUMBER = r"^[+-]?((0|[1-9]\d{0,9})([.,]\d*)?|[.,]\d+)([eE][+-]?\d{1,3})?$"
INTEGER = r"^[+-]?(0|[1-9]\d{0,9})$"
TIME = r"^[0-9][0-9 :/.\-+TZtz]{0,39}$"


def fold(value: str) -> str:
    """Lower case, no accents, typographic apostrophes as ``'``, single spaces: how vocabularies compare."""
    s = unicodedata.normalize("NFKD", value.replace("\u2019", "'"))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return " ".join(s.casefold().split())


def failing(check: str, col: pa.Array, *, pattern: str | None = None,
            values: Collection[str] | None = None) -> np.ndarray:
    """True where a present value fails ``check`` (see the module's table)."""
    if not pa.types.is_string(col.type) and not pa.types.is_large_string(col.type):
        return np.zeros(len(col), dtype=bool)     # parsed by the reader: a number, a date, a count
    distinct = pc.unique(col)
    texts = pc.utf8_trim_whitespace(distinct)
    present = pc.fill_null(pc.not_equal(texts, ""), False)
    accepted = set(map(fold, values or ()))
    if check == "vocabulary":
        ok = pa.array([v is not None and fold(v) in accepted for v in distinct.to_pylist()], pa.bool_())
    else:
        if check == "number":
            ok = pc.match_substring_regex(pc.replace_substring_regex(texts, SPACES, ""), NUMBER)
        elif check == "integer":
            ok = pc.match_substring_regex(pc.replace_substring_regex(texts, SPACES, ""), INTEGER)
        elif check == "time":
            ok = pc.match_substring_regex(texts, TIME)
        elif check == "code":
            if pattern is None:
                raise ValueError("a code check needs a pattern")
            ok = pc.match_substring_regex(texts, _anchored(pattern))
        else:
            raise ValueError(f"unknown check {check!r}")
        if accepted:
            extra = pa.array([v is not None and fold(v) in accepted for v in distinct.to_pylist()], pa.bool_())
            ok = pc.or_(pc.fill_null(ok, False), extra)
    bad = pc.and_(present, pc.invert(pc.fill_null(ok, False)))
    return np.asarray(pc.fill_null(bad.take(pc.index_in(col, distinct)), False).to_numpy(zero_copy_only=False),
                      dtype=bool)


def _anchored(pattern: str) -> str:
    """The whole value must match, whether or not the pattern says so with ``^`` and ``$``."""
    return f"^(?:{pattern})$"
