"""Where releases live, immutable, and the privacy ledger read from them.

Layout under ``settings.releases_dir`` (apart from the store: retention and purges never touch it)::

    <id>/manifest.json        the release manifest (public): period, mechanism, parameters, privacy loss,
                              code version, creation time, SHA-256 of each file
    <id>/release.json         the published tables (public)
    <id>/zones.csv, city.csv  the same, for spreadsheets (";" separated, UTF-8)
    <id>/zones.geojson        the zones' table with their boundaries
    .private/<id>.json        the noisy measurement the tables were made from, and the SHA-256 of the exact
                              input (never served: kept to reproduce and verify the release)

A release is written under ``.staging/`` and moved into place with one rename, its files read-only (0444);
an id that exists is never written again. Builds take ``.lock`` so that two of them cannot both spend the last
of a year's budget.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from observatoire.errors import InputError, StoreError
from observatoire.statefiles import ensure_private_dir, fsync_dir, locked, write_json

RELEASE_ID = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
PUBLIC_FILES = ("release.json", "zones.csv", "city.csv", "zones.geojson")


class ReleaseArchive:
    """The releases of one deployment.

    A release never changes once published, so what is read of it is read once: its manifest, its tables and the
    public answer made of both (:meth:`document`, the bytes ``GET /api/v1/public/releases/{id}`` serves), kept
    per release and checked against its files' identity (a release folder replaced by hand is read again). The
    list of releases is re-read when the folder changes. ``memo=False`` reads everything at each call.
    """

    def __init__(self, root: Path, *, memo: bool = True) -> None:
        self.root = Path(root)
        self._memo = memo
        self._ids: tuple[tuple[int, int], list[str]] | None = None
        self._read: dict[tuple[str, str], tuple[Any, bytes]] = {}

    # -- reading ---------------------------------------------------------------------------------------
    def ids(self) -> list[str]:
        """Published release ids, oldest first."""
        try:
            st = self.root.stat()
        except FileNotFoundError:
            return []
        key = (st.st_ino, st.st_mtime_ns)   # a release is renamed into place: the folder's mtime changes
        if self._memo and self._ids is not None and self._ids[0] == key:
            return list(self._ids[1])
        if not self.root.is_dir():
            return []
        ids = sorted(p.name for p in self.root.iterdir() if RELEASE_ID.match(p.name) and (p / "manifest.json").is_file())
        self._ids = (key, ids)
        return list(ids)

    def exists(self, release_id: str) -> bool:
        return release_id in self.ids()

    def _dir(self, release_id: str) -> Path:
        if not isinstance(release_id, str) or not RELEASE_ID.match(release_id) or not self.exists(release_id):
            raise InputError(f"no published release {str(release_id)[:20]!r}")
        return self.root / release_id

    def _bytes(self, release_id: str, name: str) -> bytes:
        return self._file(release_id, name)[1]

    def _file(self, release_id: str, name: str) -> tuple[Any, bytes]:
        """A release's file and its identity, read once while it is the same file (a release never changes)."""
        path = self._dir(release_id) / name
        st = path.stat()
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        kept = self._read.get((release_id, name)) if self._memo else None
        if kept is None or kept[0] != key:
            kept = (key, path.read_bytes())
            if self._memo:
                self._read[(release_id, name)] = kept
        return kept

    def manifest(self, release_id: str) -> dict[str, Any]:
        return json.loads(self._bytes(release_id, "manifest.json"))

    def manifests(self) -> list[dict[str, Any]]:
        return [self.manifest(i) for i in self.ids()]

    def tables(self, release_id: str) -> dict[str, Any]:
        return json.loads(self._bytes(release_id, "release.json"))

    def document(self, release_id: str) -> bytes:
        """The public answer about one release, ``{"manifest": ..., "tables": ...}`` as JSON, made once from its
        published files: never recomputed, never noised again (the numbers are the published ones)."""
        (mkey, manifest), (tkey, tables) = self._file(release_id, "manifest.json"), self._file(release_id, "release.json")
        key = (mkey, tkey)                           # the identity of the files it is made of
        kept = self._read.get((release_id, ":document")) if self._memo else None
        if kept is None or kept[0] != key:
            kept = (key, orjson.dumps({"manifest": json.loads(manifest), "tables": json.loads(tables)}))
            if self._memo:
                self._read[(release_id, ":document")] = kept
        return kept[1]

    def path(self, release_id: str, name: str) -> Path:
        """The path of a public file of a release (InputError for any other name)."""
        if name not in PUBLIC_FILES:
            raise InputError(f"a release has no file {name[:40]!r}; files: {', '.join(PUBLIC_FILES)}")
        return self._dir(release_id) / name

    def measurement(self, release_id: str) -> dict[str, Any]:
        """The private measurement of a release (for verification; never served)."""
        self._dir(release_id)
        return json.loads((self.root / ".private" / f"{release_id}.json").read_text(encoding="utf-8"))

    # -- the ledger -----------------------------------------------------------------------------------
    def spent(self, year: int) -> float:
        """The privacy loss of the releases whose month lies in ``year``."""
        return sum(float(m["privacy_loss"]["epsilon"]) for m in self.manifests()
                   if m["period"]["month"].startswith(f"{year:04d}-"))

    def ledger(self, annual_budget: float) -> dict[str, Any]:
        """Every release's privacy loss, per measured table and in total, with the sums per year."""
        entries, years = [], {}
        for m in self.manifests():
            loss = m["privacy_loss"]
            entries.append({"release": m["id"], "month": m["period"]["month"], "created_at": m["created_at"],
                            "mechanism": m["mechanism"]["name"], "epsilon": loss["epsilon"], "delta": loss["delta"],
                            "tables": loss["tables"]})
            year = m["period"]["month"][:4]
            years[year] = years.get(year, 0.0) + float(loss["epsilon"])
        return {"unit": "one record (event)", "composition": "sequential within a calendar year: months are "
                "disjoint, so each record is measured once; the yearly sum bounds a person with one record a "
                "month (a person with n records in one month is protected at n times that month's epsilon)",
                "annual_budget": annual_budget, "releases": entries,
                "years": [{"year": y, "epsilon_spent": round(s, 12), "epsilon_left": round(annual_budget - s, 12)}
                          for y, s in sorted(years.items())]}

    # -- writing --------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """One build at a time (threads and processes)."""
        ensure_private_dir(self.root)
        with locked(self.root / "builds"):
            yield

    def write(self, release_id: str, files: Mapping[str, bytes], manifest: Mapping[str, Any],
              measurement: Mapping[str, Any]) -> Path:
        """Publish a release: private measurement first, then the public folder in one rename, read-only.

        Raises
        ------
        InputError
            When the release exists already (a release never changes).
        """
        if not RELEASE_ID.match(release_id):
            raise InputError(f"invalid release id {release_id[:20]!r}")
        final = self.root / release_id
        if final.exists():
            raise InputError(f"release {release_id} is already published; a release never changes")
        write_json(self.root / ".private" / f"{release_id}.json", dict(measurement))
        staging = ensure_private_dir(self.root / ".staging") / release_id
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        for name, data in {**files, "manifest.json": _json_bytes(manifest)}.items():
            with open(staging / name, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(staging / name, 0o444)
        fsync_dir(staging)
        try:
            os.rename(staging, final)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise StoreError(f"release {release_id} could not be put in place ({type(exc).__name__})") from None
        fsync_dir(self.root)
        return final


def _json_bytes(doc: Any) -> bytes:
    return (json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
