"""Authentication settings: the packaged ``auth.toml``, overridden by ``<auth_dir>/auth.toml``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from observatoire.auth.roles import check_role
from observatoire.configfile import read_toml
from observatoire.errors import InputError


@dataclass(frozen=True, slots=True)
class Purpose:
    """A purpose a request may declare, and the roles that may declare it."""

    name: str
    description: str
    roles: frozenset[str]


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """Every tunable of :mod:`observatoire.auth` (see ``auth.toml`` for the meaning of each)."""

    session_absolute_s: float = 12 * 3600
    session_idle_s: float = 30 * 60
    session_touch_s: float = 60
    token_default_days: int = 90
    token_max_days: int = 366
    password_min_length: int = 12
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    free_failures_per_login: int = 5
    free_failures_per_address: int = 20
    throttle_base_s: float = 30
    throttle_max_s: float = 3600
    throttle_forget_s: float = 3600
    purposes: Mapping[str, Purpose] = field(default_factory=dict)
    recipients: Mapping[str, str] = field(default_factory=dict)     # code -> description (exports)
    oidc_scope: str = "openid profile email"
    oidc_role_claim: str = "groups"
    oidc_login_claim: str = "preferred_username"
    oidc_roles: Mapping[str, str] = field(default_factory=dict)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def load_auth_config(auth_dir: Path | None = None) -> AuthConfig:
    """The packaged settings, overridden by ``auth_dir/auth.toml`` when it exists."""
    raw, _ = read_toml(None, "observatoire.auth", "auth.toml", "access settings")
    if auth_dir is not None and (auth_dir / "auth.toml").is_file():
        raw = _merge(raw, read_toml(auth_dir / "auth.toml", "observatoire.auth", "auth.toml", "access settings")[0])
    try:
        s, t, p, th, o = raw["sessions"], raw["tokens"], raw["passwords"], raw["throttle"], raw.get("oidc", {})
        purposes = {name: Purpose(name, str(v.get("description", "")), frozenset(check_role(r) for r in v["roles"]))
                    for name, v in raw.get("purposes", {}).items()}
        roles = {str(k): check_role(str(v)) for k, v in o.get("roles", {}).items()}
        return AuthConfig(
            session_absolute_s=float(s["absolute_hours"]) * 3600, session_idle_s=float(s["idle_minutes"]) * 60,
            session_touch_s=float(s["touch_seconds"]),
            token_default_days=int(t["default_days"]), token_max_days=int(t["max_days"]),
            password_min_length=int(p["min_length"]), argon2_time_cost=int(p["time_cost"]),
            argon2_memory_kib=int(p["memory_kib"]), argon2_parallelism=int(p["parallelism"]),
            free_failures_per_login=int(th["free_failures_per_login"]),
            free_failures_per_address=int(th["free_failures_per_address"]),
            throttle_base_s=float(th["base_seconds"]), throttle_max_s=float(th["max_seconds"]),
            throttle_forget_s=float(th["forget_after_seconds"]),
            purposes=MappingProxyType(purposes),
            recipients=MappingProxyType({str(k): str(v) for k, v in raw.get("recipients", {}).items()}),
            oidc_scope=str(o.get("scope", "openid profile email")), oidc_role_claim=str(o.get("role_claim", "groups")),
            oidc_login_claim=str(o.get("login_claim", "preferred_username")), oidc_roles=MappingProxyType(roles),
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"auth.toml: missing or invalid setting ({type(exc).__name__}: {exc})") from None
