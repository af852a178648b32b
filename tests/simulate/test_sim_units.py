"""Small pieces of the simulator on hand-made inputs."""

from __future__ import annotations

import random
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from observatoire.city.profile import CityProfile
from observatoire.simulate import people
from observatoire.simulate.clock import (format_local, format_local_offset, format_utc_z, local_to_utc,
                                         make_clock)
from observatoire.simulate.gazetteer import with_preposition
from observatoire.simulate.geography import jitter_inside, make_frame, make_hotspots, sample_in_zones
from observatoire.simulate.narratives import logbook_narrative, report_note
from observatoire.simulate.writers import decimal_comma


def _naive(s: str) -> int:
    return int(np.datetime64(s, "s").astype(np.int64))


def test_when_the_local_year_is_built_then_it_starts_at_local_midnight() -> None:
    clock = make_clock("Europe/Paris", 2025)
    assert format_utc_z(np.array([clock.start, clock.end])).to_pylist() == [
        "2024-12-31T23:00:00Z", "2025-12-31T23:00:00Z"]
    assert clock.days == 365


def test_when_a_local_time_is_ambiguous_or_missing_then_the_connectors_rule_applies() -> None:
    utc = local_to_utc(np.array([_naive("2025-10-26T02:30:00"), _naive("2025-03-30T02:30:00")]), "Europe/Paris")
    assert format_utc_z(utc).to_pylist() == ["2025-10-26T00:30:00Z", "2025-03-30T01:00:00Z"]


def test_fast_local_formatting_matches_strftime() -> None:
    t = np.random.default_rng(0).integers(1_735_686_000, 1_767_222_000, 5_000)
    arr = pa.array(t, type=pa.timestamp("s", tz="Europe/Paris"))
    for fmt in ("%d/%m/%Y %H:%M", "%d/%m/%Y", "%H:%M"):
        assert format_local(t, "Europe/Paris", fmt).equals(pc.strftime(arr, format=fmt))
    assert format_local_offset(np.array([_naive("2025-01-15T12:00:00"), _naive("2025-07-15T12:00:00")]),
                               "Europe/Paris").to_pylist() == ["2025-01-15T13:00:00+01:00",
                                                               "2025-07-15T14:00:00+02:00"]


def test_decimal_comma() -> None:
    assert decimal_comma(np.array([5.3741234, np.nan, 43.2]), 6).to_pylist() == ["5,374123", None, "43,2"]
    assert decimal_comma(np.array([35.0, 135.0]), 2, fixed=True).to_pylist() == ["35,00", "135,00"]


@pytest.mark.parametrize("name, expected", [("le Panier", "au Panier"), ("les Goudes", "aux Goudes"),
                                            ("Noailles", "à Noailles"), ("la Joliette", "à la Joliette"),
                                            ("l'Estaque", "à l'Estaque")])
def test_quartier_prepositions(name: str, expected: str) -> None:
    assert with_preposition(name) == expected


def test_sampled_points_fall_in_their_zone_and_jitter_stays_small(city: CityProfile) -> None:
    frame = make_frame(city)
    rng = np.random.default_rng(3)
    hot = make_hotspots(rng, frame, 4, (150.0, 450.0))
    zone = rng.integers(0, frame.n_zones, 3_000)
    x, y = sample_in_zones(rng, frame, hot, zone, 0.6, corridor_share=0.3)
    assert (frame.zone_index(x, y) == zone).all()
    jx, jy = jitter_inside(rng, frame, x, y, 10.0, 25.0)
    assert np.hypot(jx - x, jy - y).max() <= 25.0 + 1e-9
    assert frame.in_city(jx, jy).all()


def test_plates_and_phones_have_the_french_forms() -> None:
    rnd = random.Random(1)
    siv = re.compile(r"^[A-HJ-NP-TV-Z]{2}-\d{3}-[A-HJ-NP-TV-Z]{2}$")
    fni = re.compile(r"^\d{1,4} [A-HJ-NP-TV-Z]{2,3} \d{2}$")
    plates = [people.plate(rnd, 0.3) for _ in range(500)]
    assert all(siv.match(p) or fni.match(p) for p in plates)
    vec = people.plates_vectorised(np.random.default_rng(2), 500, 0.3)
    assert all(siv.match(p) or fni.match(p) for p in vec)
    phone = re.compile(r"^(0\d( \d\d){4}|0\d(\.\d\d){4}|0\d{9}|\+33 \d( \d\d){4}|0\d(-\d\d){4})$")
    assert all(phone.match(people.phone(rnd)) for _ in range(500))


def test_narratives_return_exactly_the_personal_data_they_insert() -> None:
    rnd = random.Random(7)
    streets = ("rue de Rome", "cours Belsunce")
    for code in ("violence", "vehicle_crime", "road_safety", "assistance", "nuisance"):
        for origine in ("initiative", "videoprotection", "appel_usager", "requisition"):
            w = logbook_narrative(rnd, code, origine, streets, "13001", 2025, "CAM-0007", 3)
            assert all(v in w.text for _, v in w.pii)
            assert len(w.persons) == sum(1 for k, _ in w.pii if k == "name")
        note = report_note(rnd, code, "intervention", streets, "13001", 2025, True)
        assert note.pii and all(v in note.text for _, v in note.pii)
        assert not report_note(rnd, code, "intervention", streets, "13001", 2025, False).pii
