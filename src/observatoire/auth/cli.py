"""``observatoire users ...`` and ``observatoire tokens ...``: local accounts and API tokens.

Passwords are read from a hidden prompt (typed twice) or, with ``--password-stdin``,
from the first line of standard input; never from an argument. Every change is
audited with actor ``cli:<os user>``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from observatoire.errors import ObservatoireError
from observatoire.settings import Settings
from observatoire.governance.audit import cli_actor

users_app = typer.Typer(help="Local accounts: login, role, password (argon2), disabled flag.",
                        no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
tokens_app = typer.Typer(help="API tokens for machines: shown once, stored hashed, with role and expiry.",
                         no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
out = Console(width=None if sys.stdout.isatty() else 160)

AuthOpt = Annotated[Optional[Path], typer.Option("--auth", help="Accounts folder (default: $OBSERVATOIRE_AUTH "
                                                                "or var/auth).")]
AuditOpt = Annotated[Optional[Path], typer.Option("--audit", help="Audit log folder (default: $OBSERVATOIRE_AUDIT "
                                                                  "or var/audit).")]
StdinOpt = Annotated[bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")]


def _context(auth_dir: Path | None, audit_dir: Path | None) -> tuple[Settings, object, object]:
    from observatoire.auth.service import Auth

    settings = Settings.from_env(auth_dir=auth_dir, audit_dir=audit_dir)
    return settings, Auth.from_settings(settings), settings.audit_log()


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def _fail(exc: ObservatoireError) -> None:
    console.print(f"[red]error:[/red] {exc}")
    raise typer.Exit(1)


def _account_change(audit: object, login: str, change: str, **detail: object) -> None:
    audit.record("account_change", actor=cli_actor(), role="admin", dataset="accounts",  # type: ignore[attr-defined]
                 detail={"login": login, "change": change, **detail})


@users_app.command("add")
def users_add(login: str, role: Annotated[str, typer.Option("--role", help="analyst, operator, supervisor, dpo, "
                                                                            "auditor or admin")],
              password_stdin: StdinOpt = False, auth: AuthOpt = None, audit: AuditOpt = None) -> None:
    """Create an account."""
    _, a, log = _context(auth, audit)
    try:
        a.accounts.add(login, role, _password(password_stdin))  # type: ignore[attr-defined]
    except ObservatoireError as exc:
        _fail(exc)
    _account_change(log, login, "created", new_role=role)
    console.print(f"account {login} created with the role {role}")


@users_app.command("passwd")
def users_passwd(login: str, password_stdin: StdinOpt = False, auth: AuthOpt = None, audit: AuditOpt = None) -> None:
    """Set a new password (the account's open sessions end)."""
    _, a, log = _context(auth, audit)
    try:
        a.accounts.set_password(login, _password(password_stdin))  # type: ignore[attr-defined]
    except ObservatoireError as exc:
        _fail(exc)
    a.sessions.close_login(login)  # type: ignore[attr-defined]
    _account_change(log, login, "password")
    console.print(f"password of {login} changed")


@users_app.command("role")
def users_role(login: str, role: str, auth: AuthOpt = None, audit: AuditOpt = None) -> None:
    """Give an account another role (its open sessions end)."""
    _, a, log = _context(auth, audit)
    try:
        before = a.accounts.get(login)  # type: ignore[attr-defined]
        a.accounts.set_role(login, role)  # type: ignore[attr-defined]
    except ObservatoireError as exc:
        _fail(exc)
    a.sessions.close_login(login)  # type: ignore[attr-defined]
    _account_change(log, login, "role", old_role=before.role if before else None, new_role=role)
    console.print(f"{login} now has the role {role}")


@users_app.command("disable")
def users_disable(login: str, enable: Annotated[bool, typer.Option("--enable", help="Enable again instead.")] = False,
                  auth: AuthOpt = None, audit: AuditOpt = None) -> None:
    """Disable an account (it cannot log in; its open sessions end), or enable it again."""
    _, a, log = _context(auth, audit)
    try:
        a.accounts.set_disabled(login, not enable)  # type: ignore[attr-defined]
    except ObservatoireError as exc:
        _fail(exc)
    a.sessions.close_login(login)  # type: ignore[attr-defined]
    _account_change(log, login, "enabled" if enable else "disabled")
    console.print(f"{login} {'enabled' if enable else 'disabled'}")


@users_app.command("list")
def users_list(auth: AuthOpt = None, audit: AuditOpt = None) -> None:
    """Every account (never a hash)."""
    _, a, _ = _context(auth, audit)
    table = Table("login", "role", "disabled", "created", "changed")
    for acc in a.accounts.list():  # type: ignore[attr-defined]
        table.add_row(acc.login, acc.role, "yes" if acc.disabled else "", acc.created_at[:19], acc.changed_at[:19])
    out.print(table)


@tokens_app.command("issue")
def tokens_issue(name: str, role: Annotated[str, typer.Option("--role")],
                 days: Annotated[Optional[int], typer.Option("--days", help="Lifetime (default from auth.toml)")] = None,
                 auth: AuthOpt = None, audit: AuditOpt = None) -> None:
    """Issue a token; its secret is printed once, on stdout, and never stored."""
    _, a, log = _context(auth, audit)
    try:
        token, secret = a.tokens.issue(name, role, issued_by=cli_actor(), days=days)  # type: ignore[attr-defined]
    except ObservatoireError as exc:
        _fail(exc)
    log.record("token_issued", actor=cli_actor(), role="admin", dataset="tokens",  # type: ignore[attr-defined]
               detail={"token_id": token.id, "token_role": token.role, "expires_at": token.expires_at})
    console.print(f"token {token.id} ({token.role}) expires {token.expires_at[:10]}; its secret (shown once):")
    print(secret)


@tokens_app.command("revoke")
def tokens_revoke(token_id: str, auth: AuthOpt = None, audit: AuditOpt = None) -> None:
    """Revoke a token for good."""
    _, a, log = _context(auth, audit)
    try:
        a.tokens.revoke(token_id)  # type: ignore[attr-defined]
    except ObservatoireError as exc:
        _fail(exc)
    log.record("token_revoked", actor=cli_actor(), role="admin", dataset="tokens",  # type: ignore[attr-defined]
               detail={"token_id": token_id})
    console.print(f"token {token_id} revoked")


@tokens_app.command("list")
def tokens_list(auth: AuthOpt = None, audit: AuditOpt = None) -> None:
    """Every token issued (never a secret)."""
    _, a, _ = _context(auth, audit)
    table = Table("id", "name", "role", "issued by", "issued", "expires", "revoked")
    for t in a.tokens.list():  # type: ignore[attr-defined]
        table.add_row(t.id, t.name, t.role, t.issued_by, t.issued_at[:19], t.expires_at[:19], (t.revoked_at or "")[:19])
    out.print(table)
