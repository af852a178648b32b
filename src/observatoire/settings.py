"""Settings, built at the entry point (CLI ``main`` or ``create_app``) and passed down.

Nothing here reads the environment at import time; :meth:`Settings.from_env`
is called explicitly by entry points.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from observatoire.city.profile import CityProfile, load_city

# Default retention per source, in days, counted from when the facts occurred.
# Starting points for the data-protection officer, not legal advice: CCTV
# analytics and social posts are short-lived; logbooks follow the municipal
# police's usual five years; hospital records are kept one year at event level.
DEFAULT_RETENTION_DAYS: Mapping[str, int] = MappingProxyType({
    "mains_courantes": 5 * 365,
    "verbalisations": 3 * 365,
    "municipal_reports": 3 * 365,
    "cctv_events": 30,
    "hospital": 365,
    "social_media": 30,
    "planned_events": 5 * 365,
    "police_uk": 5 * 365,       # published open data; kept like the logbook
})


@dataclass(frozen=True, slots=True)
class Settings:
    store_dir: Path = Path("var/store")
    city_path: Path | None = None                    # None: the packaged default (Marseille)
    # The pseudonymisation key ring lives apart from the store (never inside it).
    key_path: Path = Path("var/keys/pseudonym.key")
    policy_path: Path | None = None                  # None: the packaged gate/policies.toml
    spacy_model: str = "fr_core_news_sm"
    rules_path: Path | None = None                   # None: the packaged analytics/rules.toml
    retention_days: Mapping[str, int] = field(default_factory=lambda: DEFAULT_RETENTION_DAYS)
    # Governance state, each kept apart from the store: the hash-chained audit log and its
    # checkpoint signing key, local accounts / sessions / API tokens, registered evaluation plans.
    audit_dir: Path = Path("var/audit")
    auth_dir: Path = Path("var/auth")
    evaluations_dir: Path = Path("var/evaluations")
    registry_dir: Path = Path("var/registry")        # rule versions, proposals, approvals, alert feedback
    holds_path: Path = Path("var/holds.json")        # legal holds (records kept past their retention)
    retention_path: Path | None = None               # None: the packaged governance/retention.toml
    # OpenID Connect: when an issuer is configured, "Log in with ..." is offered beside local accounts.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    # Session cookies are marked Secure unless explicitly relaxed (plain-http local demo and tests).
    secure_cookies: bool = True
    # The one clock of the process (retention, sessions, audit timestamps); tests freeze it.
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # Fault injection for the crash test: seconds to pause after each staged file.
    test_write_delay_s: float = 0.0

    @classmethod
    def from_env(cls, **overrides: object) -> "Settings":
        """Settings from ``OBSERVATOIRE_*`` variables, then explicit overrides."""
        env: dict[str, object] = {}
        if v := os.environ.get("OBSERVATOIRE_STORE"):
            env["store_dir"] = Path(v)
        if v := os.environ.get("OBSERVATOIRE_CITY"):
            env["city_path"] = Path(v)
        if v := os.environ.get("OBSERVATOIRE_KEYS"):
            env["key_path"] = Path(v)
        if v := os.environ.get("OBSERVATOIRE_RULES"):
            env["rules_path"] = Path(v)
        if v := os.environ.get("OBSERVATOIRE_POLICIES"):
            env["policy_path"] = Path(v)
        if v := os.environ.get("OBSERVATOIRE_AUDIT"):
            env["audit_dir"] = Path(v)
        if v := os.environ.get("OBSERVATOIRE_AUTH"):
            env["auth_dir"] = Path(v)
        if v := os.environ.get("OBSERVATOIRE_EVALUATIONS"):
            env["evaluations_dir"] = Path(v)
        if v := os.environ.get("OBSERVATOIRE_REGISTRY"):
            env["registry_dir"] = Path(v)
        if v := os.environ.get("OBSERVATOIRE_HOLDS"):
            env["holds_path"] = Path(v)
        if v := os.environ.get("OBSERVATOIRE_RETENTION"):
            env["retention_path"] = Path(v)
        if v := os.environ.get("OBSERVATOIRE_OIDC_ISSUER"):
            env["oidc_issuer"] = v
        if v := os.environ.get("OBSERVATOIRE_OIDC_CLIENT_ID"):
            env["oidc_client_id"] = v
        if v := os.environ.get("OBSERVATOIRE_OIDC_CLIENT_SECRET"):
            env["oidc_client_secret"] = v
        if v := os.environ.get("OBSERVATOIRE_SECURE_COOKIES"):
            env["secure_cookies"] = v.strip().lower() not in {"0", "false", "no"}
        if v := os.environ.get("OBSERVATOIRE_TEST_WRITE_DELAY_S"):
            env["test_write_delay_s"] = float(v)
        env.update({k: val for k, val in overrides.items() if val is not None})
        return cls(**env)  # type: ignore[arg-type]

    def city(self) -> CityProfile:
        return load_city(self.city_path)

    def gate(self, *, create_keys: bool = False):  # -> Gate; imports kept lazy (spaCy is heavy)
        """The privacy gate: policies, the key ring and the French PII scrubber."""
        from observatoire.gate.admit import Gate, LazyScrubber
        from observatoire.gate.pii import Scrubber
        from observatoire.gate.policy import load_policies
        from observatoire.gate.pseudonym import load_keyring

        if self.store_dir.resolve() in self.key_path.resolve().parents:
            from observatoire.errors import InputError

            raise InputError(f"the key ring {self.key_path} must not live inside the store {self.store_dir}")
        return Gate(load_policies(self.policy_path), load_keyring(self.key_path, create=create_keys),
                    LazyScrubber(lambda: Scrubber(model=self.spacy_model)))

    def store(self, city: CityProfile | None = None):  # -> ParquetStore; typed loosely to keep imports lazy
        from observatoire.store.parquet import ParquetStore

        city = city or self.city()
        return ParquetStore(self.store_dir, zone_ids=city.zone_ids, write_delay_s=self.test_write_delay_s)
