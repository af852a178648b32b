"""The manifest: the only list of files that belong to the store.

Readers see exactly the files the manifest lists; a file on disk that the
manifest does not list (left by a crash) does not exist for them. The manifest
is replaced atomically (write to a temporary file, fsync, ``os.replace``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from observatoire.errors import StoreError
from observatoire.statefiles import write_json

MANIFEST_VERSION = 1


@dataclass(slots=True)
class Manifest:
    generation: int = 0
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    reference: dict[str, dict[str, Any]] = field(default_factory=dict)
    rollup: dict[str, Any] | None = None        # the RollupSpec every batch's rollups are made with
    # Files a change took out of the store, kept on disk for queries planned on an earlier generation until
    # ``after`` (seconds since the epoch, wall clock): [{"file": rel, "after": t}].
    superseded: list[dict[str, Any]] = field(default_factory=list)

    def files(self, kind: str, source: str | None = None) -> list[str]:
        """Relative paths of the ``kind`` files (events | quarantine), optionally of one source."""
        return [
            f
            for b in self.batches.values()
            if source is None or b["source"] == source
            for f in b["files"].get(kind, [])
        ]

    def all_files(self) -> set[str]:
        listed = {f for b in self.batches.values() for fs in b["files"].values() for f in fs}
        return listed | {r["file"] for r in self.reference.values()}

    def kept_files(self) -> set[str]:
        """The listed files and the superseded ones still kept for earlier readers (what a writer must not remove)."""
        return self.all_files() | {s["file"] for s in self.superseded}

    def to_json(self) -> dict[str, Any]:
        doc = {"manifest_version": MANIFEST_VERSION, "generation": self.generation,
               "batches": self.batches, "reference": self.reference}
        if self.rollup is not None:
            doc["rollup"] = self.rollup
        if self.superseded:
            doc["superseded"] = self.superseded
        return doc


def read_manifest(path: Path) -> Manifest:
    if not path.exists():
        return Manifest()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise StoreError(f"store manifest {path} is unreadable ({type(exc).__name__})") from exc
    if doc.get("manifest_version") != MANIFEST_VERSION:
        raise StoreError(f"store manifest {path} has version {doc.get('manifest_version')}, "
                         f"expected {MANIFEST_VERSION}")
    return Manifest(generation=int(doc["generation"]), batches=doc["batches"], reference=doc["reference"],
                    rollup=doc.get("rollup"), superseded=list(doc.get("superseded", [])))


def write_manifest(path: Path, manifest: Manifest) -> None:
    """Replace the manifest atomically and durably (the commit point of every store change)."""
    write_json(path, manifest.to_json())
