"""The closed list of roles.

``public`` is the role of an anonymous visitor; accounts and tokens carry one of the others.
"""

from __future__ import annotations

from observatoire.errors import InputError

ROLES: tuple[str, ...] = ("public", "analyst", "operator", "supervisor", "dpo", "auditor", "admin")
ACCOUNT_ROLES: tuple[str, ...] = ROLES[1:]


def check_role(role: str) -> str:
    """``role`` if it is one an account or token may hold, else InputError."""
    if role not in ACCOUNT_ROLES:
        raise InputError(f"unknown role {role[:20]!r}; known: {', '.join(ACCOUNT_ROLES)}")
    return role
