"""Regulator documents generated from the live configuration, on request (never a stored file).

- :mod:`~observatoire.regulator.collect`: a snapshot of policies, sources, retention, the rule registry,
  forecast methods, the access table and ``processing.yaml``;
- :mod:`~observatoire.regulator.documents`: the public algorithm register entry (CRPA L312-1-3,
  Amsterdam/Helsinki registers) and the AIPD (DPIA) skeleton;
- :mod:`~observatoire.regulator.render`: Markdown, self-contained HTML, JSON;
- :mod:`~observatoire.regulator.cli`: ``observatoire documents register|aipd``.

See ``docs/regulator.md``.
"""

from __future__ import annotations

from typing import Any


def document(settings: Any, kind: str, *, verdicts: bool = True) -> dict[str, Any]:
    """The document ``kind`` ("register" or "aipd") from the configuration of ``settings``, now; with
    ``verdicts=False`` (the public's copy) without the operators' verdict counts."""
    from observatoire.errors import InputError
    from observatoire.regulator.collect import collect
    from observatoire.regulator.documents import aipd, algorithm_register

    builders = {"register": algorithm_register, "aipd": aipd}
    if kind not in builders:
        raise InputError(f"unknown document {kind!r}: register or aipd")
    return builders[kind](collect(settings, verdicts=verdicts))
