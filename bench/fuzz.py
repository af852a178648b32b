"""The connector fuzz campaign: hostile exports of every source, at scale.

The strategies of ``tests/fuzz_exports.py`` (the suite ``tests/test_fuzz_connectors.py`` runs them a few
dozen times per connector in ``make test``), here ``--cases`` times per connector (default 100,000, as the
reliability issue asks; hours on two cores: pass fewer to sample). Each case goes through the ingest's
whole preparation (read, gate, canonicalise, validate, de-duplicate: ``ingest.pipeline._prepare``, which
also asserts rows read = admitted + quarantined); one case in ``--full-every`` is ingested for real into a
fresh store, and a refused one must leave the store byte-identical. A crash is any exception other than
the documented refusal of a file (``ObservatoireError``); the table prints the counts and the first crash.

    .venv/bin/python bench/fuzz.py [--cases 100000] [--sources patrols,hospital] [--full-every 500]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from observatoire.city.profile import load_city  # noqa: E402
from observatoire.errors import ObservatoireError  # noqa: E402
from observatoire.gate.admit import Gate, LazyScrubber  # noqa: E402
from observatoire.gate.pii import Scrubber  # noqa: E402
from observatoire.gate.policy import load_policies  # noqa: E402
from observatoire.gate.pseudonym import init_keyring  # noqa: E402
from observatoire.ingest.pipeline import _prepare, ingest  # noqa: E402
from observatoire.sources.registry import load_sources  # noqa: E402
from observatoire.store.parquet import ParquetStore  # noqa: E402
from tests.fuzz_exports import SAMPLE_OF, SAMPLES, hostile_export, snapshot  # noqa: E402
from tests.test_fuzz_connectors import ingest_hostile  # noqa: E402

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def campaign(source: str, cases: int, full_every: int, *, city, sources, gate, work: Path) -> dict:
    store = ParquetStore(work / f"store-{source}", zone_ids=city.zone_ids)
    for need in sources[source].needs:
        ingest([SAMPLES / SAMPLE_OF[need]], store=store, city=city, sources=sources, gate=gate, now=NOW,
               source_name=need)
    references = {n: store.reference(n).to_pyarrow() for n in sources[source].needs}
    counts = {"cases": 0, "prepared": 0, "refused": 0, "crashed": 0, "full": 0, "first_crash": ""}
    path = work / "in" / SAMPLE_OF[source].replace("_sample", "_fuzz")
    path.parent.mkdir(exist_ok=True)

    @settings(max_examples=cases, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(export=hostile_export(source))
    def one(export: tuple[str, bytes]) -> None:
        counts["cases"] += 1
        name, data = export
        try:
            if full_every and counts["cases"] % full_every == 0:
                counts["full"] += 1
                ingest_hostile(source, name, data, city=city, sources=sources, gate=gate)
                counts["prepared"] += 1
                return
            path.write_bytes(data)
            _prepare(path, sources[source], store=store, city=city, gate=gate, now=NOW, retention=None,
                     references=references)
            counts["prepared"] += 1
        except ObservatoireError:
            counts["refused"] += 1
        except Exception:  # noqa: BLE001 - what the campaign counts
            counts["crashed"] += 1
            if not counts["first_crash"]:
                counts["first_crash"] = traceback.format_exc(limit=-3)

    one()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--sources", default=",".join(sorted(SAMPLE_OF)))
    parser.add_argument("--full-every", type=int, default=500)
    args = parser.parse_args()
    console = Console()
    city, sources = load_city(), load_sources()
    table = Table(title=f"Connector fuzz campaign ({args.cases:,} cases per connector)")
    for col in ("source", "cases", "prepared", "refused (one line)", "full ingests", "crashed", "cases/s"):
        table.add_column(col, justify="right")
    crashes = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        gate = Gate(load_policies(), init_keyring(work / "keys" / "pseudonym.key"), LazyScrubber(Scrubber))
        for source in args.sources.split(","):
            t0 = time.perf_counter()
            c = campaign(source, args.cases, args.full_every, city=city, sources=sources, gate=gate, work=work)
            rate = c["cases"] / (time.perf_counter() - t0)
            table.add_row(source, f"{c['cases']:,}", f"{c['prepared']:,}", f"{c['refused']:,}", f"{c['full']:,}",
                          f"{c['crashed']:,}", f"{rate:,.0f}")
            if c["first_crash"]:
                crashes.append((source, c["first_crash"]))
    console.print(table)
    for source, tb in crashes:
        console.print(f"[bold]{source}[/bold]: first crash\n{tb}", markup=True, highlight=False)
    sys.exit(1 if crashes else 0)


if __name__ == "__main__":
    main()
