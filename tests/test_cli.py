"""The command line: help that explains, and bad input that gets one clear line and a non-zero exit."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write

GOOD = ("numero;date_heure;date_saisie;adresse;longitude;latitude;categorie;origine;recit;agent;personnes_impliquees\n"
        "MC-1;01/03/2025 14:05;;;5,3790;43,2920;Violences;appel_usager;récit;PM0421;\n")


def run(*args: str, store: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OBSERVATOIRE_STORE": str(store), "OBSERVATOIRE_KEYS": str(store.parent / "keys" / "k.key"),
           "OBSERVATOIRE_AUDIT": str(store.parent / "audit"), "OBSERVATOIRE_HOLDS": str(store.parent / "holds.json"),
           "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "observatoire.cli", *args], env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("command, words", [
    ("simulate", "Simulate every source"), ("ingest", "privacy gate"), ("serve", "Serve the API"),
    ("demo", "Simulate three years of Marseille"), ("purge", "past its retention"), ("audit", "tamper-evident"),
    ("holds", "Legal holds"),
])
def test_every_command_explains_itself(tmp_path: Path, command: str, words: str) -> None:
    out = run(command, "--help", store=tmp_path)
    assert out.returncode == 0 and words in out.stdout


@pytest.fixture(scope="module")
def seeded_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One store for all bad-input cases: each checks that it is left exactly as it was."""
    tmp = tmp_path_factory.mktemp("seeded")
    store = tmp / "store"
    ok = run("ingest", str(write(tmp, "mains_courantes_ok.csv", GOOD)), store=store)
    assert ok.returncode == 0, ok.stderr
    return store


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    binary = tmp_path / "mains_courantes_bin.csv"
    binary.write_bytes(b"\x00\x01\x02PK\x03\x04" * 100)
    wrong = write(tmp_path, "mains_courantes_wrong.csv", "a;b;c\n1;2;3\n")
    unknown = write(tmp_path, "export_2025.csv", GOOD)
    return {
        "unreadable file": ([str(binary)], "binary content"),
        "wrong schema": ([str(wrong)], "missing column(s) numero"),
        "unknown source by name": ([str(unknown)], "no single source recognises"),
        "unknown source named": (["--source", "facebook_friends", str(write(tmp_path, "x.csv", GOOD))],
                                 "unknown source 'facebook_friends'"),
        "missing file": ([str(tmp_path / "nope.csv")], "no such file"),
        "one bad file among good ones": ([str(write(tmp_path, "d/mains_courantes_2.csv", GOOD.replace("MC-1", "MC-2"))),
                                          str(wrong)], "missing column(s)"),
    }


@pytest.mark.parametrize("case", ["unreadable file", "wrong schema", "unknown source by name",
                                  "unknown source named", "missing file", "one bad file among good ones"])
def test_when_ingest_gets_bad_input_then_one_clear_line_a_nonzero_exit_and_an_untouched_store(
        tmp_path: Path, seeded_store: Path, case: str) -> None:
    args, message = _bad_inputs(tmp_path)[case]
    manifest = (seeded_store / "manifest.json").read_bytes()
    files = sorted(p for p in seeded_store.rglob("*") if p.is_file())
    out = run("ingest", *args, store=seeded_store)
    assert out.returncode != 0
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], out.stderr
    assert "Traceback" not in out.stderr
    assert (seeded_store / "manifest.json").read_bytes() == manifest
    assert sorted(p for p in seeded_store.rglob("*") if p.is_file()) == files


def test_ingest_prints_rows_read_admitted_and_quarantined_per_file(tmp_path: Path) -> None:
    text = GOOD + "MC-2;99/99/2025 14:05;;;5,3790;43,2920;Violences;appel_usager;r;PM0421;\n"
    path = write(tmp_path, "mains_courantes_x.csv", text)
    out = run("ingest", str(path), store=tmp_path / "s")
    assert out.returncode == 0
    # the file as the store and the audit log know it: its source and digest, never the name it came with
    stored = f"mains_courantes-{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}.csv"
    row = next(line for line in out.stderr.splitlines() if stored in line)
    assert [c.strip() for c in row.split("│")[1:-1]][:6] == [stored, "mains_courantes", "2", "1", "1", "committed"]
    assert "mains_courantes_x" not in out.stderr


def test_keys_init_then_rotate_from_the_command_line(tmp_path: Path) -> None:
    env = {**os.environ, "OBSERVATOIRE_KEYS": str(tmp_path / "keys" / "k.key"),
           "OBSERVATOIRE_AUDIT": str(tmp_path / "audit"), "COLUMNS": "200"}
    cmd = [sys.executable, "-m", "observatoire.cli", "keys"]
    first = subprocess.run(cmd + ["init"], env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0 and "created key ring" in first.stderr
    again = subprocess.run(cmd + ["init"], env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "already exists" in again.stderr
    rotated = subprocess.run(cmd + ["rotate", "--forget-old"], env=env, capture_output=True, text=True, timeout=60)
    assert rotated.returncode == 0 and "old keys destroyed" in rotated.stderr
    key_file = (tmp_path / "keys" / "k.key").read_text()
    for out in (first, rotated):  # the command says which key, never the key itself
        assert not any(len(tok) >= 32 and tok in key_file for tok in out.stderr.split())


def test_a_home_directory_holds_every_state_path_and_a_named_path_still_wins(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from observatoire.settings import Settings

    monkeypatch.delenv("OBSERVATOIRE_HOME", raising=False)
    monkeypatch.delenv("OBSERVATOIRE_STORE", raising=False)
    s = Settings.from_env(home=tmp_path)
    assert (s.store_dir, s.key_path, s.audit_dir, s.auth_dir, s.registry_dir, s.evaluations_dir, s.holds_path) == (
        tmp_path / "store", tmp_path / "keys" / "pseudonym.key", tmp_path / "audit", tmp_path / "auth",
        tmp_path / "registry", tmp_path / "evaluations", tmp_path / "holds.json")
    monkeypatch.setenv("OBSERVATOIRE_HOME", str(tmp_path / "env"))
    assert Settings.from_env().auth_dir == tmp_path / "env" / "auth"
    assert Settings.from_env(store_dir=tmp_path / "elsewhere").store_dir == tmp_path / "elsewhere"


def test_the_demo_makes_one_account_per_role_once_listed_privately(tmp_path: Path, monkeypatch) -> None:
    import io
    import stat

    from rich.console import Console

    import observatoire.cli as cli

    from observatoire.auth.roles import ACCOUNT_ROLES
    from observatoire.auth.service import Auth
    from observatoire.cli import _demo_accounts
    from tests.api.conftest import governance_settings

    printed = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=printed, width=120))
    settings = governance_settings(tmp_path)
    _demo_accounts(settings)
    listing = settings.auth_dir / "demo-accounts.txt"
    first = listing.read_text(encoding="utf-8")
    assert stat.S_IMODE(listing.stat().st_mode) == 0o600
    assert [line.split("\t")[:2] for line in first.splitlines()[1:]] == [[f"demo-{r}", r] for r in ACCOUNT_ROLES]
    assert sorted(a.login for a in Auth.from_settings(settings).accounts.list()) == sorted(
        f"demo-{r}" for r in ACCOUNT_ROLES)
    _demo_accounts(settings)   # run again: the same accounts, printed again
    assert listing.read_text(encoding="utf-8") == first
    assert printed.getvalue().count("demo-admin") == 2


def _main(monkeypatch, capsys, *argv: str) -> tuple[int, str]:
    import observatoire.cli as cli

    monkeypatch.setattr(sys, "argv", ["observatoire", *argv])
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out + out.err


def test_a_usage_error_is_one_message_and_exit_2(monkeypatch, capsys) -> None:
    monkeypatch.delenv("OBSERVATOIRE_DEBUG", raising=False)
    code, out = _main(monkeypatch, capsys, "release", "build")
    assert code == 2 and "Missing option '--period'" in out and "Traceback" not in out


def test_an_unexpected_failure_names_its_type_and_place_never_its_message(monkeypatch, capsys) -> None:
    import pyarrow as pa

    import observatoire.cli as cli

    def cast() -> None:
        pa.array(["0612345678 Jean DUPONT"]).cast(pa.int64())    # Arrow quotes the cell in its message

    monkeypatch.delenv("OBSERVATOIRE_DEBUG", raising=False)
    app = __import__("typer").Typer()
    app.callback()(lambda: None)                                      # a group: "cast" is a command
    app.command("cast")(cast)
    monkeypatch.setattr(cli, "app", app)
    code, out = _main(monkeypatch, capsys, "cast")
    assert code == 1 and "internal error: ArrowInvalid" in out
    assert "0612345678" not in out and "DUPONT" not in out and "Traceback" not in out
