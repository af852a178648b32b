"""The benchmarks still run (on tiny inputs): a bench that no longer runs proves nothing."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.mark.slow
@pytest.mark.parametrize("script, args", [
    ("throughput.py", ["--scale", "0.01"]),
    ("gate_structured.py", ["--scale", "0.01"]),
    ("etas.py", ["--sizes", "2000"]),
    ("pii_work.py", ["--passes", "1"]),
    ("feedback_loop_power.py", ["2"]),
    ("evaluation_coverage.py", ["--reps", "2"]),
    ("fairness_calibration.py", ["--reps", "2"]),
    ("fuzz.py", ["--cases", "20", "--sources", "patrols,cctv_events", "--full-every", "10"]),
    ("query_latency.py", ["--events", "100000", "--repeat", "2"]),   # the NER timings only (the instruction count takes minutes)
])
def test_bench_script_runs_and_prints_its_table(script: str, args: list[str]) -> None:
    out = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip()


@pytest.mark.slow
def test_release_utility_bench_prints_its_tables() -> None:
    """The release gate's utility bench, quick (scale 0.1, two months, ε 0.25 and 1, one repetition): ~30 s."""
    out = subprocess.run([sys.executable, str(BENCH / "release_utility.py"), "--quick"], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    for heading in ("Absolute error", "Relative error", "suppressed", "Spearman", "wall time"):
        assert heading in out.stdout, heading
    assert re.search(r"(KEEPS|does NOT keep) Spearman ≥ 0\.95", out.stdout)   # the verdict on the defaults
