"""Readers and parsers for what real French exports contain.

CSV: UTF-8 (with or without BOM) or Windows-1252, ``;`` or ``,`` delimiter,
empty cells as nulls, every column read as a string and parsed explicitly.
JSON Lines: one object per line, read with orjson; a line that is not an
object is reported, not fatal. Parsers return the parsed array and a mask of
values that were present but invalid, so callers quarantine them with a reason.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from observatoire.errors import SchemaError, UnreadableFileError
from observatoire.sources.base import EXTRA, ROW, RawFile

UTF8_BOM = b"\xef\xbb\xbf"
GZIP_MAGIC = b"\x1f\x8b"
MAX_UNCOMPRESSED_BYTES = 2 << 30     # a national open-data file is about 0.5 GiB of CSV


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, decompressed when it is gzip (recognised by its magic number, not its name)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UnreadableFileError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__})") from exc
    if not data.startswith(GZIP_MAGIC):
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
            out = gz.read(MAX_UNCOMPRESSED_BYTES + 1)
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError; EOFError: truncated
        raise UnreadableFileError(f"{path}: not a complete gzip file ({type(exc).__name__}); "
                                  "download it again") from exc
    if len(out) > MAX_UNCOMPRESSED_BYTES:
        raise UnreadableFileError(f"{path}: decompresses to more than {MAX_UNCOMPRESSED_BYTES >> 20} MiB")
    return out


def _decode(data: bytes, path: Path) -> str:
    """Text of an export: UTF-16 with its byte-order mark, UTF-8 (any number of leading BOMs), else
    Windows-1252. Line endings become ``\n`` (CR-only files of old spreadsheets, CRLF of Windows)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):     # UTF-16 (Excel's "Unicode text")
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise UnreadableFileError(f"{path}: not valid UTF-16 text") from None
    else:
        while data.startswith(UTF8_BOM):
            data = data[len(UTF8_BOM):]
        if b"\x00" in data[:4096]:
            raise UnreadableFileError(f"{path}: binary content, not a text export")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    text = text.lstrip("\ufeff")
    if "\x00" in text:
        raise UnreadableFileError(f"{path}: binary content, not a text export")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_csv(path: Path, columns: Sequence[str], optional: Sequence[str] = ()) -> RawFile:
    """Read a delimited export as strings; refuse it when a required column is missing.

    Every column of the file is kept (the privacy gate decides what passes);
    ``optional`` columns absent from the file are added as nulls.
    """
    text = _decode(_read_bytes(path), path)
    text = text.lstrip("\n")           # blank lines before the header: the header is the first line with text
    header = text.split("\n", 1)[0]
    if not header.strip():
        raise UnreadableFileError(f"{path}: empty file, no header")
    if not text.endswith("\n"):
        text += "\n"                  # a header-only file without a final newline is still a file of no rows
    delimiter = ";" if header.count(";") >= header.count(",") else ","
    bad_lines: list[int] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad_lines.append(row.number if row.number is not None else -1)
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(block_size=1 << 24, use_threads=False),  # threads lose line numbers
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in next(csv.reader([header], delimiter=delimiter), [])},
                strings_can_be_null=True, null_values=[""], quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        # never the parser's message: it quotes the offending cells
        raise UnreadableFileError(f"{path}: not a readable CSV export ({type(exc).__name__})") from None
    # A column the header's parse did not type (an empty one, a name the parser spelled differently) is a string.
    table = pa.table([c if pa.types.is_string(c.type) else c.cast(pa.string()) for c in table.columns],
                     names=table.column_names)
    names = [n.strip().lstrip("\ufeff") for n in table.column_names]
    if any(n.startswith("__") for n in names):
        raise SchemaError(f"{path}: a column name starts with '__', which is reserved")
    table = table.rename_columns(names)
    missing = [c for c in columns if c not in names]
    if missing:
        raise SchemaError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(columns)}")
    if len(set(names)) != len(names):
        raise SchemaError(f"{path}: a column name is repeated in the header")
    for c in optional:
        if c not in names:
            table = table.append_column(c, pa.nulls(table.num_rows, pa.string()))
    # Data rows are numbered from 1 after the header; physical line = data row + 1 (no multi-line values).
    malformed = sorted(n - 1 for n in bad_lines)
    total = table.num_rows + len(malformed)
    rows = np.setdiff1d(np.arange(1, total + 1), np.asarray(malformed, dtype=np.int64))[: table.num_rows]
    return RawFile(table.append_column(ROW, pa.array(rows, pa.int64())), malformed)


def read_jsonl(path: Path, fields: Mapping[str, str]) -> RawFile:
    """Read JSON Lines; ``fields`` maps output column -> dotted path in each object (e.g. ``geo.lon``).

    Values come out as strings (numbers in their JSON spelling); a missing key is null.
    Keys no field reads are listed per row in ``__extra``, for the gate to refuse. A line that is not an
    object, or nests deeper than ``MAX_DEPTH`` levels, is a malformed row.
    """
    text = _decode(_read_bytes(path), path)
    objects: list[dict] = []
    rows: list[int] = []
    malformed: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            obj = None
        if isinstance(obj, dict) and _shallow(obj):
            objects.append(obj)
            rows.append(number)
        else:
            malformed.append(number)
    if not rows and malformed:
        raise UnreadableFileError(f"{path}: no line is a JSON object; not a JSON Lines export")
    columns = {col: _column(objects, dotted.split(".")) for col, dotted in fields.items()}
    table = pa.table(columns)
    known = set(fields.values())
    prefixes = {p for dotted in known for p in _prefixes(dotted)}
    extra = [",".join(_undeclared(o, "", known, prefixes)) or None for o in objects]
    table = table.append_column(EXTRA, pa.array(extra, pa.string()))
    return RawFile(table.append_column(ROW, pa.array(rows, pa.int64())), malformed)


MAX_DEPTH = 32   # no export nests deeper; orjson cannot write a value back beyond 254 levels


def _shallow(obj: object) -> bool:
    """Whether ``obj`` nests at most MAX_DEPTH levels (iteratively: a hostile line cannot exhaust the stack).
    A deeper line is malformed: its values could not be spelled back as JSON for the gate."""
    stack = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return True


def _prefixes(dotted: str) -> list[str]:
    parts = dotted.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _undeclared(obj: dict, base: str, known: set[str], prefixes: set[str]) -> list[str]:
    """Dotted paths of the keys of ``obj`` that no declared field reads (nulls ignored)."""
    out = []
    for key, value in obj.items():
        path = f"{base}{key}"
        if path in known or value is None:
            continue
        if path in prefixes and isinstance(value, dict):
            out += _undeclared(value, path + ".", known, prefixes)
        else:
            out.append(path)
    return out


def _column(objects: list[dict], keys: list[str]) -> pa.Array:
    values: list[object]
    if len(keys) == 1:
        key = keys[0]
        values = [o.get(key) for o in objects]
    else:
        values = []
        for o in objects:
            v: object = o
            for k in keys:
                v = v.get(k) if isinstance(v, dict) else None
            values.append(v)
    try:
        arr = pa.array(values)
        if pa.types.is_string(arr.type) or pa.types.is_null(arr.type):
            return arr.cast(pa.string())
        if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type) or pa.types.is_boolean(arr.type):
            return arr.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    # Mixed or nested values: their JSON spelling, parsed (or refused) by the field's parser.
    return pa.array([v if isinstance(v, str) or v is None else orjson.dumps(v).decode() for v in values], pa.string())


# -- value parsers: (parsed, invalid) where invalid = present but unparseable ------------------

def _invalid(raw: pa.Array, parsed: pa.Array) -> np.ndarray:
    present = pc.and_(pc.is_valid(raw), pc.not_equal(pc.utf8_trim_whitespace(pc.fill_null(raw, "")), ""))
    return np.asarray(pc.and_(present, pc.is_null(parsed)).to_numpy(zero_copy_only=False), dtype=bool)


def parse_decimal(raw: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Numbers with a decimal comma or point (``5,374`` / ``5.374``); thousands spaces removed."""
    cleaned = pc.replace_substring_regex(pc.utf8_trim_whitespace(raw), "[\\s\u00a0\u202f]", "")
    cleaned = pc.replace_substring(cleaned, ",", ".")
    ok = pc.match_substring_regex(cleaned, r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
    parsed = pc.if_else(pc.fill_null(ok, False), cleaned, pa.scalar(None, pa.string())).cast(pa.float64())
    return parsed, _invalid(raw, parsed)


def parse_int(raw: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Integers of up to 9 digits, signed or not (Arrow's cast refuses a leading ``+``: it is dropped first)."""
    cleaned = pc.replace_substring_regex(pc.utf8_trim_whitespace(raw), r"^\+", "")
    ok = pc.fill_null(pc.match_substring_regex(cleaned, r"^-?\d{1,9}$"), False)
    parsed = pc.if_else(ok, cleaned, pa.scalar(None, pa.string())).cast(pa.int64())
    return parsed, _invalid(raw, parsed)


def parse_local(raw: pa.Array, timezone: str, formats: Sequence[str],
                ambiguous: str = "earliest") -> tuple[pa.Array, np.ndarray]:
    """Local date-times in ``timezone`` -> UTC.

    An ambiguous time (the repeated hour of the autumn change) is read as the
    ``ambiguous`` instant (``earliest`` or ``latest``); a nonexistent time (the
    skipped hour of the spring change) is moved forward to the change.
    """
    cleaned = pc.utf8_trim_whitespace(raw)
    parsed = None
    for fmt in formats:
        attempt = pc.strptime(cleaned, format=fmt, unit="us", error_is_null=True)
        parsed = attempt if parsed is None else pc.coalesce(parsed, attempt)
    local = pc.assume_timezone(parsed, timezone=timezone, ambiguous=ambiguous, nonexistent="latest")
    utc = local.cast(pa.timestamp("us", tz="UTC"))
    return utc, _invalid(raw, utc)


def parse_iso(raw: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """ISO 8601 timestamps with an offset or ``Z`` -> UTC; a timestamp without offset is invalid."""
    cleaned = pc.utf8_trim_whitespace(raw)
    parsed = None
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%dT%H:%M%z"):
        attempt = pc.strptime(pc.replace_substring_regex(cleaned, r"\.\d+", ""), format=fmt, unit="us",
                              error_is_null=True)
        parsed = attempt if parsed is None else pc.coalesce(parsed, attempt)
    parsed = parsed.cast(pa.timestamp("us", tz="UTC"))
    return parsed, _invalid(raw, parsed)


def join_date_time(date: pa.Array, time: pa.Array) -> pa.Array:
    """``date`` + ``' '`` + ``time`` where time is present, else the date alone."""
    both = pc.binary_join_element_wise(pc.utf8_trim_whitespace(date), pc.utf8_trim_whitespace(time), " ")
    return pc.coalesce(both, date)


def extract_postcode(address: pa.Array) -> pa.Array:
    """The French postcode (5 digits) written in a free-text address, or null."""
    found = pc.extract_regex(pc.fill_null(address, ""), r"(?P<cp>\b\d{5}\b)")
    return pc.struct_field(found, "cp")
