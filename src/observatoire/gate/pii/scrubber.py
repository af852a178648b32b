"""The scrubber: every detector run over a text, overlaps resolved, spans replaced by typed placeholders.

Detection order (cheapest first): structured identifiers (regex + validator),
birth dates, addresses and street references, the name rules, dates of birth
in apposition to a name, and last the spaCy NER model, only on the sentences
that hold a capitalised word no rule explained (see ``names.py``). Every text is
first read without the invisible characters and emoji stuck inside its words
(``text.normalise``); offsets are given in the original text.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from observatoire.errors import InputError
from observatoire.gate.pii.addresses import find_addresses, streets
from observatoire.gate.pii.dates import find_apposed_birth_dates, find_birth_dates
from observatoire.gate.pii.errors import MissingModelError
from observatoire.gate.pii.finding import PLACEHOLDERS, Finding, resolve_overlaps
from observatoire.gate.pii.lexicon import build_lexicon
from observatoire.gate.pii.names import RULE_DETECTORS, NameRules, Span, blocked_tokens, place_spans
from observatoire.gate.pii.patterns import PatternDetector, find_structured, structured_detectors
from observatoire.gate.pii.text import TextInfo, analyse, normalise

DEFAULT_MODEL = "fr_core_news_sm"
PERSON_HOLDER = PLACEHOLDERS["PERSON"]
_NER_ROUNDS = 3
# The longest piece of text given to the model at once. spaCy refuses a text over ``nlp.max_length``
# (1,000,000 characters by default) and its memory grows with the length: a longer stretch of sentences
# is cut, at a line break or a space (see ``_pieces``).
_MAX_WINDOW = 100_000
# A web address is a code, not words: "https" after "Victime :" is no name. Looked for only in the texts that
# hold "//" or "www.".
_URL = re.compile(r"(?:\b[a-z][a-z0-9+.\-]*://|\bwww\.)\S*", re.IGNORECASE)
# Components the NER does not need (a model's own tok2vec is kept only if the NER listens to it).
_NOT_NEEDED = ("morphologizer", "parser", "attribute_ruler", "lemmatizer", "tagger", "senter", "sentencizer",
               "trainable_lemmatizer", "entity_linker", "textcat", "textcat_multilabel", "spancat")


@dataclass(frozen=True, slots=True)
class Scrubbed:
    """A scrubbed text and what was removed from it (offsets refer to the original text).

    ``text`` is ``None`` when the input was ``None``.
    """

    text: str | None
    findings: tuple[Finding, ...]


@dataclass(slots=True)
class _Pending:
    info: TextInfo
    protected: list[Span]
    findings: list[Finding]
    candidates: list[int]


class Scrubber:
    """Finds and removes French personal data from free text.

    Parameters
    ----------
    model : str
        Name of an installed spaCy pipeline with an ``ner`` component
        (default ``fr_core_news_sm``); ``None`` runs the rules only.
    batch_size : int
        Sentences per ``nlp.pipe`` batch.
    n_process : int
        Processes for ``nlp.pipe`` (1: no worker processes).
    min_score : float
        Findings scored below are dropped.
    extra_places : iterable of str
        Place names never taken for persons, beside the packaged list (a city
        profile's quartiers, for instance).

    Raises
    ------
    MissingModelError
        When spaCy or the model is not installed (the message says what to install).

    Examples
    --------
    >>> s = Scrubber()                                          # doctest: +SKIP
    >>> s.scrub("Rixe, M. Karim BENALI (tél. 06 12 34 56 78)").text  # doctest: +SKIP
    'Rixe, M. <PERSONNE> (tél. <TELEPHONE>)'
    """

    def __init__(self, model: str | None = DEFAULT_MODEL, *, batch_size: int = 128, n_process: int = 1,
                 min_score: float = 0.5, extra_places: Iterable[str] = ()) -> None:
        if batch_size < 1 or n_process < 1 or not 0.0 <= min_score <= 1.0:
            raise InputError("batch_size and n_process must be at least 1 and min_score within [0, 1]")
        self.model = model
        self.batch_size = batch_size
        self.n_process = n_process
        self.min_score = min_score
        self._lexicon = build_lexicon(extra_places)
        self._names = NameRules(self._lexicon)
        self._structured: tuple[PatternDetector, ...] = structured_detectors()
        self._nlp: Any = _load_ner(model) if model is not None else None

    # -- public API ----------------------------------------------------------------------------
    @property
    def detectors(self) -> tuple[str, ...]:
        """The names of the detectors this scrubber runs, as ``Finding.detector`` gives them."""
        ner = (f"spacy:{self.model}",) if self._nlp is not None else ()
        return (*(d.detector for d in self._structured), "regex:birth_date_fr", "regex:address_fr", *RULE_DETECTORS,
                *ner)

    def find(self, text: str) -> list[Finding]:
        """The personal data in ``text``, non-overlapping, in text order."""
        return self.find_many([text])[0]

    def find_many(self, texts: Sequence[str | None]) -> list[list[Finding]]:
        """``find`` over many texts, the NER model run in batches; ``None`` gives no finding.

        The model reads each sentence as it will read it after scrubbing (what
        the rules found already replaced by placeholders), so that a second
        scrubbing shows it the very same words; a text where the model found a
        name is read again once that name is redacted, until nothing new is
        found (at most ``_NER_ROUNDS`` times). This keeps scrubbing idempotent.
        Each text is read normalised (``text.normalise``: no zero-width
        character nor emoji inside a word or a number), and its findings are
        carried back to the original, what was taken out inside them included.
        """
        norms = [normalise(t) if t else None for t in texts]
        if not any(norms):
            return self._find_many(texts)   # nearly always: nothing to take out
        found = self._find_many([t if n is None else n.text for t, n in zip(texts, norms)])
        for i, n in enumerate(norms):
            if n is not None and found[i]:
                found[i] = [Finding(f.entity, *n.span(f.start, f.end), f.score, f.detector, f.reason)
                            for f in found[i]]
        return found

    def _find_many(self, texts: Sequence[str | None]) -> list[list[Finding]]:
        found, touched = self._one_pass(texts)
        for _ in range(_NER_ROUNDS):
            if not touched:
                break
            redacted = [_Redacted.of(texts[i] or "", found[i]) for i in touched]
            more, again = self._one_pass([r.text for r in redacted])
            next_touched = []
            for n, (i, r) in enumerate(zip(touched, redacted)):
                if more[n]:
                    found[i] = resolve_overlaps([*found[i], *(r.finding_to_original(f) for f in more[n])], texts[i])
                    if n in again:
                        next_touched.append(i)
            touched = next_touched
        return found

    def _one_pass(self, texts: Sequence[str | None]) -> tuple[list[list[Finding]], list[int]]:
        """Findings of one reading of each text, and the indices of the texts where the NER model found some."""
        pending = [self._rules(t) if t else None for t in texts]
        read = [i for i, p in enumerate(pending) if p is not None and p.candidates]
        found = [[] if p is None else resolve_overlaps([f for f in p.findings if f.score >= self.min_score],
                                                       p.info.text)
                 for p in pending]
        if self._nlp is None or not read:
            return found, []
        by_ner = self._run_ner([(pending[i], found[i]) for i in read])  # type: ignore[misc]
        touched = []
        for i, extra in zip(read, by_ner):
            extra = [f for f in extra if f.score >= self.min_score]
            if extra:
                found[i] = resolve_overlaps([*found[i], *extra], texts[i])
                touched.append(i)
        return found, touched

    def scrub(self, text: str) -> Scrubbed:
        """``text`` with each finding replaced by its placeholder (``<PERSONNE>``, ``<TELEPHONE>``...)."""
        return self.scrub_many([text])[0]

    def scrub_many(self, texts: Sequence[str | None]) -> list[Scrubbed]:
        """``scrub`` over many texts, batched; a ``None`` text passes through as ``Scrubbed(None, ())``."""
        out = []
        for text, found in zip(texts, self.find_many(texts)):
            out.append(Scrubbed(None, ()) if text is None else Scrubbed(redact(text, found), tuple(found)))
        return out

    # -- internals -----------------------------------------------------------------------------
    def _rules(self, text: str) -> _Pending:
        findings = find_structured(self._structured, text)
        findings.extend(find_birth_dates(text))
        # the words of identifiers found ("BD" of a plate "AA-001-BD"), and of web addresses, are not words of
        # the text
        masked = [(f.start, f.end) for f in findings]
        if "//" in text or "www." in text or "WWW." in text:
            masked += [m.span() for m in _URL.finditer(text)]
        info = analyse(text, masked)
        street_refs = streets(info, self._lexicon)
        findings.extend(find_addresses(info, street_refs))
        protected: list[Span] = [(s.start, s.end) for s in street_refs]
        protected += place_spans(info, self._lexicon)
        protected += info.placeholders
        blocked = blocked_tokens(info, protected)
        findings.extend(self._names.find(info, protected, blocked))
        name_ends = {f.end for f in findings if f.entity == "PERSON"}   # a name is often found by several rules
        if info.placeholders:
            name_ends.update(e for s, e in info.placeholders if text[s:e] == PERSON_HOLDER)
        if name_ends:
            findings.extend(find_apposed_birth_dates(text, name_ends))
        if info.placeholders:
            findings = [f for f in findings if not info.in_placeholder(f.start, f.end)]
        candidates = self._names.candidates(info, protected, findings, blocked) if self._nlp is not None else []
        return _Pending(info, protected, findings, candidates)

    def _run_ner(self, items: list[tuple[_Pending, list[Finding]]]) -> list[list[Finding]]:
        """Names the model finds in the sentences holding candidate words, read as they will be once redacted."""
        windows: list[tuple[int, _Redacted, int, str]] = []
        for n, (p, rule_found) in enumerate(items):
            red = _Redacted.of(p.info.text, rule_found)
            rinfo = analyse(red.text)
            starts = {s: k for k, s in enumerate(rinfo.starts)}
            cand = [starts[o] for o in (red.to_redacted(p.info.starts[c]) for c in p.candidates) if o in starts]
            limit = min(_MAX_WINDOW, getattr(self._nlp, "max_length", _MAX_WINDOW))
            for sentences in _sentences_of(rinfo, cand):
                for start, end in _pieces(red.text, sentences, limit):
                    windows.append((n, red, start, red.text[start:end]))
        entities: list[list[tuple[int, int, str]]] = [[] for _ in items]
        docs = self._nlp.pipe((w[3] for w in windows), batch_size=self.batch_size, n_process=self.n_process)
        for (n, red, offset, _), doc in zip(windows, docs):
            for e in doc.ents:
                start, end = red.to_original(offset + e.start_char), red.to_original(offset + e.end_char)
                if end > start:
                    entities[n].append((start, end, e.label_))
        return [self._names.from_entities(p.info, ents, p.candidates, p.protected, str(self.model)) if ents else []
                for (p, _), ents in zip(items, entities)]


@dataclass(frozen=True, slots=True)
class _Redacted:
    """A redacted text, and how to carry offsets between it and the original text (by bisection: a text may
    hold thousands of placeholders)."""

    text: str
    spans: tuple[tuple[int, int, int, int], ...]   # each placeholder: (start, end) redacted, (start, end) original
    redacted_ends: tuple[int, ...]                 # the placeholders' ends, in the redacted text
    original_ends: tuple[int, ...]                 # the redacted spans' ends, in the original text

    @classmethod
    def of(cls, original: str, findings: Sequence[Finding]) -> _Redacted:
        parts, spans, last, pos = [], [], 0, 0
        for f in findings:
            parts.append(original[last:f.start])
            pos += f.start - last
            holder = PLACEHOLDERS[f.entity]
            parts.append(holder)
            spans.append((pos, pos + len(holder), f.start, f.end))
            pos += len(holder)
            last = f.end
        parts.append(original[last:])
        return cls("".join(parts), tuple(spans), tuple(s[1] for s in spans), tuple(s[3] for s in spans))

    def to_redacted(self, offset: int) -> int:
        """An offset of the original text in the redacted one (inside a redacted span: the placeholder's start)."""
        k = bisect_right(self.original_ends, offset)      # the spans ending at or before the offset
        if k < len(self.spans) and offset > self.spans[k][2]:
            return self.spans[k][0]
        return offset + (self.spans[k - 1][1] - self.spans[k - 1][3] if k else 0)

    def to_original(self, offset: int) -> int:
        """An offset of the redacted text in the original one (inside a placeholder: the redacted span's start)."""
        k = bisect_right(self.redacted_ends, offset)      # the placeholders ending at or before the offset
        if k < len(self.spans) and offset > self.spans[k][0]:
            return self.spans[k][2]
        return offset + (self.spans[k - 1][3] - self.spans[k - 1][1] if k else 0)

    def finding_to_original(self, f: Finding) -> Finding:
        return Finding(f.entity, self.to_original(f.start), self.to_original(f.end), f.score, f.detector, f.reason)


def redact(text: str, findings: Sequence[Finding]) -> str:
    """``text`` with each (non-overlapping, ordered) finding replaced by its placeholder."""
    parts, last = [], 0
    for f in findings:
        parts.append(text[last:f.start])
        parts.append(PLACEHOLDERS[f.entity])
        last = f.end
    parts.append(text[last:])
    return "".join(parts)


def _sentences_of(info: TextInfo, candidates: Sequence[int]) -> list[list[Span]]:
    """The character spans of the sentences holding the candidate words, in order, those that follow one
    another grouped (each group is read by the model as one window)."""
    firsts = [i for i, b in enumerate(info.breaks) if b]
    groups: list[list[Span]] = []
    for c in sorted(candidates):
        k = bisect_right(firsts, c)
        begin = info.starts[firsts[k - 1]]
        end = info.starts[firsts[k]] if k < len(firsts) else len(info.text)
        if groups and begin <= groups[-1][-1][1]:
            if (begin, end) != groups[-1][-1]:
                groups[-1].append((begin, end))
        else:
            groups.append([(begin, end)])
    return groups


def _pieces(text: str, sentences: Sequence[Span], limit: int) -> list[Span]:
    """Windows for the model over consecutive sentences: the sentences joined while the window stays within
    ``limit`` characters, a longer sentence cut at its last line break, else its last space, before the limit
    (a name is rarely cut: names hold no line break and few spaces)."""
    out: list[Span] = []
    for begin, end in sentences:
        if out and end - out[-1][0] <= limit:
            out[-1] = (out[-1][0], end)
            continue
        while end - begin > limit:
            cut = text.rfind("\n", begin + 1, begin + limit)
            if cut < 0:
                cut = text.rfind(" ", begin + 1, begin + limit)
            cut = cut if cut > begin else begin + limit
            out.append((begin, cut))
            begin = cut
        out.append((begin, end))
    return out


def _load_ner(model: str) -> Any:
    try:
        import spacy
    except ImportError as exc:  # pragma: no cover - spaCy is a dependency of the scrubber
        raise MissingModelError(model) from exc
    try:
        nlp = spacy.load(model, exclude=list(_NOT_NEEDED))
    except OSError as exc:
        raise MissingModelError(model) from exc
    if "ner" not in nlp.pipe_names:
        raise InputError(f"the spaCy pipeline {model!r} has no 'ner' component")
    for name in ("tok2vec", "transformer"):
        if name in nlp.pipe_names and not getattr(nlp.get_pipe(name), "listening_components", None):
            nlp.remove_pipe(name)   # the NER has its own embedding layer: nobody listens to this one
    return nlp
