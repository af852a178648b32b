"""Accounts, passwords, sessions and tokens on disk: argon2id, re-hash on login, private files,
no session id or token secret stored; and the CLI."""

from __future__ import annotations

import stat
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from observatoire.auth.accounts import Accounts
from observatoire.auth.cli import tokens_app, users_app
from observatoire.auth.config import load_auth_config
from observatoire.auth.passwords import Passwords
from observatoire.auth.sessions import Sessions
from observatoire.auth.throttle import Throttle
from observatoire.auth.tokens import Tokens
from observatoire.errors import InputError
from observatoire.governance.audit import AuditLog

from conftest import FAST_AUTH_TOML, PASSWORD, Clock


@pytest.fixture()
def auth_dir(tmp_path: Path) -> Path:
    root = tmp_path / "auth"
    root.mkdir(mode=0o700)
    (root / "auth.toml").write_text(FAST_AUTH_TOML)
    return root


def test_passwords_are_argon2id_and_rehashed_at_login_when_parameters_change(auth_dir: Path) -> None:
    clock = Clock()
    config = load_auth_config(auth_dir)
    accounts = Accounts(auth_dir, Passwords(config), clock)
    first = accounts.add("alice", "analyst", PASSWORD)
    assert first.password_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert accounts.authenticate("alice", PASSWORD).password_hash == first.password_hash   # same parameters
    stronger = Accounts(auth_dir, Passwords(replace(config, argon2_time_cost=2)), clock)
    assert stronger.authenticate("alice", "wrong password!") is None
    assert stronger.get("alice").password_hash == first.password_hash                    # no re-hash on failure
    assert stronger.authenticate("alice", PASSWORD) is not None
    assert stronger.get("alice").password_hash.startswith("$argon2id$v=19$m=8,t=2,p=1$")
    with pytest.raises(InputError, match="at least 12"):
        accounts.add("bob", "analyst", "short")
    with pytest.raises(InputError, match="unknown role"):
        accounts.add("bob", "root", PASSWORD)
    with pytest.raises(InputError, match="already exists"):
        accounts.add("alice", "analyst", PASSWORD)


def test_state_files_are_private_atomic_and_hold_no_usable_secret(auth_dir: Path) -> None:
    clock = Clock()
    Accounts(auth_dir, Passwords(load_auth_config(auth_dir)), clock).add("alice", "analyst", PASSWORD)
    sessions = Sessions(auth_dir, clock, absolute_s=3600, idle_s=600)
    session_id, record = sessions.open("alice", "analyst")
    _, secret = Tokens(auth_dir, clock).issue("job", "analyst", issued_by="test")
    for name in ("accounts.json", "sessions.json", "tokens.json"):
        path = auth_dir / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        text = path.read_text()
        assert PASSWORD not in text and session_id not in text and secret.split("_", 2)[2] not in text
    assert not [p for p in auth_dir.iterdir() if p.name.startswith(".") and not p.name.endswith(".lock")]
    assert sessions.get(session_id) == record and sessions.get(session_id + "x") is None
    assert sessions.close(session_id) and sessions.get(session_id) is None


def test_throttle_locks_per_address_too_and_forgets_by_clock() -> None:
    clock = Clock()
    t = Throttle(clock, free_per_login=5, free_per_address=3, base_s=10, max_s=40, forget_s=3600)
    for i in range(3):                                    # three different logins from one address
        t.failure([f"login:user{i}", "addr:10.0.0.1"])
    assert t.retry_after(["login:other", "addr:10.0.0.1"]) == 10
    assert t.retry_after(["login:other", "addr:10.0.0.2"]) == 0
    for _ in range(5):
        t.failure(["addr:10.0.0.1"])
    assert t.retry_after(["addr:10.0.0.1"]) == 40          # capped
    clock.advance(hours=2)
    t.failure(["addr:10.0.0.1"])                          # an hour without failure: counting starts again
    assert t.retry_after(["addr:10.0.0.1"]) == 0


def test_cli_manages_accounts_and_tokens_and_audits_each_change(tmp_path: Path, auth_dir: Path) -> None:
    runner = CliRunner()
    audit_dir = tmp_path / "audit"
    common = ["--auth", str(auth_dir), "--audit", str(audit_dir)]
    r = runner.invoke(users_app, ["add", "alice", "--role", "analyst", "--password-stdin", *common],
                      input=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(users_app, ["add", "bob", "--role", "dpo", *common], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert r.exit_code == 0, r.output
    assert runner.invoke(users_app, ["role", "alice", "supervisor", *common]).exit_code == 0
    assert runner.invoke(users_app, ["disable", "bob", *common]).exit_code == 0
    r = runner.invoke(users_app, ["passwd", "alice", "--password-stdin", *common], input="short\n")
    assert r.exit_code == 1 and "at least 12" in r.output
    listed = runner.invoke(users_app, ["list", *common]).output
    assert "alice" in listed and "supervisor" in listed and "yes" in listed and "argon2" not in listed
    issued = runner.invoke(tokens_app, ["issue", "nightly", "--role", "analyst", "--days", "7", *common])
    secret = issued.stdout.strip().splitlines()[-1]
    assert issued.exit_code == 0 and secret.startswith("obs_")
    token_id = secret.split("_")[1]
    assert runner.invoke(tokens_app, ["revoke", token_id, *common]).exit_code == 0
    assert "nightly" in runner.invoke(tokens_app, ["list", *common]).output
    assert runner.invoke(tokens_app, ["revoke", "nope", *common]).exit_code == 1
    log = AuditLog(audit_dir)
    assert [e["action"] for e in log.entries()] == ["account_change"] * 4 + ["token_issued", "token_revoked"]
    assert all(e["actor"].startswith("cli:") for e in log.entries()) and log.verify().ok
    assert all(PASSWORD not in p.read_text() for p in (audit_dir / "log").glob("*.jsonl"))
