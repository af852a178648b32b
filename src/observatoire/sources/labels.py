"""French category labels used by municipal exports -> taxonomy codes (see docs/sources.md)."""

from __future__ import annotations

import unicodedata
from types import MappingProxyType
from typing import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

LABELS_FR: Mapping[str, str] = MappingProxyType({
    "Violences": "violence",
    "Vol": "theft",
    "Vol avec violence": "robbery",
    "Cambriolage": "burglary",
    "Vol lié aux véhicules": "vehicle_crime",
    "Dégradations": "criminal_damage",
    "Stupéfiants": "drugs",
    "Trouble à l'ordre public": "public_order",
    "Tapage, nuisances": "nuisance",
    "Dépôt sauvage": "public_hygiene",
    "Accident de la circulation": "road_safety",
    "Assistance à personne": "assistance",
    "Intervention diverse": "intervention",
    "Signalement vidéo": "operator_report",
})


def _norm(label: str) -> str:
    """Case, accents, apostrophes and spacing do not matter ("degradations" = "Dégradations")."""
    s = unicodedata.normalize("NFKD", label.replace("’", "'")).encode("ascii", "ignore").decode()
    return " ".join(s.lower().split())


_NORMALISED = {_norm(k): v for k, v in LABELS_FR.items()}


def categories_of(labels: pa.Array) -> np.ndarray:
    """Taxonomy code per label (object array, ``None`` for an unknown label)."""
    uniques = pc.unique(labels)
    mapped = pa.array([_NORMALISED.get(_norm(x)) if x is not None else None for x in uniques.to_pylist()],
                      pa.string())
    return np.asarray(mapped.take(pc.index_in(labels, uniques)).to_pylist(), dtype=object)
