"""The make targets keep what the README promises: `make test` runs every test and doctest (CI calls it),
`make check` leaves out only the slow and browser marks, and `make bench` runs every bench the README cites."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine")


def _dry_run(target: str) -> list[str]:
    """The commands ``make <target>`` would run (nothing is run)."""
    out = subprocess.run(["make", "-n", "--no-print-directory", target], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def _pytest_line(target: str) -> str:
    [line] = [x for x in _dry_run(target) if " -m pytest" in x]
    return line


@needs_make
def test_make_bench_runs_every_bench_the_readme_cites() -> None:
    cited = sorted(set(re.findall(r"bench/[A-Za-z0-9_]+\.py", README)))
    assert "bench/throughput.py" in cited and "bench/query_latency.py" in cited
    commands = " ".join(_dry_run("bench"))
    for bench in cited:
        assert (ROOT / bench).is_file(), bench
        assert re.search(rf"(^|\s){re.escape(bench)}(\s|;|$)", commands), f"make bench does not run {bench}"


@needs_make
def test_make_test_runs_everything_and_make_check_leaves_out_only_slow_and_browser() -> None:
    assert _pytest_line("test").split(" -m pytest", 1)[1].strip() == ""
    assert _pytest_line("check").endswith('-m pytest -m "not slow and not browser"')
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test\b", ci, re.M)                     # CI runs the README's test command
    assert re.search(r"^make test\b", README, re.M) and "make check" in README


def test_docstring_examples_run_as_doctests_and_the_marks_are_declared() -> None:
    ini = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    assert "--doctest-modules" in ini["addopts"].split()
    assert "src/observatoire" in ini["testpaths"] and "tests" in ini["testpaths"]
    assert "--strict-markers" in ini["addopts"].split()
    assert {m.split(":")[0] for m in ini["markers"]} >= {"slow", "browser"}
