"""The authentication services of one process, built from the settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from observatoire.auth.accounts import Accounts
from observatoire.auth.config import AuthConfig, load_auth_config
from observatoire.auth.counters import COUNTERS_FILE, Counters
from observatoire.statefiles import ensure_private_dir
from observatoire.auth.oidc import OidcClient
from observatoire.auth.passwords import Passwords
from observatoire.auth.sessions import Sessions
from observatoire.auth.throttle import Throttle
from observatoire.auth.tokens import Tokens
from observatoire.errors import InputError


@dataclass(slots=True)
class Auth:
    """Accounts, sessions, tokens, throttle and (when configured) the OIDC client, sharing one clock."""

    config: AuthConfig
    accounts: Accounts
    sessions: Sessions
    tokens: Tokens
    throttle: Throttle
    oidc: OidcClient | None
    secure_cookies: bool
    counters: Counters | None = None        # shared by the server's processes (the throttle's, the tally's)

    @classmethod
    def from_settings(cls, settings: Any, config: AuthConfig | None = None) -> "Auth":
        """Everything under ``settings.auth_dir`` (created 0700 at the first write), clocked by ``settings.clock``."""
        config = config or load_auth_config(settings.auth_dir)
        root, clock = settings.auth_dir, settings.clock
        oidc = None
        if settings.oidc_issuer:
            if not settings.oidc_client_id:
                raise InputError("oidc_issuer is set but oidc_client_id is not")
            oidc = OidcClient(settings.oidc_issuer, settings.oidc_client_id, settings.oidc_client_secret,
                              clock=clock, scope=config.oidc_scope, role_claim=config.oidc_role_claim,
                              login_claim=config.oidc_login_claim, roles=config.oidc_roles)
        counters = Counters(root / COUNTERS_FILE)
        return cls(
            config=config,
            accounts=Accounts(root, Passwords(config), clock),
            sessions=Sessions(root, clock, absolute_s=config.session_absolute_s, idle_s=config.session_idle_s,
                              touch_s=config.session_touch_s),
            tokens=Tokens(root, clock, default_days=config.token_default_days, max_days=config.token_max_days),
            throttle=Throttle(clock, free_per_login=config.free_failures_per_login,
                              free_per_address=config.free_failures_per_address, base_s=config.throttle_base_s,
                              max_s=config.throttle_max_s, forget_s=config.throttle_forget_s,
                              counters=counters),
            oidc=oidc,
            secure_cookies=settings.secure_cookies,
            counters=counters,
        )

    def ensure_dir(self) -> None:
        """Create the auth folder (mode 0700)."""
        ensure_private_dir(self.accounts.path.parent)
