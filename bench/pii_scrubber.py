"""The PII scrubber against Microsoft Presidio, on the labelled corpus, in one process.

Both run on the same texts (``tests/data/pii_corpus.jsonl``) and are scored the
same way (``observatoire.gate.pii.evaluation``: a labelled span is found when
spans of its type cover all of it). Presidio gets spaCy's ``fr_core_news_sm``
through an NLP engine configuration, its ``SpacyRecognizer`` for persons, and
``PatternRecognizer``s built from the scrubber's own regular expressions and
validators for the structured types (phone, plates, NIR, IBAN, e-mail, address,
birth date), so that the comparison is about the engine and the name rules,
not about who has the better regexes. Presidio runs through its
``BatchAnalyzerEngine`` (its fastest path, ``nlp.pipe`` underneath).

Offline: only the recognizers above are registered (Presidio's predefined
e-mail and URL recognizers would try to download a public suffix list), and
tldextract is pointed at its bundled snapshot in case anything calls it.
Without Presidio installed (``make bench`` installs it), the scrubber is timed
alone, round after round.

``--overlaps N`` times ``resolve_overlaps`` on N findings of which half overlap
another (one text of a long export), rather than the corpus.

    .venv/bin/python bench/pii_scrubber.py [--corpus tests/data/pii_corpus.jsonl] [--rounds 3] [--slices 3]
    .venv/bin/python bench/pii_scrubber.py --overlaps 16000
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import re
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from observatoire.gate.pii import ENTITIES, Finding, Scrubber, resolve_overlaps
from observatoire.gate.pii.addresses import ADDRESS_PATTERN
from observatoire.gate.pii.dates import BIRTH_PATTERN
from observatoire.gate.pii.evaluation import Counts, Span, score
from observatoire.gate.pii.patterns import PATTERNS
from observatoire.gate.pii.validators import department_ok, iban_prefix, nir_reason, phone_reason

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "pii_corpus.jsonl"
MODEL = "fr_core_news_sm"


def load(path: Path) -> tuple[list[str], list[list[Span]]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return ([r["text"] for r in rows],
            [[Span(s["entity"], s["start"], s["end"]) for s in r["spans"]] for r in rows])


def _offline_tldextract() -> None:
    try:
        import tldextract
    except ImportError:  # pragma: no cover
        return
    tldextract.extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


Engine = Callable[[Sequence[str]], list[list[Span]]]


def presidio_engine() -> tuple[Engine, Engine]:
    """A Presidio analyzer for French: spaCy NER for persons, the scrubber's regexes for the rest.

    Returns two ways to run it: ``BatchAnalyzerEngine`` (``nlp.pipe``), and
    ``AnalyzerEngine.analyze`` text by text (the usual call).
    """
    import regex
    from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer

    _offline_tldextract()

    class Validated(PatternRecognizer):
        def __init__(self, check: Callable[[str], bool] | None, **kw) -> None:  # noqa: ANN003
            self._check = check
            super().__init__(**kw)

        def validate_result(self, pattern_text: str) -> bool | None:
            return None if self._check is None else self._check(pattern_text)

    def plate_ok(text: str) -> bool:
        m = re.search(r"(97[1-6]|2[AB]|\d{2})$", text.strip(), re.IGNORECASE)
        return m is not None and department_ok(m.group(1))

    specs = [  # entity, name, pattern, score, validator, context words, case-insensitive
        ("PHONE", "phone_fr", PATTERNS["phone_fr"], 0.6, lambda t: phone_reason(t) is not None,
         ["tél", "tel", "téléphone", "portable", "joignable", "numéro", "mobile"], True),
        ("PLATE", "plate_siv", PATTERNS["plate_siv"], 0.6, None, ["immatriculé", "plaque", "véhicule"], True),
        ("PLATE", "plate_fni", PATTERNS["plate_fni"], 0.5, plate_ok, ["immatriculé", "plaque", "véhicule"], True),
        ("NIR", "nir", PATTERNS["nir"], 0.6, lambda t: nir_reason(t) is not None,
         ["nir", "sécurité", "vitale"], True),
        ("IBAN", "iban", PATTERNS["iban"], 0.6, lambda t: iban_prefix(t) is not None, ["iban", "rib"], True),
        ("EMAIL", "email", PATTERNS["email"], 0.8, None, ["mail", "courriel"], True),
        *(("HANDLE", name, PATTERNS[name], 0.8, None, ["insta", "snap", "compte"], True)
          for name in ("handle", "handle_link", "handle_platform")),
        ("ADDRESS", "address_fr", ADDRESS_PATTERN, 0.6, None, ["domicilié", "demeurant", "adresse"], False),
        ("BIRTH_DATE", "birth_date_fr", BIRTH_PATTERN, 0.8, None, [], True),
    ]
    registry = RecognizerRegistry(supported_languages=["fr"])
    registry.add_recognizer(SpacyRecognizer(supported_language="fr", supported_entities=["PERSON"]))
    for entity, name, pattern, sc, check, context, ci in specs:
        flags = regex.M | regex.S | (regex.I if ci else 0)
        registry.add_recognizer(Validated(check, supported_entity=entity, name=name, supported_language="fr",
                                          patterns=[Pattern(name, pattern, sc)], context=context,
                                          global_regex_flags=flags))
    provider = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "fr", "model_name": MODEL}],
        "ner_model_configuration": {"model_to_presidio_entity_mapping": {"PER": "PERSON", "LOC": "LOCATION",
                                                                         "ORG": "ORGANIZATION"},
                                    "labels_to_ignore": ["MISC"]},
    })
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=provider.create_engine(), supported_languages=["fr"])
    batch = BatchAnalyzerEngine(analyzer_engine=analyzer)

    def run_batch(texts: Sequence[str]) -> list[list[Span]]:
        results = batch.analyze_iterator(list(texts), language="fr", batch_size=64, entities=list(ENTITIES))
        return [[Span(r.entity_type, r.start, r.end) for r in rs] for rs in results]

    def run_one_by_one(texts: Sequence[str]) -> list[list[Span]]:
        return [[Span(r.entity_type, r.start, r.end) for r in analyzer.analyze(t, language="fr",
                                                                                entities=list(ENTITIES))]
                for t in texts]

    return run_batch, run_one_by_one


def timed(fn: Callable[[], list[list[Span]]], at_least_s: float = 0.0) -> tuple[list[list[Span]], int, float]:
    """``fn()`` run over and over until ``at_least_s`` seconds have passed (once at least): its last output,
    the number of runs and the seconds they took."""
    runs, t0 = 0, time.perf_counter()
    while True:
        out = fn()
        runs += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= at_least_s:
            return out, runs, elapsed


def overlaps(n: int) -> None:
    """Seconds ``resolve_overlaps`` takes on ``n`` findings, half of them overlapping another."""
    text = "Karim BENALI 06 12 34 " * n
    findings = [Finding("PHONE", 22 * i + 13, 22 * i + 21, 0.9, "regex:phone_fr", "x") for i in range(n)]
    findings += [Finding("PERSON", 22 * i, 22 * i + 15, 0.8, "rule:title", "y") for i in range(0, n, 2)]
    best = min(timed(lambda: [resolve_overlaps(findings, text)])[2] for _ in range(3))
    print(f"resolve_overlaps: {len(findings):,} findings in {best:.3f} s")


def scrubber_alone(scrubber: Scrubber, texts: Sequence[str], gold: Sequence[Sequence[Span]], rounds: int,
                   console: Console) -> None:
    """Recall, precision and texts per second of the scrubber alone (no Presidio to compare with)."""
    gc.collect()
    gc.freeze()
    seconds = []
    for _ in range(rounds):
        found, _, s = timed(lambda: [[Span(f.entity, f.start, f.end) for f in fs] for fs in scrubber.find_many(texts)])
        seconds.append(s)
    counts = score(gold, found)
    table = Table(title=f"French PII on {len(texts)} texts, scrubber alone (Presidio not installed), {MODEL}")
    for col in ("entity", "labelled", "recall", "precision"):
        table.add_column(col, justify="left" if col == "entity" else "right")
    for e in ENTITIES:
        table.add_row(e, str(counts[e].labelled), *_pr(counts[e]))
    console.print(table)
    console.print(f"texts / s: best {len(texts) / min(seconds):,.0f}, median "
                  f"{len(texts) / statistics.median(seconds):,.0f} ({rounds} rounds)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--rounds", type=int, default=3, help="times each engine reads the whole corpus")
    parser.add_argument("--slices", type=int, default=3, help="turns per round (the corpus cut in as many slices)")
    parser.add_argument("--overlaps", type=int, default=0, help="time resolve_overlaps on this many findings")
    args = parser.parse_args()
    if args.overlaps:
        overlaps(args.overlaps)
        return
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    texts, gold = load(args.corpus)
    console = Console(width=120)
    try:
        import presidio_analyzer  # noqa: F401
    except ImportError:
        scrubber_alone(Scrubber(MODEL), texts, gold, args.rounds, console)
        return

    t0 = time.perf_counter()
    scrubber = Scrubber(MODEL)
    ours_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    presidio, presidio_one_by_one = presidio_engine()
    theirs_load = time.perf_counter() - t0
    scrubber.find_many(texts[:50])   # warm-up of both
    presidio(texts[:50])
    # Both engines' models live as long as the process: out of the garbage collector's sight, as in ingest
    # (``Settings.gate``), so that neither pays for the other's half a million objects at each collection.
    gc.collect()
    gc.freeze()

    def ours_on(part: Sequence[str]) -> list[list[Span]]:
        return [[Span(f.entity, f.start, f.end) for f in fs] for fs in scrubber.find_many(part)]

    # The engines take turns on slices of the corpus: Presidio reads a slice once, then the scrubber reads the
    # same slice as many times as it takes to fill as long a window. Turns of a second or two, side by side, see
    # the machine in the same state, so that its load (which moves both rates by a factor of two on a shared
    # machine) moves both alike. The rates are the texts read over the seconds taken, all turns together; the
    # ratio of each turn is shown too.
    step = max(1, len(texts) // args.slices)
    slices = [texts[i:i + step] for i in range(0, len(texts), step)]
    ours, theirs = [], []
    turns: list[tuple[int, float, int, float]] = []   # texts and seconds, scrubber then Presidio
    for r in range(args.rounds):
        for part in slices:
            found_theirs, _, theirs_s = timed(lambda: presidio(part))
            found_ours, runs, ours_s = timed(lambda: ours_on(part), theirs_s)
            turns.append((runs * len(part), ours_s, len(part), theirs_s))
            if r == 0:
                ours += found_ours
                theirs += found_theirs
    rate_ours = sum(t[0] for t in turns) / sum(t[1] for t in turns)
    rate_theirs = sum(t[2] for t in turns) / sum(t[3] for t in turns)
    ratios = sorted((a / b) / (c / d) for a, b, c, d in turns)
    _, _, single_s = timed(lambda: presidio_one_by_one(texts))
    rate_single = len(texts) / single_s

    s_ours, s_theirs = score(gold, ours), score(gold, theirs)
    table = Table(title=f"French PII on {len(texts)} texts ({args.corpus.name}), one process, {MODEL}")
    table.add_column("entity")
    table.add_column("labelled", justify="right")
    for who in ("scrubber", "Presidio"):
        table.add_column(f"{who} recall", justify="right")
        table.add_column(f"{who} precision", justify="right")
    for e in ENTITIES:
        a, b = s_ours[e], s_theirs[e]
        table.add_row(e, str(a.labelled), *_pr(a), *_pr(b))
    table.add_row("texts / s", "", f"{rate_ours:,.0f}", "", f"{rate_theirs:,.0f}", "batch engine", end_section=True)
    table.add_row("texts / s", "", "", "", f"{rate_single:,.0f}", "one by one")
    table.add_row("model load s", "", f"{ours_load:.1f}", "", f"{theirs_load:.1f}", "")
    console.print(table)
    console.print(f"throughput ratio, scrubber / Presidio BatchAnalyzerEngine: [bold]{rate_ours / rate_theirs:.1f}x"
                  f"[/bold] ({len(ratios)} turns: median {statistics.median(ratios):.1f}x, {ratios[0]:.1f}x to "
                  f"{ratios[-1]:.1f}x); "
                  f"scrubber / Presidio AnalyzerEngine.analyze one text at a time: "
                  f"[bold]{rate_ours / rate_single:.1f}x[/bold]")


def _pr(c: Counts) -> tuple[str, str]:
    return f"{c.recall:.3f}", (f"{c.precision:.3f}" if c.predicted else "-")


if __name__ == "__main__":
    main()
