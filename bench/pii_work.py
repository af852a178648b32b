"""The PII scrubber's work per text, in CPU instructions, and what the NER model costs per call.

Wall-clock figures on a shared machine move by a factor of two within seconds;
a count of executed instructions does not. With valgrind installed, this
script runs itself under callgrind twice, reading the labelled corpus once and
``--passes`` times with the rules only (no model), and prints the difference
per text: start-up and model loading cancel out. It then times spaCy's NER
(the scrubber's pipeline) on 1 and 10 sentences, to show its cost per call and
per sentence.

    .venv/bin/python bench/pii_work.py [--passes 3]
"""

from __future__ import annotations

import argparse
import json
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


def _texts() -> list[str]:
    return [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def _rules_only(passes: int) -> None:
    from observatoire.gate.pii import Scrubber

    texts = _texts()
    scrubber = Scrubber(None)
    for _ in range(passes):
        scrubber.find_many(texts)


def _instructions(passes: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg.out", sys.executable,
                              __file__, "--work", str(passes)], capture_output=True, text=True, check=True)
    return int(_COLLECTED.findall(out.stderr)[-1])


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
    parser.add_argument("--work", type=int, help=argparse.SUPPRESS)   # the counted run itself
    args = parser.parse_args()
    if args.work is not None:
        _rules_only(args.work)
        return
    table = Table(title=f"PII scrubber work ({CORPUS.name}, {len(_texts())} texts)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    if shutil.which("valgrind") and args.passes > 1:
        per_text = (_instructions(args.passes) - _instructions(1)) / ((args.passes - 1) * len(_texts()))
        table.add_row("instructions per text, rules only (callgrind)", f"{per_text:,.0f}")
    else:
        table.add_row("instructions per text, rules only (callgrind)", "valgrind not installed")
    one, ten = _ner_ms(1), _ner_ms(10)
    table.add_row("NER, one call of 1 sentence (ms)", f"{one:.1f}")
    table.add_row("NER, one call of 10 sentences (ms)", f"{ten:.1f}")
    table.add_row("NER, per sentence beyond the first (ms)", f"{(ten - one) / 9:.2f}")
    Console(width=100).print(table)


if __name__ == "__main__":
    main()
