"""The source extension point.

A source reads one kind of export into a *raw* Arrow table (every column of
the file, plus ``__row``), and turns the table the privacy gate admitted into
canonical events (or a reference table). What the gate does with each raw
field is the source's privacy policy (``gate/policies.toml``), not the
source's code. A source never sees the store and never writes anywhere.

Everything else the observatory knows about a source is declared once, on its
connector, as a :class:`SourceDescriptor`: the fields it reads with their
privacy roles, the typed attributes its events carry, its French label, how its
incidents come to be known, its retention (or an explicit "no limit" and why),
its entry in the register of processing activities, its documented sample and
its documentation. The event schema, the policies' completeness check, the
retention table, the register and the labels are built from the registered
descriptors (``sources/registry.py``), which refuses an incomplete one at load
time.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal, Protocol

import pyarrow as pa

if TYPE_CHECKING:
    from observatoire.city.profile import CityProfile

ROW = "__row"      # 1-based data row (CSV, header excluded) or line (JSON Lines) of the source file
EXTRA = "__extra"  # JSON Lines: comma-separated paths of keys the source does not read (the gate refuses them)

# What kind of field a source reads (docs/sources.md, *role*): the gate's action on it (the policy) must fit
# (gate/policy.py: ROLE_ACTIONS).
#   key         the record's own key (a logbook number, a post id): stored only as a keyed digest
#   data        a value kept after its check (a time, a number, a code, a word of a closed list), or dropped
#   identifier  a direct identifier of a person (a plate, an officer's number, an author): pseudonymised or dropped
#   free_text   text that may contain personal data: scrubbed, or dropped
#   forbidden   a field the export must never carry (an image, a face, a follower list): the row is refused
#   group       a person's group (perceived origin, age band, sex: statistics mostly unlawful in France): a row
#               carrying one is refused, unless the deployment keeps it with a legal basis (or chooses to drop it)
Role = Literal["key", "data", "identifier", "free_text", "forbidden", "group"]
ROLES: tuple[str, ...] = ("key", "data", "identifier", "free_text", "forbidden", "group")

# How a source's incidents come to be known, for the evaluation plans (evaluation/plans.py): an outcome must be
# recorded independently of the deployment it evaluates.
#   independent  recorded whatever the institutions do (hospital admissions, residents' posts)
#   mixed        independent only for the events whose ``discovery`` is ``independent`` (the logbook)
#   directed     found where the institutions direct patrols or cameras (fines, reports, detections)
#   planned      known in advance (a calendar): never an outcome
DiscoveryNature = Literal["independent", "mixed", "directed", "planned"]
DISCOVERY_NATURES: tuple[str, ...] = ("independent", "mixed", "directed", "planned")

# The documented samples of the packaged sources (docs/samples/, beside docs/sources.md). A path, never read here.
DOCS = Path(__file__).parents[3] / "docs"


@dataclass(frozen=True, slots=True)
class Retention:
    """How long a source's records are kept, counted from when the facts occurred: ``days``, or no limit
    (``days`` None) with the ``reason`` the register gives for it. The operator's ``retention.toml`` may
    shorten or lengthen a period; it never has to name a source for it to have one."""

    days: int | None
    reason: str | None = None

    @classmethod
    def no_limit(cls, reason: str) -> "Retention":
        """No time limit, for a stated reason (published aggregates, an equipment registry)."""
        return cls(None, reason)


@dataclass(frozen=True, slots=True)
class Processing:
    """The source's entry in the register of processing activities (``regulator/processing.yaml`` may amend it):
    how the register names the data, the legal basis (None: left for the DPO to complete, and flagged as such),
    whom the data concern (empty: no personal data) and who receives them."""

    label: str
    legal_basis: str | None
    data_subjects: tuple[str, ...]
    recipients: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Sample:
    """A documented export of the source that is admitted whole, and the city profile its places belong to
    (None: the packaged default city)."""

    path: Path
    city: "Callable[[], CityProfile] | None" = None


@dataclass(frozen=True, slots=True)
class SourceDescriptor:
    """What the observatory knows of a source besides its code, declared once on its connector.

    ``fields``: every field the connector reads or derives, and every field it knows the export must never
    carry, with its privacy role (:data:`ROLES`). ``attributes``: the typed struct of the source's own fields in
    ``events.attributes`` (event sources; None for a reference table). ``discovery``: how its incidents come to
    be known (:data:`DISCOVERY_NATURES`; event sources only). ``doc``: the page that documents the format field
    by field.
    """

    label: str                                  # French display name (pages, the public portal)
    fields: Mapping[str, Role]
    retention: Retention
    processing: Processing
    sample: Sample
    doc: Path
    attributes: pa.StructType | None = None
    discovery: DiscoveryNature | None = None


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
    name: ClassVar[str]                          # [a-z][a-z0-9_]*: the prefix of its event ids, a store partition
    kind: ClassVar[Literal["events", "reference"]]
    patterns: ClassVar[tuple[str, ...]]          # file-name globs that identify the source
    needs: ClassVar[tuple[str, ...]]             # reference tables that must be in the store first
    descriptor: ClassVar[SourceDescriptor]       # everything else the observatory knows of it
    # Optional: closed lists of the fields the policy keeps as ``keep:vocabulary`` (or extra spellings a
    # number accepts); the gate checks every kept value against them before the connector sees it.
    vocabularies: ClassVar[Mapping[str, Collection[str] | Vocabulary]]

    def read(self, path: Path, timezone: str) -> RawFile:
        """The raw table (declared columns, strings or parsed values, and ``__row``) and malformed rows."""
        ...

    def canonicalise(self, admitted: pa.RecordBatch, ctx: Context) -> Canonical:
        """Canonical events (or a reference table) and quarantine rows from the admitted table."""
        ...
