"""Connectors that never crash: hostile exports of every source (``tests/fuzz_exports.py``), ingested for real.

Seeded (``derandomize``) and kept small here so that ``make test`` stays fast; ``bench/fuzz.py`` runs the
same strategies at 100,000 cases per connector. Plus the six root causes a campaign found, each pinned.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from observatoire.city.profile import CityProfile
from observatoire.errors import ObservatoireError
from observatoire.gate.admit import Gate
from observatoire.ingest.pipeline import ingest
from observatoire.store.parquet import ParquetStore
from tests.fuzz_exports import SAMPLE_OF, SAMPLES, hostile_export, snapshot

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
EXAMPLES = 15


def ingest_hostile(source: str, name: str, data: bytes, *, city: CityProfile, sources: dict, gate: Gate) -> None:
    """Ingest one hostile export into a fresh store and check the invariants (see the module docstring)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = ParquetStore(root / "store", zone_ids=city.zone_ids)
        needs = getattr(sources[source], "needs", ())
        for need in needs:   # a camera registry before camera events
            ingest([SAMPLES / SAMPLE_OF[need]], store=store, city=city, sources=sources, gate=gate, now=NOW,
                   source_name=need)
        path = root / "in" / name
        path.parent.mkdir()
        path.write_bytes(data)
        before = snapshot(root / "store") if (root / "store").exists() else {}
        try:
            reports = ingest([path], store=store, city=city, sources=sources, gate=gate, now=NOW,
                             source_name=source)
        except ObservatoireError as exc:
            assert str(exc).count("\n") == 0 and str(exc)          # one line
            after = snapshot(root / "store") if (root / "store").exists() else {}
            assert after == before, "a refused file changed the store"
            return
        for r in reports:
            assert r.rows_read == r.admitted + r.quarantined, r
            assert sum(r.reasons.values()) == r.quarantined, r


@pytest.mark.parametrize("source", sorted(SAMPLE_OF))
def test_no_hostile_export_crashes_a_connector(source: str, city: CityProfile, sources: dict, gate: Gate) -> None:
    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(export=hostile_export(source))
    def run(export: tuple[str, bytes]) -> None:
        ingest_hostile(source, *export, city=city, sources=sources, gate=gate)

    run()


PATROLS = (SAMPLES / "patrols_sample.csv").read_text(encoding="utf-8")
REPORT = (SAMPLES / "municipal_reports_sample.jsonl").read_text(encoding="utf-8").splitlines()[0]


@pytest.mark.parametrize("name, data, admitted", [
    ("cr_only", PATROLS.replace("\n", "\r").encode(), 15),
    ("crlf", PATROLS.replace("\n", "\r\n").encode(), 15),
    ("blank_lines_first", ("\n\n" + PATROLS).encode(), 15),
    ("two_boms", b"\xef\xbb\xbf\xef\xbb\xbf" + PATROLS.encode(), 15),
    ("header_only", PATROLS.splitlines()[0].encode() + b"\n", 0),
    ("header_only_no_newline", PATROLS.splitlines()[0].encode(), 0),
    ("utf16", PATROLS.encode("utf-16"), 15),
    ("utf16_big_endian", b"\xfe\xff" + PATROLS.encode("utf-16-be"), 15),
])
def test_the_shapes_of_real_spreadsheet_exports_are_read(tmp_path: Path, city: CityProfile, sources: dict,
                                                          gate: Gate, name: str, data: bytes, admitted: int) -> None:
    path = tmp_path / "in" / f"patrols_{name}.csv"
    path.parent.mkdir()
    path.write_bytes(data)
    [report] = ingest([path], store=ParquetStore(tmp_path / "s", zone_ids=city.zone_ids), city=city,
                      sources=sources, gate=gate, now=NOW)
    assert (report.rows_read, report.admitted, report.quarantined) == (admitted, admitted, 0)


def _other(line: str) -> str:
    """The same report under another id (the file would otherwise repeat a key)."""
    return line.replace('"id":"', '"id":"X', 1)


@pytest.mark.parametrize("line, reason", [
    (_other(REPORT)[:-1] + ', "note": ' + "[" * 300 + "]" * 300 + "}", "malformed_row"),  # deeper than JSON writes
    (_other(REPORT).replace('"lon":', '"lon":18446744073709551616,"x":', 1), "undeclared_field"),
    (_other(REPORT)[:-1] + ', "__row": 99999999999999999999999}', "undeclared_field"),
    (_other(REPORT).replace('"lon":', '"lon":18446744073709551616,"lat":-1e400,"y":', 1), "malformed_row"),  # orjson: out of range
    (_other(REPORT).replace('"note":"', '"note":["', 1).replace('","agent"', '"],"agent"', 1), None),
])
def test_hostile_json_lines_are_rows_of_the_quarantine_not_tracebacks(
        tmp_path: Path, city: CityProfile, sources: dict, gate: Gate, line: str, reason: str | None) -> None:
    path = tmp_path / "in" / "municipal_reports_x.jsonl"
    path.parent.mkdir()
    path.write_text(REPORT + "\n" + line + "\n", encoding="utf-8")
    [report] = ingest([path], store=ParquetStore(tmp_path / "s", zone_ids=city.zone_ids), city=city,
                      sources=sources, gate=gate, now=NOW)
    assert "X" in line and report.rows_read == 2 and report.admitted == (1 if reason else 2)
    assert report.reasons == ({reason: 1} if reason else {})


def test_a_column_named_like_a_reserved_one_and_an_unknown_one_refuse_the_file_naming_it(
        tmp_path: Path, city: CityProfile, sources: dict, gate: Gate) -> None:
    store = ParquetStore(tmp_path / "s", zone_ids=city.zone_ids)
    for header, message in ((";__row", "reserved"), (";0612345678", "named by no privacy policy")):
        lines = PATROLS.splitlines()
        path = tmp_path / "in" / "patrols_z.csv"
        path.parent.mkdir(exist_ok=True)
        path.write_text("\n".join([lines[0] + header, *(x + ";1" for x in lines[1:])]) + "\n", encoding="utf-8")
        with pytest.raises(ObservatoireError, match=message) as err:
            ingest([path], store=store, city=city, sources=sources, gate=gate, now=NOW)
        assert str(path) in str(err.value) and "0612345678" not in str(err.value)


def test_a_header_name_with_a_line_break_in_quotes_is_no_crash(city: CityProfile, sources: dict, gate: Gate) -> None:
    """Found by bench/fuzz.py: a quoted header name spanning two lines ("taux_pour_mille" + a line break, read as
    the field) escaped the string typing; an empty column of it was then of Arrow's null type."""
    lines = (SAMPLES / "ssmsi_sample.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(";")
    i = header.index("taux_pour_mille")
    header[i] = '"taux_pour_mille\n"'
    rows = [";".join("" if j == i else cell for j, cell in enumerate(line.split(";"))) for line in lines[1:]]
    data = "\n".join([";".join(header), *rows]).encode()
    ingest_hostile("ssmsi", "ssmsi_fuzz.csv", data, city=city, sources=sources, gate=gate)
