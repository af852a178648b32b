"""The public-order topic classifier on hand-labelled French posts (not the simulator's templates)."""

from __future__ import annotations

import pytest

from observatoire.sources.social_topics import TOPICS, topics_of

LABELLED = [
    ("Baston générale devant le lycée, trois mecs au sol", {"violence"}),
    ("Des coups de feu entendus vers la cité, restez chez vous", {"weapon"}),
    ("On m'a arraché mon collier dans le tram", {"theft"}),
    ("Encore un cambriolage dans la résidence cette nuit", {"theft"}),
    ("Un scooter en flammes en bas de chez moi", {"fire"}),
    ("Bousculade à la sortie du métro, beaucoup de monde", {"crowd"}),
    ("Le point de deal a rouvert juste à côté de l'école", {"drugs"}),
    ("Rodéo urbain toute la soirée, insupportable", {"nuisance"}),
    ("Accident entre un bus et une voiture sur le boulevard", {"traffic"}),
    ("Ambiance de folie au Vélodrome pour le match ce soir", {"event"}),
    ("Les pompiers et le SAMU sont sur place", {"emergency"}),
    ("Bagarre entre supporters après le match", {"violence", "event"}),
    ("Incendie dans un immeuble, fumée noire, pompiers mobilisés", {"fire", "emergency"}),
    ("Un homme menace les passants avec un couteau", {"weapon"}),
    ("Il fait beau, apéro sur le port", set()),
    ("Qui connaît un bon plombier ?", set()),
    ("Je vole vers Paris demain matin", {"theft"}),      # a known false positive of a lexicon
    ("Concert gratuit sur le Vieux-Port samedi", {"event"}),
    ("Embouteillage monstre à cause des travaux", {"traffic"}),
    ("Tapage nocturne chez les voisins encore", {"nuisance"}),
]


@pytest.mark.parametrize("text, expected", LABELLED)
def test_when_a_post_mentions_a_topic_then_it_is_labelled(text: str, expected: set[str]) -> None:
    assert set(topics_of(text)) == expected


def test_labels_are_documented_and_nothing_gets_a_label_without_text() -> None:
    assert all(label for label, _ in TOPICS.values())
    assert topics_of(None) == [] and topics_of("") == []
    assert topics_of("<PERSONNE> a été agressé") == ["violence"]
