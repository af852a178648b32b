"""The PII scrubber's work per text, in CPU instructions, and what the NER model costs per call.

Wall-clock figures on a shared machine move by a factor of two within seconds;
a count of executed instructions does not. With valgrind installed, this
script runs itself under callgrind twice, reading the labelled corpus once and
``--passes`` times with the rules only (no model), and prints the difference
per text: start-up and model loading cancel out. It then times spaCy's NER
(the scrubber's pipeline) on 1 and 10 sentences, to show its cost per call and
per sentence.

    .venv/bin/python bench/pii_work.py [--passes 3] [--against REV] [--corpus FILE]

With ``--against REV`` (a git revision, e.g. the commit before a change), the same count is made of that
revision's scrubber on the same texts, in the same way, and the ratio printed: a change's cost in work,
whatever the machine's load. ``--corpus`` reads another labelled corpus (JSON Lines with a ``text``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "pii_corpus.jsonl"
_COLLECTED = re.compile(r"Collected : (\d+)")


def _texts(corpus: Path = CORPUS) -> list[str]:
    return [json.loads(line)["text"] for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]


def _rules_only(passes: int, corpus: Path, src: str | None) -> None:
    if src:
        sys.path.insert(0, src)   # another revision's package, ahead of the installed one
    from observatoire.gate.pii import Scrubber

    texts = _texts(corpus)
    scrubber = Scrubber(None)
    for _ in range(passes):
        scrubber.find_many(texts)


def _instructions(passes: int, corpus: Path, src: str | None = None) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg.out", sys.executable,
                              __file__, "--work", str(passes), "--corpus", str(corpus), *(["--src", src] if src else [])],
                             capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    return int(_COLLECTED.findall(out.stderr)[-1])


def _per_text(passes: int, corpus: Path, src: str | None = None) -> float:
    """Instructions per text of ``passes`` readings less one reading (start-up and loading cancel out)."""
    n = len(_texts(corpus))
    return (_instructions(passes, corpus, src) - _instructions(1, corpus, src)) / ((passes - 1) * n)


def _revision_src(rev: str, into: str) -> str:
    """The ``src`` folder of git revision ``rev`` of this repository, extracted under ``into``."""
    root = Path(__file__).resolve().parents[1]
    archive = subprocess.run(["git", "-C", str(root), "archive", rev, "src"], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", into], input=archive, check=True)
    return str(Path(into) / "src")


def _ner_ms(sentences: int, repeat: int = 15) -> float:
    from observatoire.gate.pii.scrubber import DEFAULT_MODEL, _load_ner

    nlp = _load_ner(DEFAULT_MODEL)
    text = "Coucou c'est moi, Nélia, je vends mon vélo, contact au <TELEPHONE> ou <EMAIL>"
    list(nlp.pipe([text] * sentences))
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        list(nlp.pipe([text] * sentences))
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passes", type=int, default=3, help="passes over the corpus in the longer count")
    parser.add_argument("--against", help="a git revision whose scrubber is counted on the same texts")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="JSON Lines of texts (default: %(default)s)")
    parser.add_argument("--work", type=int, help=argparse.SUPPRESS)   # the counted run itself
    parser.add_argument("--src", help=argparse.SUPPRESS)              # ... of another revision's package
    args = parser.parse_args()
    if args.work is not None:
        _rules_only(args.work, args.corpus, args.src)
        return
    table = Table(title=f"PII scrubber work ({args.corpus.name}, {len(_texts(args.corpus))} texts)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    if shutil.which("valgrind") and args.passes > 1:
        per_text = _per_text(args.passes, args.corpus)
        table.add_row("instructions per text, rules only (callgrind)", f"{per_text:,.0f}")
        if args.against:
            with tempfile.TemporaryDirectory() as tmp:
                before = _per_text(args.passes, args.corpus, _revision_src(args.against, tmp))
            table.add_row(f"the same at {args.against}", f"{before:,.0f}")
            table.add_row("this revision / that one", f"{per_text / before:.4f}")
    else:
        table.add_row("instructions per text, rules only (callgrind)", "valgrind not installed")
    one, ten = _ner_ms(1), _ner_ms(10)
    table.add_row("NER, one call of 1 sentence (ms)", f"{one:.1f}")
    table.add_row("NER, one call of 10 sentences (ms)", f"{ten:.1f}")
    table.add_row("NER, per sentence beyond the first (ms)", f"{(ten - one) / 9:.2f}")
    Console(width=100).print(table)


if __name__ == "__main__":
    main()
