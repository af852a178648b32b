"""Persons' names: rules first, the NER model only for what the rules leave unexplained.

The rules, in the order of their strength:

``rule:title``             a title ("M.", "Mme", "Monsieur", "Dr"...) and the name words after it, or a
                           short word in capitals or a particle alone ("M. NG", "M. LE");
``rule:role``              a role word of police texts ("Victime :", "Mis en cause :", "dénommé",
                           "requis par", "avec"...) and the name words after it; a name in lower case
                           (or in a text all in capitals, or in Arabic script) after a weak cue or a role
                           word without colon when it is two words or holds a known name; and a name
                           joined by "et" to a name found;
``gazetteer:first_names``  a known first name and its neighbouring name words ("Karim HADDAD",
                           "khadija boudjema", "GAUTHIER Leïla");
``rule:name_shape``        an upper-case surname next to a capitalised word ("DUPONT Jean",
                           "Wissem BOUAZIZ"), or a known surname in capitals alone ("le nommé HADDAD").

Words of street references ("boulevard Charles Moretti"), of places ("la Belle de Mai"),
and never-names ("Rixe", "Vol", "Tapage", months, acronyms) are never taken by the
gazetteer and shape rules. Words in Arabic script have no case: they are read as
lower-case words are, and a name never runs from one script into the other. What is left, capitalised words that nothing
explains, is the *candidates*: only sentences holding one are given to the
NER model, and only its ``PER`` entities that contain a candidate are kept.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from itertools import compress, repeat
from operator import contains

from observatoire.gate.pii.finding import Finding
from observatoire.gate.pii.lexicon import PARTICLES, Lexicon, Memo, fold
from observatoire.gate.pii.text import TextInfo, overlapping

# precompiled (the module-level re functions look their pattern up in a cache at each call)
_INITIAL_GAP = re.compile(r"\.\s?").fullmatch
_TITLE_GAP = re.compile(r"\.?\s{1,3}").fullmatch
_COLON = re.compile(r"[:\-–]").search
_STOP = re.compile(r"[.;!?(]").search
_CLOSE = re.compile(r"^\s*[,(]").search   # what ends an apposition ("le requérant, evrard ghezzal, né le...")
# A letter of the Arabic script: such words have no case, and are read as lower-case words are.
_CASELESS = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]").match

Span = tuple[int, int]
RULE_DETECTORS = ("rule:title", "rule:role", "gazetteer:first_names", "gazetteer:surnames", "rule:name_shape")

TITLES = frozenset({"m", "mr", "mme", "mlle", "melle", "mademoiselle", "monsieur", "madame", "dr", "docteur",
                    "pr", "professeur", "me", "maître", "maitre", "sieur", "mrs", "ms", "miss", "mister"})
# Titles that are also common words in lower case: a title only when capitalised, or followed by a period.
_WEAK_TITLES = frozenset({"m", "me", "pr", "miss", "ms"})
# Role cues: word sequence -> how strong. "colon": a lower-case name is taken after the cue and a colon
# ("Victime : karim haddad"); "name": the cue says a name follows, lower case included ("dénommé karim");
# "weak": only a capitalised name is taken ("la voisine Karima BENALI", "chez Kevin").
ROLE_CUES: dict[tuple[str, ...], str] = {
    **{(w,): "colon" for w in (
        "victime", "victimes", "témoin", "temoin", "témoins", "requérant", "requérante", "requerant", "contact",
        "conducteur", "conductrice", "propriétaire", "proprietaire", "contrevenant", "contrevenante", "plaignant",
        "plaignante", "déclarant", "déclarante", "interpellé", "interpellée", "interpelle", "auteur", "suspect",
        "passager", "passagère", "locataire", "gérant", "gérante", "mineur", "mineure", "individu", "chauffeur",
        "nom", "noms", "identité", "identite", "requis", "appelant", "appelante", "signalant", "intéressé",
        "intéressée", "personne", "blessé", "blessée", "client", "cliente", "patient", "patiente", "usager",
        "référent", "référente", "tuteur", "tutrice", "parent", "parents", "responsable", "demandeur", "demandeuse",
        "bénéficiaire", "titulaire", "signataire", "expéditeur", "expéditrice", "destinataire", "gardien",
        "gardienne", "déposant", "déposante", "interlocuteur", "interlocutrice", "correspondant", "correspondante",
        "réclamant", "réclamante", "pétitionnaire", "administré", "administrée", "habitant", "habitante",
        "résident", "résidente", "riverain", "riveraine", "copropriétaire", "employé", "employée", "salarié",
        "salariée", "agresseur", "agresseurs", "identifié", "identifiée", "prénom", "prénoms", "nom-prénom")},
    ("mis", "en", "cause"): "colon", ("mise", "en", "cause"): "colon", ("mis", "e", "en", "cause"): "colon",
    ("personne", "assistée"): "colon", ("personne", "assistee"): "colon", ("personne", "interpellée"): "colon",
    ("nom", "prénom"): "colon", ("nom", "et", "prénom"): "colon", ("prénom", "nom"): "colon",
    **{(w,): "name" for w in (
        "nommé", "nommée", "dénommé", "dénommée", "denomme", "denommee", "prénommé", "prénommée", "surnommé",
        "surnommée", "alias")},
    ("identifié", "comme"): "name", ("identifiée", "comme"): "name", ("se", "nommant"): "name",
    ("se", "présentant", "comme"): "name", ("répondant", "au", "nom", "de"): "name", ("au", "nom", "de"): "name",
    ("je", "m'", "appelle"): "name", ("je", "suis"): "weak", ("moi", "c'", "est"): "name",
    **{(w,): "weak" for w in (
        "chez", "née", "épouse", "époux", "veuve", "fils", "fille", "frère", "soeur", "sœur", "mère", "père",
        "compagnon", "compagne", "ami", "amie", "voisin", "voisine", "cousin", "cousine", "avec")},
    ("requis", "par"): "weak", ("appel", "de"): "weak", ("signalé", "par"): "weak", ("signalée", "par"): "weak",
    ("contacté", "par"): "weak", ("sommes", "requis", "par"): "weak", ("à", "la", "demande", "de"): "weak",
    # "merci à" is followed by a person or by a word of the never list ("merci à tous", "merci à vous")
    ("merci", "à"): "name", ("merci", "a"): "name",
    ("plainte", "de"): "weak", ("dossier", "administratif", "de"): "weak",
    **{(w,): "weak" for w in ("connaît", "connait", "connais", "connaissez", "connaissait")},
    # "self": as "weak", and one word between commas is a name ("c'est moi, nélia, je vends mon vélo")
    ("moi",): "self",
}
_CUES_BY_FIRST: dict[str, list[tuple[str, ...]]] = {}
for _cue in sorted(ROLE_CUES, key=len, reverse=True):
    _CUES_BY_FIRST.setdefault(_cue[0], []).append(_cue)
# Words before a capitalised word that make it a place rather than a person ("à Jean Jaurès").
PLACE_PREPOSITIONS = frozenset({"à", "a", "au", "aux", "vers", "depuis", "quartier", "secteur", "côté", "cote",
                                "direction", "cité", "cite", "station", "arrêt", "arret", "sortie", "métro",
                                "metro"})
_VERB_ENDINGS = ("ment", "ait", "aît", "aient", "ais", "ant", "ants", "ante", "é", "ée", "és", "ées", "er", "ir",
                 "ons", "ez", "ions", "iez", "eux", "euse", "ique", "able", "tion", "sion")
# ... but "-ier" ends as many surnames as verbs ("couturier", "pelletier", "verdier"); the verbs and nouns in "-ier"
# met after a name ("crier", "premier", "quartier") are never-names.
_SURNAME_ENDING = "ier"
_MAX_RUN = 6
_CAPITALISED = frozenset({"CAP", "UPPER"})
_NO_INDEX: frozenset[int] = frozenset()
_STRONG_PARTICLES = frozenset({"da", "di", "van", "von", "el", "ben", "ait", "aït", "ould", "dos", "abou", "bou",
                               "بن", "ابن", "بنت", "أبو", "ابو"})


class _Ctx:
    """A text as the rules walk it, and the token indices inside street references, places, placeholders."""

    __slots__ = ("info", "words", "shapes", "keys", "gaps", "size", "mode", "blocked", "caseless")

    def __init__(self, info: TextInfo, blocked: frozenset[int]) -> None:
        self.info, self.words, self.shapes, self.keys, self.gaps = info, info.words, info.shapes, info.keys, info.gaps
        self.size, self.mode, self.blocked = len(info.words), info.mode, blocked
        self.caseless = _NO_INDEX
        if not info.latin and "OTHER" in info.shapes:   # (Arabic letters are beyond U+024F)
            # a word in Arabic script has no case: it reads as a lower-case word (a name by a cue or the gazetteer)
            self.caseless = frozenset(i for i, (sh, w) in enumerate(zip(info.shapes, info.words))
                                      if sh == "OTHER" and _CASELESS(w))
            self.shapes = tuple("LOWER" if i in self.caseless else sh for i, sh in enumerate(info.shapes))


def place_spans(info: TextInfo, lex: Lexicon) -> list[Span]:
    """Spans of the packaged (and extra) places met in the text, longest match first.

    A one-word place that is also a first name or a surname ("Valentine", "Paris")
    is not protected: it is treated as an ambiguous name instead.
    """
    hits = list(compress(range(len(info.keys)), map(lex.is_place_start.__getitem__, info.keys)))
    if not hits:
        return []
    words, shapes, spaced, keys = info.words, info.shapes, info.spaced, info.keys
    out: list[Span] = []
    by_first = lex.place_index
    infos = lex.infos
    last = -1
    for i in hits:
        if i <= last:
            continue
        best = 0
        first = _FOLDED[keys[i]]
        for place in by_first.get(first, ()):
            n = len(place)
            if n <= best or (n > 1 and tuple(map(_FOLDED.__getitem__, keys[i:i + n])) != place):
                continue
            if all(spaced[j] or words[j - 1].endswith(("'", "’")) for j in range(i + 1, i + n)):
                if n == 1 and infos[words[i]].name and not (i and info.keys[i - 1] in _ARTICLES):
                    continue   # "Valentine DUPONT" is a person, "la Valentine" a quartier
                if info.mode == "cased" and shapes[i] == "LOWER" and n == 1 and first != "l'":
                    continue   # "la plaine" in a sentence is a plain; "Plaine" is the quartier
                best = n
        if best:
            out.append((info.starts[i], info.ends[i + best - 1]))
            last = i + best - 1
    return out


_ARTICLES = frozenset({"la", "le", "les", "l'"})
_FOLDED = Memo(fold, 1 << 16)   # fold(key), once per distinct key


def blocked_tokens(info: TextInfo, spans: Iterable[Span]) -> frozenset[int]:
    """Indices of the words that overlap any of ``spans``."""
    return frozenset(overlapping(spans, info.starts, info.ends))


def _outermost(found: list[Finding]) -> list[Finding]:
    """The findings inside no other one, and of those on one span the one ``resolve_overlaps`` keeps (the
    highest score, then the detector's and the reason's names): the others would be dropped there, and
    rules often find a name twice ("Appel de Karim HADDAD": the role word, the gazetteer, the shape)."""
    out: list[Finding] = []
    end = -1
    for f in sorted(found, key=lambda f: (f.start, -f.end, -f.score, f.detector, f.reason)):
        if f.end > end:
            out.append(f)
            end = f.end
    return out


def where(keys: Sequence[str], words: frozenset[str] | dict) -> list[int]:  # type: ignore[type-arg]
    """Indices of the keys that are in ``words`` (at C speed)."""
    return list(compress(range(len(keys)), map(words.__contains__, keys)))


class NameRules:
    """The rule-based part of name detection (no model)."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lex = lexicon
        self._infos = lexicon.infos

    # -- token tests -------------------------------------------------------------------------
    def _never(self, word: str) -> bool:
        """A never-name ("Rixe", "Vol", "RTM", "Janvier"), unless it is also a known name ("Renault", "Avril")."""
        info = self._infos[word]
        return info.never and not info.name

    def _acronym(self, word: str, shape: str) -> bool:
        return shape == "UPPER" and len(word) <= 3 and not self._infos[word].name

    def _cased_name_word(self, c: _Ctx, i: int) -> bool:
        if c.info.glued[i] or i in c.blocked:
            return False
        sh = c.shapes[i]
        if sh == "INITIAL":
            if c.keys[i] in TITLES:
                return False
            return i + 1 < c.size and c.gaps[i + 1].startswith(".") and c.shapes[i + 1] in _CAPITALISED
        if (sh != "CAP" and sh != "UPPER") or c.keys[i] in TITLES:
            return False
        word = c.words[i]
        info = self._infos[word]
        if info.name:
            return True
        return not (sh == "UPPER" and len(word) <= 3) and not info.never

    def _lower_name_word(self, c: _Ctx, i: int, unknown_ok: bool) -> bool:
        word = c.words[i]
        if i in c.blocked or len(word) < 2 or not word[0].isalpha() or c.info.glued[i]:
            return False
        k = c.keys[i]
        info = self._infos[word]
        if k in TITLES or info.never:
            return False
        if info.name:
            return True
        if k in PARTICLES:
            return False
        return (unknown_ok and (not k.endswith(_VERB_ENDINGS) or k.endswith(_SURNAME_ENDING)) and len(k) >= 3
                and k not in _CUES_BY_FIRST)

    def _word_ok(self, c: _Ctx, i: int, lower_budget: int) -> tuple[bool, bool]:
        """(is a name word, used the lower-case budget)."""
        sh = c.shapes[i]
        if c.mode == "cased" and sh != "LOWER":
            return self._cased_name_word(c, i), False
        word = c.words[i]
        if c.mode == "upper":
            unknown = lower_budget > 0
            ok = ((sh in ("UPPER", "CAP") or _CASELESS(word) is not None) and not self._acronym(word, sh)
                  and self._lower_name_word(c, i, unknown))
            return ok, ok and not self._infos[word].name
        ok = self._lower_name_word(c, i, lower_budget > 0)
        return ok, ok and not self._infos[word].name

    def _bridge(self, c: _Ctx, j: int) -> bool:
        """A name that is also a common word ("mai", "Avril") followed by a known name ("mai amrani",
        "mai da silva")."""
        spaced = c.info.spaced
        if j + 1 >= c.size or j in c.blocked or not self._infos[c.words[j]].name:
            return False
        n = j + 1
        while n + 1 < c.size and c.keys[n] in PARTICLES and spaced[n]:
            n += 1
        if not spaced[n] or n in c.blocked:
            return False
        info = self._infos[c.words[n]]
        return info.name and not info.never

    def _after_particles(self, c: _Ctx, j: int, lower_budget: int) -> int:
        """Index of the name word after the particle at ``j`` and the particles in a row after it ("de La
        Roche", "van der Meer", "Ben El Hadj"), the nearest first ("le van": "van" is the name); 0 if none."""
        strong = c.keys[j] in _STRONG_PARTICLES
        p = j + 1
        while True:
            ok, _ = self._word_ok(c, p, lower_budget)
            if ok and (c.shapes[p] != "LOWER" or strong or self._infos[c.words[p]].name):
                return p
            if p + 1 >= c.size or p - j >= 3 or c.keys[p] not in PARTICLES or p in c.blocked \
                    or not self._linked(c, p, p + 1):
                return 0
            p += 1

    def _surname_slot(self, c: _Ctx, i: int) -> bool:
        """Whether the lower-case word after the capitalised first name at ``i`` is its surname: a known first
        name that is not also a word, then a word in "-ier" ("Karim couturier", "Inès pelletier"). Other
        lower-case words after a capitalised name are not taken ("M. Dupont habite")."""
        info = self._infos[c.words[i]]
        k = c.keys[i + 1]
        return (info.first and not info.ambiguous and k.endswith(_SURNAME_ENDING)
                and self._lower_name_word(c, i + 1, True))

    @staticmethod
    def _linked(c: _Ctx, a: int, b: int) -> bool:
        """Whether the words at ``a`` and ``b`` may be parts of one name: one space apart (or an initial and a
        period), in the same script ("repose en paix كريم": the name does not take "paix")."""
        if c.caseless and (a in c.caseless) != (b in c.caseless):
            return False
        if c.info.spaced[b]:
            return True
        return c.shapes[a] == "INITIAL" and _INITIAL_GAP(c.gaps[b]) is not None

    # -- runs --------------------------------------------------------------------------------
    def _run_right(self, c: _Ctx, i: int, lower_budget: int) -> int:
        """Index after the last name word of the run starting at token ``i`` (``i`` when none)."""
        shapes, spaced, keys = c.shapes, c.info.spaced, c.keys
        size = c.size
        cased = c.mode == "cased"
        j, end, n = i, i, 0
        if cased and i < size and shapes[i] != "LOWER":
            lower_budget = 0   # "M. Dupont habite": a capitalised name does not go on in lower case
        while j < size and n < _MAX_RUN:
            if j > i and (c.caseless or not spaced[j]) and not self._linked(c, j - 1, j):
                break
            k = keys[j]
            if (k in PARTICLES and j + 1 < size and j not in c.blocked and self._linked(c, j, j + 1)
                    and (n > 0 or shapes[j] != "LOWER" or not cased or k in _STRONG_PARTICLES)):
                p = self._after_particles(c, j, lower_budget)
                if p:
                    j = p
                    continue
            if cased and shapes[j] != "LOWER":
                ok, used = self._cased_name_word(c, j), False
            elif n == 1 and cased and j == i + 1 and shapes[i] != "LOWER":
                ok, used = self._surname_slot(c, i), False
            else:
                ok, used = self._word_ok(c, j, lower_budget)
            if not ok and self._bridge(c, j):
                ok, used = True, False
            if not ok:
                break
            lower_budget -= used
            j += 1
            end, n = j, n + 1
        return end

    def _run_left(self, c: _Ctx, i: int, lower_budget: int = 0) -> int:
        """Index of the first name word of the run ending at token ``i`` (``i`` when none before)."""
        shapes, words, breaks = c.shapes, c.words, c.info.breaks
        infos = self._infos
        j = i
        while j > 0 and i - j < 3 and self._linked(c, j - 1, j):
            sh = shapes[j - 1]
            k = c.keys[j - 1]
            if j - 1 in c.blocked:
                break
            if k in PARTICLES and (sh == "UPPER" or (sh == "CAP" and not breaks[j - 1])):
                j -= 1   # "DA SILVA Christophe", "AIT OUALI Hugo", "Le Van"
                continue
            if k in _STRONG_PARTICLES and sh == "LOWER":
                j -= 1
                continue
            if sh == "LOWER" or c.mode != "cased":
                known = infos[words[j - 1]].name and self._lower_name_word(c, j - 1, False)
                if not known and not (lower_budget > 0 and self._lower_name_word(c, j - 1, True)):
                    break
                lower_budget -= not known
            elif not self._cased_name_word(c, j - 1):
                break
            elif sh == "CAP" and breaks[j - 1] and not infos[words[j - 1]].name \
                    and shapes[i] != "UPPER" and not (infos[words[i]].surname and j == i):
                break   # "Hier Karim": a first word is not a name, unless a known surname follows it
            j -= 1
        while j < i and c.keys[j] in PARTICLES and shapes[j] == "LOWER" and c.mode == "cased":
            j += 1
        return j

    # -- rules -------------------------------------------------------------------------------
    def find(self, info: TextInfo, protected: Sequence[Span], blocked: frozenset[int] | None = None) -> list[Finding]:
        """Persons' names the rules find; ``blocked``: ``blocked_tokens(info, protected)`` if known already."""
        c = _Ctx(info, blocked_tokens(info, protected) if blocked is None else blocked)
        out: list[Finding] = []
        keys = info.keys
        if not TITLES.isdisjoint(keys):
            out += self._titles(c)
        if not _CUES_BY_FIRST.keys().isdisjoint(keys):
            out += self._roles(c)
        out += self._gazetteer(c)
        if info.mode == "cased" and "UPPER" in info.shapes:
            out += self._shapes(c)
        if out and "et" in keys:
            out += self._coordinated(c, out)
        return _outermost(out) if len(out) > 1 else out

    @staticmethod
    def _finding(c: _Ctx, i: int, j: int, score: float, detector: str, reason: str) -> Finding:
        return Finding("PERSON", c.info.starts[i], c.info.ends[j - 1], score, detector, reason)

    def _is_title(self, c: _Ctx, i: int) -> bool:
        k = c.keys[i]
        if k not in TITLES or i in c.blocked or i + 1 >= c.size:
            return False
        gap = c.gaps[i + 1]
        dotted = gap.startswith(".")
        if k in _WEAK_TITLES:
            sh = c.shapes[i]
            if sh == "LOWER" and not (dotted and c.mode != "cased"):
                return False
            if sh != "LOWER" and not dotted and not (c.info.spaced[i + 1] and c.shapes[i + 1] in _CAPITALISED):
                return False
        return _TITLE_GAP(gap) is not None

    def _titles(self, c: _Ctx) -> Iterable[Finding]:
        for i in where(c.keys[:-1], TITLES):
            if not self._is_title(c, i):
                continue
            j = self._run_right(c, i + 1, 2)
            if j == i + 1 and self._lone_after_title(c, i + 1):
                j = max(i + 2, self._run_right(c, i + 2, 2))   # "M. NG Van Minh"
            if j > i + 1:
                yield self._finding(c, i + 1, j, 0.9, "rule:title",
                                    f"title '{c.words[i]}' + {j - i - 1} name word(s)")

    def _lone_after_title(self, c: _Ctx, k: int) -> bool:
        """Whether the word at ``k``, after a title, is a surname that the name runs do not take: a short word
        in capitals that is not a never-name ("M. NG", "Dr OH"; not "M. OK", "Mme BAC", "M. ET MME", and "M. OU"
        is lost with them), or a particle, capitalised, with no capitalised word after it ("M. LE", "Monsieur
        Le"; "Monsieur Le Maire" is an office)."""
        if k >= c.size or k in c.blocked or c.info.glued[k] or c.shapes[k] not in _CAPITALISED:
            return False
        word = c.words[k]
        particle = _FOLDED[c.keys[k]] in PARTICLES
        if not particle:
            return c.shapes[k] == "UPPER" and len(word) <= 3 and not self._infos[word].never
        nxt = k + 1
        return not (nxt < c.size and c.info.spaced[nxt] and c.shapes[nxt] in _CAPITALISED)

    def _plain_run(self, c: _Ctx, j: int, apposition: bool, one_word: bool = False) -> int:
        """End of the name run at ``j`` after a weak cue, for words whose case says nothing (lower case, a text
        in capitals, Arabic script); ``j`` when it is not taken.

        Taken when it holds a known name or at least two words ("avec zoubida castafiore", "requis par
        castafiore zoubida"): one plain word after "avec", "par" or "je suis" is a common word far more often
        ("avec violence", "je suis choquée"). After a comma, only a closed apposition is taken ("le requérant,
        evrard ghezzal, né le..."; "la requérante, inquiète, rappelle" is not); with ``one_word``, a single
        word there is enough ("c'est moi, nélia, je vends...").
        """
        k = c.keys[j]
        if not (self._lower_name_word(c, j, True) or (k in PARTICLES and (k in _STRONG_PARTICLES
                                                                          or c.mode != "cased"))):
            return j   # "avec le...", "individu interpellé", "je suis très...": the usual case, decided at once
        end = self._run_right(c, j, 3)
        if end == j or (apposition and not (end < c.size and _CLOSE(c.gaps[end]))):
            return j
        if one_word:
            return end
        infos = self._infos
        words = 0
        for k in range(j, end):
            w = infos[c.words[k]]
            if w.name and not w.never and (not w.ambiguous or c.mode != "cased"):
                return end   # (in lower case in a text with capitals, "grâce" or "rose" is a word)
            words += c.keys[k] not in PARTICLES
        return end if words >= 2 else j

    def _roles(self, c: _Ctx) -> Iterable[Finding]:
        keys, gaps, size = c.keys, c.gaps, c.size
        for i in where(keys, _CUES_BY_FIRST):
            for cue in _CUES_BY_FIRST[keys[i]]:
                n = len(cue)
                if n > 1 and keys[i:i + n] != cue:
                    continue
                strength = ROLE_CUES[cue]
                j = i + n
                while j < size and keys[j] in ("e", "s", "es") and gaps[j] in ("(", ""):
                    j += 1   # "Requérant(e)", "témoin(s)"
                if j >= size or j in c.blocked:
                    break
                if self._is_title(c, j):
                    break   # the title rule covers it
                gap = gaps[j]
                colon = _COLON(gap) is not None
                comma = "," in gap
                cased = c.mode == "cased" and c.shapes[j] != "LOWER"   # a word whose case tells something
                if _STOP(gap.replace(")", "")) or (comma and cased and strength not in ("weak", "self")):
                    break
                lower_ok = not comma and (strength == "name" or (strength == "colon" and colon))
                if cased or lower_ok:
                    end = self._run_right(c, j, 2 if lower_ok else 0)
                else:   # a weak cue, or a role word with no colon, before a word whose case says nothing
                    end = self._plain_run(c, j, comma, one_word=comma and strength == "self")
                if end > j:
                    yield self._finding(c, j, end, 0.85, "rule:role",
                                        f"role word '{' '.join(cue)}'{' + colon' if colon else ''} + name word(s)")
                break

    def _coordinated(self, c: _Ctx, found: Sequence[Finding]) -> Iterable[Finding]:
        """A name joined by "et" to a name found, whose case says nothing ("avec hugo bouzid et mathys
        ghezzal"): "et" is a weak cue there (see ``_plain_run``)."""
        starts, spaced = c.info.starts, c.info.spaced
        for f in found:
            e = bisect_left(starts, f.end)
            if e + 1 < c.size and c.keys[e] == "et" and spaced[e] and spaced[e + 1] and e + 1 not in c.blocked \
                    and (c.mode != "cased" or c.shapes[e + 1] == "LOWER"):
                end = self._plain_run(c, e + 1, False)
                if end > e + 1:
                    yield self._finding(c, e + 1, end, 0.75, "rule:role", "name word(s) after 'et' and a name")

    def _gazetteer(self, c: _Ctx) -> Iterable[Finding]:
        """Runs of name words around a known first name, or around a known surname with a neighbour."""
        words, shapes, keys = c.words, c.shapes, c.keys
        infos = self._infos
        # by folded keys: words in capitals or in Arabic script also match folded entries ("MZÉ", "أحمد")
        hits = list(compress(range(len(keys)), map(self.lex.folded_maybe_name.__getitem__, keys)))
        if "-" in c.info.text and (hyphenated := list(compress(range(len(keys)), map(contains, keys, repeat("-"))))):
            hits = sorted({*hits, *hyphenated})
        i = 0
        for i0 in hits:
            if i0 < i:
                continue
            i = i0
            word, sh = words[i], shapes[i]
            info = infos[word]
            if i in c.blocked or not info.name or self._acronym(word, sh):
                continue
            lowered = c.mode != "cased" or sh == "LOWER"
            if lowered and (info.never or len(word) < 3):
                continue
            budget = 1 if lowered and info.first else 0   # a lower-case surname needs a known first name
            end = self._run_right(c, i, budget)
            used_right = 0
            for k in range(i + 1, end):   # the word at i is a name
                used_right += not infos[words[k]].name and keys[k] not in PARTICLES
            start = self._run_left(c, i, budget - used_right)
            if end <= i:
                continue
            size = solid = 0
            for k in range(start, end):
                if keys[k] not in PARTICLES:
                    size += 1
                w = infos[words[k]]
                solid += w.name and not w.ambiguous
            # (a place is written in Latin script: "à Jean Jaurès", not "à عائشة")
            after_place_word = start > 0 and keys[start - 1] in PLACE_PREPOSITIONS and not _CASELESS(words[start])
            if size < 2:
                # alone: a first name that is not also a word (in lower case, not after a place word),
                # or a surname in capitals ("le nommé HADDAD"), whatever the casing of the text
                lone_surname = sh == "UPPER" and info.surname and len(word) >= 3
                if info.ambiguous or not (info.first or lone_surname) or (lowered and after_place_word
                                                                         and not lone_surname):
                    continue
            elif info.ambiguous and solid == 0 and (after_place_word or lowered):
                continue   # "à Jean Jaurès", "la rose blanche"
            detector = "gazetteer:first_names" if info.first else "gazetteer:surnames"
            kind = "first name" if info.first else "surname"
            score = (0.85 if solid else 0.7) if size >= 2 else (0.6 if not lowered else 0.55)
            yield self._finding(c, start, end, score, detector,
                                f"{kind} '{fold(word)}' in gazetteer"
                                + (f" + {size - 1} neighbouring name word(s)" if size > 1 else " alone"))
            i = end

    def _shapes(self, c: _Ctx) -> Iterable[Finding]:
        words, shapes = c.words, c.shapes
        infos = self._infos
        i = 0
        for u in [n for n, sh in enumerate(shapes) if sh == "UPPER"]:
            if u < i:
                continue
            i = u
            if not self._cased_name_word(c, i) or (len(words[i]) < 3 and not infos[words[i]].name):
                continue
            start = self._run_left(c, i)
            end = self._run_right(c, i, 0)
            run = shapes[start:end]
            if "CAP" in run and "UPPER" in run:
                if c.info.breaks[start] and shapes[start] == "CAP" \
                        and not infos[words[start]].name and start + 1 < end and shapes[start + 1] == "CAP":
                    start += 1
                yield self._finding(c, start, end, 0.75, "rule:name_shape",
                                    "upper-case surname next to a capitalised word (NOM Prénom / Prénom NOM)")
            elif any(infos[words[k]].name and not infos[words[k]].ambiguous for k in range(start, end)):
                yield self._finding(c, start, end, 0.6 if end - start == 1 else 0.75, "gazetteer:surnames",
                                    "upper-case surname in gazetteer"
                                    + (" with its neighbours" if end - start > 1 else ""))
            i = max(end, i + 1)

    # -- what is left for the model -------------------------------------------------------------
    def candidates(self, info: TextInfo, protected: Sequence[Span], found: Sequence[Finding],
                   blocked: frozenset[int] | None = None) -> list[int]:
        """Indices of words that may be names and that no rule explained (``blocked``: as in ``find``)."""
        if blocked is None:
            blocked = blocked_tokens(info, protected)
        blocked = blocked | blocked_tokens(info, [(f.start, f.end) for f in found])
        words, shapes = info.words, info.shapes
        infos = self._infos
        out = []
        if info.mode == "cased":
            pool = where(info.shapes, _CAPITALISED)
        else:
            pool = where(info.keys, self.lex.maybe_name)
        for i in pool:
            word, sh = words[i], shapes[i]
            if i in blocked or info.keys[i] in TITLES or info.glued[i]:
                continue
            w = infos[word]
            if info.mode == "cased":
                if self._acronym(word, sh) or (w.never and not w.name):
                    continue
                if info.breaks[i]:
                    nxt = i + 1
                    if not (nxt < len(words) and info.spaced[nxt] and shapes[nxt] in _CAPITALISED
                            and not self._never(words[nxt]) and nxt not in blocked) and not w.name:
                        continue
                if sh == "UPPER" and len(word) < 4 and not w.name:
                    continue
                out.append(i)
            elif w.name and not w.never and len(word) >= 3 and not w.ambiguous:
                out.append(i)
        return out

    def from_entities(self, info: TextInfo, entities: Iterable[tuple[int, int, str]], candidates: Sequence[int],
                      protected: Sequence[Span], model: str) -> list[Finding]:
        """``PER`` entities of the model that contain a candidate word, trimmed of titles and never-names."""
        c = _Ctx(info, blocked_tokens(info, protected))
        words, starts, ends = info.words, info.starts, info.ends
        cand = set(candidates)
        out = []
        for start, end, label in entities:
            if label != "PER":
                continue
            idx = [i for i in range(len(words)) if starts[i] >= start and ends[i] <= end]
            while idx and (idx[0] in c.blocked or info.keys[idx[0]] in TITLES or self._never(words[idx[0]])
                           or info.keys[idx[0]] in PARTICLES):
                idx.pop(0)
            while idx and (idx[-1] in c.blocked or self._never(words[idx[-1]])
                           or info.keys[idx[-1]] in PARTICLES):
                idx.pop()
            if not idx or not cand.intersection(idx) or any(i in c.blocked or info.glued[i] for i in idx):
                continue
            if idx[0] > 0 and info.keys[idx[0] - 1] in PLACE_PREPOSITIONS \
                    and not any(self.lex.is_name_word(words[i]) for i in idx):
                continue
            known = any(self.lex.is_name_word(words[i]) for i in idx)
            out.append(Finding("PERSON", starts[idx[0]], ends[idx[-1]], 0.8 if known else 0.7,
                               f"spacy:{model}", "NER label PER on a word no rule explained"))
        return out
