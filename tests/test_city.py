"""City profile loading and point assignment to zones and H3 cells."""

from __future__ import annotations

import json
from pathlib import Path

import h3
import numpy as np
import pytest
import shapely

from observatoire.city.geo import assign_zones, from_local_metres, h3_cells, local_metres
from observatoire.city.profile import CityProfile, load_city
from observatoire.errors import InputError

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "marseille" / "arrondissements.geojson"


def test_default_profile_is_marseille_with_real_populations(city: CityProfile) -> None:
    assert city.name == "Marseille" and len(city.zones) == 16
    assert city.timezone == "Europe/Paris"
    assert "IGN" in city.attribution and "INSEE" in city.attribution
    if SHARED.exists():  # the packaged copy matches the shared source, zone by zone
        src = json.loads(SHARED.read_text())
        pops = {f["properties"]["code_insee"]: f["properties"]["population_municipale"] for f in src["features"]}
        assert {z.zone_id: z.population for z in city.zones} == pops
    assert city.population == 863_310


def _boundary_probe(city: CityProfile, a: str, b: str, offset_m: float):
    """A point on the shared border of zones a and b, and points offset_m either side of it."""
    za, zb = city.zone(a).geometry, city.zone(b).geometry
    shared = shapely.line_merge(za.boundary.intersection(zb.boundary))
    segs = list(getattr(shared, "geoms", [shared]))
    line = max(segs, key=lambda g: g.length)
    p = line.interpolate(0.5, normalized=True)
    q = line.interpolate(0.5 + 1e-4, normalized=True)
    lon0, lat0 = p.x, p.y
    (qx,), (qy,) = local_metres(np.array([q.x]), np.array([q.y]), lon0, lat0)
    n = np.array([-qy, qx]) / np.hypot(qx, qy)
    sides = [from_local_metres(np.array([s * offset_m * n[0]]), np.array([s * offset_m * n[1]]), lon0, lat0)
             for s in (1, -1)]
    return (lon0, lat0), sides


@pytest.mark.parametrize("a, b", [("13201", "13202"), ("13206", "13208"), ("13213", "13214")])
def test_when_points_lie_either_side_of_a_border_then_each_gets_its_own_zone(city: CityProfile, a: str, b: str):
    (lon0, lat0), sides = _boundary_probe(city, a, b, offset_m=3.0)
    lon = np.array([s[0][0] for s in sides])
    lat = np.array([s[1][0] for s in sides])
    zones = assign_zones(city, lon, lat)
    assert set(zones) == {a, b}
    for z, x, y in zip(zones, lon, lat):  # and it is the zone that really contains the point
        assert city.zone(z).geometry.contains(shapely.Point(x, y))


def test_when_a_point_is_exactly_on_a_border_then_it_goes_to_the_first_zone_of_the_profile(city: CityProfile):
    (lon0, lat0), _ = _boundary_probe(city, "13201", "13202", offset_m=3.0)
    assert assign_zones(city, np.array([lon0]), np.array([lat0]))[0] in {"13201", "13202"}
    order = [z.zone_id for z in city.zones]
    got = assign_zones(city, np.array([lon0] * 3), np.array([lat0] * 3))
    assert len(set(got)) == 1 and order.index(got[0]) <= max(order.index("13201"), order.index("13202"))


def test_when_a_point_is_outside_or_missing_then_it_has_no_zone(city: CityProfile) -> None:
    inside = city.zone("13201").geometry.representative_point()
    zones = assign_zones(city, np.array([2.35, np.nan, inside.x]), np.array([48.85, 43.3, inside.y]))
    assert zones[0] is None and zones[1] is None and zones[2] == "13201"  # Paris, no point, the 1st


def test_h3_cells_match_the_library_and_parents_nest() -> None:
    lon = np.array([5.3698, 5.3698, 5.40, np.nan])
    lat = np.array([43.2965, 43.2965, 43.27, np.nan])
    cells = h3_cells(lon, lat)
    for i in range(3):
        expected = h3.latlng_to_cell(lat[i], lon[i], 9)
        assert h3.int_to_str(int(cells[9][i])) == expected
        assert h3.int_to_str(int(cells[7][i])) == h3.cell_to_parent(expected, 7)
    assert cells[9][3] == 0


def test_when_a_profile_file_is_broken_then_loading_says_why(tmp_path: Path) -> None:
    bad = tmp_path / "city.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(InputError, match="city"):
        load_city(bad)
    bad.write_text("not json")
    with pytest.raises(InputError, match="cannot be read"):
        load_city(bad)


def test_any_city_can_be_configured_from_a_file(tmp_path: Path) -> None:
    doc = {"type": "FeatureCollection", "city": {"name": "Toyville", "timezone": "Europe/Paris"},
           "features": [{"type": "Feature", "properties": {"zone_id": "A", "name": "A", "population": 1000},
                         "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}},
                        {"type": "Feature", "properties": {"zone_id": "B", "name": "B", "population": 500},
                         "geometry": {"type": "Polygon", "coordinates": [[[1, 0], [2, 0], [2, 1], [1, 1], [1, 0]]]}}]}
    path = tmp_path / "toy.geojson"
    path.write_text(json.dumps(doc))
    toy = load_city(path)
    assert toy.population == 1500 and toy.outline.area == pytest.approx(2.0)
    assert list(assign_zones(toy, np.array([0.5, 1.5, 0.999999, 1.000001]), np.array([0.5] * 4))) == ["A", "B", "A", "B"]
