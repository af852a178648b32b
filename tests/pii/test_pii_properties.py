"""Properties of scrubbing: idempotence, and no planted identifier surviving in any casing or spacing, nor with
invisible characters or emoji inside it."""

from __future__ import annotations

import os
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from observatoire.gate.pii import Scrubber
from observatoire.gate.pii.validators import nir_key

# PII_EXAMPLES=2000 for a deeper search than the suite's default.
SETTINGS = settings(max_examples=int(os.environ.get("PII_EXAMPLES", "150")), deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

FIRST = ("Karim", "Sophie", "Mamadou", "Léa", "Nguyen Thi", "Jean-Marc", "Fatima", "Giuseppe", "Aïcha", "Sergueï")
LAST = ("BENALI", "Martin", "Diallo", "Esposito", "Da Silva", "Ben Youssef", "Papazian", "Nguyen", "Haddad")
WORDS = ("Rixe", "Vol", "Tapage", "rue de Rome", "boulevard National", "avenue Jean Jaurès", "la Belle de Mai",
         "Vélodrome", "Marseille", "23h15", "PV", "RTM", "le 12 juin 2025", "Victime :", "Mis en cause :",
         "né le", "tél.", "véhicule", "courriel", "M.", "Mme", "au", "et", "signalant", "demeurant", "12 bis",
         "Main courante pour information.", ",", ".", "(", ")", ":", "—", "<PERSONNE>", "13006", "OM", "lycée")
SIV = "ABCDEFGHJKLMNPQRSTVWXYZ"


def _case(draw: st.DrawFn, s: str) -> str:
    return draw(st.sampled_from((s, s.lower(), s.upper(), s.title())))


@st.composite
def phones(draw: st.DrawFn) -> str:
    first = draw(st.sampled_from("1234567"))
    pairs = [f"{draw(st.integers(0, 99)):02d}" for _ in range(4)]
    sep = draw(st.sampled_from((" ", ".", "-", "")))
    lead = draw(st.sampled_from((f"0{first}", f"+33 {first}", f"+33 (0){first}", f"0033 {first}")))
    return lead + sep + sep.join(pairs) if lead.startswith("0") and not lead.startswith("00") \
        else lead + " " + " ".join(pairs)


@st.composite
def plates(draw: st.DrawFn) -> str:
    a = draw(st.text(SIV, min_size=2, max_size=2))
    b = draw(st.text(SIV, min_size=2, max_size=2))
    n = f"{draw(st.integers(1, 999)):03d}"
    sep = draw(st.sampled_from(("-", " - ", "-")))
    return _case(draw, f"{a}{sep}{n}{sep}{b}")


@st.composite
def nirs(draw: st.DrawFn) -> str:
    dept = draw(st.sampled_from(("13", "83", "2A", "2B", "75", "99")))
    body = (draw(st.sampled_from("12")) + f"{draw(st.integers(0, 99)):02d}" + f"{draw(st.integers(1, 12)):02d}"
            + dept + f"{draw(st.integers(1, 989)):03d}" + f"{draw(st.integers(1, 999)):03d}")
    nir = body + f"{nir_key(body):02d}"
    if draw(st.booleans()):
        nir = " ".join((nir[0], nir[1:3], nir[3:5], nir[5:7], nir[7:10], nir[10:13], nir[13:]))
    return _case(draw, nir)


@st.composite
def ibans(draw: st.DrawFn) -> str:
    bban = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=23, max_size=23)))
    check = 98 - int("".join(str(int(c, 36)) for c in bban + "FR00")) % 97
    iban = f"FR{check:02d}{bban}"
    if draw(st.booleans()):
        iban = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    return _case(draw, iban)


@st.composite
def emails(draw: st.DrawFn) -> str:
    user = draw(st.from_regex(r"[a-z][a-z0-9]{1,8}([._-][a-z0-9]{1,8})?", fullmatch=True))
    return _case(draw, f"{user}@{draw(st.sampled_from(('gmail.com', 'orange.fr', 'free.fr')))}")


@st.composite
def titled_names(draw: st.DrawFn) -> tuple[str, str]:
    title = draw(st.sampled_from(("M.", "Mme", "Monsieur", "Madame")))
    first, last = draw(st.sampled_from(FIRST)), draw(st.sampled_from(LAST))
    name = draw(st.sampled_from((f"{first} {last}", f"{last.upper()} {first}", f"{first} {last.upper()}")))
    return title, name


@st.composite
def handles(draw: st.DrawFn) -> str:
    name = draw(st.from_regex(r"[a-z][a-z0-9]{4,8}([._][a-z0-9]{1,8})?", fullmatch=True))   # long enough to be unique
    form = draw(st.sampled_from(("@{}", "instagram.com/{}", "https://www.tiktok.com/@{}", "snap : {}")))
    return _case(draw, form.format(name))


IDENTIFIERS = st.one_of(phones(), plates(), nirs(), ibans(), emails(), handles())
INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u2060", "\u00ad", "\ufeff", "\u200e")
EMOJI = ("😀", "❤️", "👍🏽", "🚗", "🔥")


@st.composite
def hidden_inside(draw: st.DrawFn, value: str) -> str:
    """``value`` with invisible characters or emoji put inside it, between two letters or digits (an emoji
    never between a lower-case letter and a capital, where it reads as a space)."""
    for _ in range(draw(st.integers(1, 3))):
        at = [i for i in range(1, len(value)) if value[i - 1].isalnum() and value[i].isalnum()]
        if not at:
            break
        i = draw(st.sampled_from(at))
        glued_words = value[i - 1].islower() and value[i].isupper()
        value = value[:i] + draw(st.sampled_from(INVISIBLE if glued_words else INVISIBLE + EMOJI)) + value[i:]
    return value
CONTEXTS = st.sampled_from(("{}", "tél. {}", "Victime : M. Karim BENALI, {}.", "véhicule {} stationné rue de Rome",
                            "Rixe à 23h15 ({}) au Vélodrome", "contact {} svp", "n° {}, IBAN ou NIR",
                            "{} — fin", "appel de mme dupont au {} signalant un tapage"))


@st.composite
def texts(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.one_of(st.sampled_from(WORDS), IDENTIFIERS,
                                    titled_names().map(lambda tn: f"{tn[0]} {tn[1]}"),
                                    st.text(st.sampled_from("abcdeéèAÉ XYZ0123456789.,:-'"), max_size=12)),
                          max_size=14))
    text = " ".join(parts)
    return draw(st.sampled_from((text, text.lower(), text.upper())))


def _compact(s: str) -> str:
    return re.sub(r"[\W_]", "", s).lower()


@SETTINGS
@given(text=texts())
def test_when_a_scrubbed_text_is_scrubbed_again_then_nothing_changes(pii: Scrubber, text: str) -> None:
    once = pii.scrub(text)
    again = pii.scrub(once.text or "")
    assert again.text == once.text
    assert again.findings == ()


@SETTINGS
@given(identifier=IDENTIFIERS, context=CONTEXTS, lower=st.booleans())
def test_when_an_identifier_is_planted_then_it_never_survives(pii: Scrubber, identifier: str, context: str,
                                                              lower: bool) -> None:
    text = context.format(identifier)
    text = text.lower() if lower else text
    out = pii.scrub(text).text or ""
    planted = identifier.lower() if lower else identifier
    assert planted not in out
    assert _compact(planted) not in _compact(out)


@SETTINGS
@given(tn=titled_names(), context=st.sampled_from(("Appel de {}.", "Victime : {}, tél.", "{} a été vu rue de Rome",
                                                   "Rixe : {} interpellé.")),
       case=st.sampled_from(("as is", "lower", "upper")))
def test_when_a_titled_name_is_planted_then_no_part_of_it_survives(pii: Scrubber, tn: tuple[str, str], context: str,
                                                                   case: str) -> None:
    title, name = tn
    text = context.format(f"{title} {name}")
    text = {"as is": text, "lower": text.lower(), "upper": text.upper()}[case]
    out = pii.scrub(text).text or ""
    words = [w for w in re.split(r"[\s\-]+", name) if len(w) > 2]
    for w in words:
        assert not re.search(rf"(?<!\w){re.escape(w)}(?!\w)", out, re.IGNORECASE), (text, out)


@SETTINGS
@given(text=texts(), extra=st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(INVISIBLE + EMOJI)),
                                    max_size=6))
def test_when_a_text_holds_invisible_characters_or_emoji_then_scrubbing_it_again_changes_nothing(
        pii: Scrubber, text: str, extra: list[tuple[int, str]]) -> None:
    for at, c in extra:
        at %= len(text) + 1
        text = text[:at] + c + text[at:]
    once = pii.scrub(text)
    again = pii.scrub(once.text or "")
    assert again.text == once.text
    assert again.findings == ()
    assert all(0 <= f.start < f.end <= len(text) for f in once.findings)


@SETTINGS
@given(data=st.data(), identifier=IDENTIFIERS, context=CONTEXTS)
def test_when_an_identifier_hides_invisible_characters_or_emoji_then_it_never_survives(
        pii: Scrubber, data: st.DataObject, identifier: str, context: str) -> None:
    planted = data.draw(hidden_inside(identifier))
    out = pii.scrub(context.format(planted)).text or ""
    assert _compact(identifier) not in _compact(out)      # what hid inside, being no letter nor digit, goes too
