"""The source extension point.

A source reads one kind of export into a *raw* Arrow table (every column of
the file, plus ``__row``), and turns the table the privacy gate admitted into
canonical events (or a reference table). What the gate does with each raw
field is the source's privacy policy (``gate/policies.toml``), not the
source's code. A source never sees the store and never writes anywhere.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal, Protocol

import pyarrow as pa

if TYPE_CHECKING:
    from observatoire.city.profile import CityProfile

ROW = "__row"      # 1-based data row (CSV, header excluded) or line (JSON Lines) of the source file
EXTRA = "__extra"  # JSON Lines: comma-separated paths of keys the source does not read (the gate refuses them)


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """What the gate checks a kept field against, from the connector: the closed list of a ``keep:vocabulary``
    field (or extra spellings another check accepts, e.g. "NA" for a number), and the quarantine reason of a
    value that fails, where the gate's ``invalid_value`` says too little (a camera event type outside the
    decree is a legal refusal; ``bad_commune`` says what a data steward must fix)."""

    values: tuple[str, ...]
    reason: str = "invalid_value"
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class RawFile:
    """A source file as read: declared columns (+ ``__row``) and the rows that could not be parsed."""

    table: pa.Table
    malformed_rows: list[int]


@dataclass(frozen=True, slots=True)
class Context:
    """What a source needs to canonicalise one batch."""

    city: "CityProfile"
    batch_id: str
    source_file: str
    ingested_at: datetime
    retention_days: int | None
    references: Mapping[str, pa.Table]     # reference tables already in the store (e.g. cctv_cameras)


@dataclass(frozen=True, slots=True)
class Canonical:
    """A source's output for one batch: events or a reference table, and the refused rows."""

    events: pa.Table | None
    reference: pa.Table | None
    quarantine: pa.Table


class Source(Protocol):
    name: ClassVar[str]
    kind: ClassVar[Literal["events", "reference"]]
    patterns: ClassVar[tuple[str, ...]]          # file-name globs that identify the source
    needs: ClassVar[tuple[str, ...]]             # reference tables that must be in the store first
    # Optional: closed lists of the fields the policy keeps as ``keep:vocabulary`` (or extra spellings a
    # number accepts); the gate checks every kept value against them before the connector sees it.
    vocabularies: ClassVar[Mapping[str, Collection[str] | Vocabulary]]

    def read(self, path: Path, timezone: str) -> RawFile:
        """The raw table (declared columns, strings or parsed values, and ``__row``) and malformed rows."""
        ...

    def canonicalise(self, admitted: pa.RecordBatch, ctx: Context) -> Canonical:
        """Canonical events (or a reference table) and quarantine rows from the admitted table."""
        ...
