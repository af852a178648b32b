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
from functools import lru_cache
from typing import Any, Mapping

from observatoire.city.profile import CityProfile, load_city


@lru_cache(maxsize=1)
def _packaged_retention_days() -> Mapping[str, int]:
    """Default retention per source, in days (the packaged ``governance/retention.toml``)."""
    from observatoire.governance.retention import load_retention_days

    return load_retention_days(None)


@dataclass(frozen=True, slots=True)
class Settings:
    store_dir: Path = Path("var/store")
    city_path: Path | None = None                    # None: the packaged default (Marseille)
    # The pseudonymisation key ring lives apart from the store (never inside it).
    key_path: Path = Path("var/keys/pseudonym.key")
    policy_path: Path | None = None                  # None: the packaged gate/policies.toml
    spacy_model: str = "fr_core_news_sm"
    rules_path: Path | None = None                   # None: the packaged registry/rules/*.yaml; else a directory of YAML rules
    # Retention per source in days; default: retention_path, else the packaged governance/retention.toml.
    retention_days: Mapping[str, int] = field(default_factory=_packaged_retention_days)
    # Governance state, each kept apart from the store: the hash-chained audit log and its
    # checkpoint signing key, local accounts / sessions / API tokens, registered evaluation plans.
    audit_dir: Path = Path("var/audit")
    # The audit log's anchors of trust, each outside audit_dir (docs/audit.md): the checkpoint signing key (None:
    # <audit_dir>-signing/checkpoint.key), the pinned public keys verification trusts (files or sha256:
    # fingerprints; none: the signing key's own public half), the DPO's append-only witness file (None:
    # <audit_dir>-witness/witness.jsonl), and an RFC 3161 timestamp authority with its certificate.
    audit_signing_key: Path | None = None
    audit_trusted_keys: tuple[str, ...] = ()
    audit_witness: Path | None = None
    audit_tsa_url: str | None = None
    audit_tsa_cert: Path | None = None
    auth_dir: Path = Path("var/auth")
    evaluations_dir: Path = Path("var/evaluations")
    registry_dir: Path = Path("var/registry")        # rule versions, proposals, approvals, alert feedback
    holds_path: Path = Path("var/holds.json")        # legal holds (records kept past their retention)
    retention_path: Path | None = None               # None: the packaged governance/retention.toml
    # Public releases (immutable, apart from the store) and the release gate's configuration.
    releases_dir: Path = Path("var/releases")
    release_path: Path | None = None                 # None: the packaged release/release.toml
    # The audits' configuration (area groups, flag band, need): a deployment's own file, else the packaged
    # audits/audits.toml (Marseille's illustrative groups).
    audits_path: Path | None = None
    # OpenID Connect: when an issuer is configured, "Log in with ..." is offered beside local accounts.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    # Session cookies are marked Secure unless explicitly relaxed (plain-http local demo and tests).
    secure_cookies: bool = True
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or networks); none by
    # default: else anyone could name their own address and walk around the login throttle.
    trusted_proxies: tuple[str, ...] = ()
    # The one clock of the process (retention, sessions, audit timestamps); tests freeze it.
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # How long files a purge (or new rollups, a new reference table) took out of the store stay on disk for the
    # queries planned before it, in any process; longer than the slowest query (the API's bounds keep those
    # under a minute). The purge then deletes them (docs/retention.md).
    superseded_grace_s: float = 120.0
    # Fault injection for the crash test: seconds to pause after each staged file.
    test_write_delay_s: float = 0.0

    def __post_init__(self) -> None:
        if self.retention_path is not None and self.retention_days is _packaged_retention_days():
            from observatoire.governance.retention import load_retention_days

            object.__setattr__(self, "retention_days", load_retention_days(self.retention_path))

    @classmethod
    def from_env(cls, home: Path | None = None, **overrides: object) -> "Settings":
        """Settings from ``OBSERVATOIRE_*`` variables, then explicit overrides.

        ``home`` (or ``OBSERVATOIRE_HOME``) puts every state path under one directory, as the demo
        lays it out: ``store/``, ``keys/pseudonym.key``, ``audit/``, ``auth/``, ``registry/``,
        ``evaluations/``, ``holds.json``, ``releases/``; a specific variable or override still wins.
        """
        env: dict[str, object] = {}
        root = home or (Path(v) if (v := os.environ.get("OBSERVATOIRE_HOME")) else None)
        if root is not None:
            env.update(cls.layout(Path(root)))
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
        if v := os.environ.get("OBSERVATOIRE_AUDIT_SIGNING_KEY"):
            env["audit_signing_key"] = Path(v)
        if v := os.environ.get("OBSERVATOIRE_AUDIT_TRUSTED_KEYS"):
            env["audit_trusted_keys"] = tuple(x.strip() for x in v.split(",") if x.strip())
        if v := os.environ.get("OBSERVATOIRE_AUDIT_WITNESS"):
            env["audit_witness"] = Path(v)
        if v := os.environ.get("OBSERVATOIRE_AUDIT_TSA"):
            env["audit_tsa_url"] = v
        if v := os.environ.get("OBSERVATOIRE_AUDIT_TSA_CERT"):
            env["audit_tsa_cert"] = Path(v)
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
        if v := os.environ.get("OBSERVATOIRE_RELEASES"):
            env["releases_dir"] = Path(v)
        if v := os.environ.get("OBSERVATOIRE_RELEASE_CONFIG"):
            env["release_path"] = Path(v)
        if v := os.environ.get("OBSERVATOIRE_AUDITS"):
            env["audits_path"] = Path(v)
        if v := os.environ.get("OBSERVATOIRE_TRUSTED_PROXIES"):
            env["trusted_proxies"] = tuple(x.strip() for x in v.split(",") if x.strip())
        if v := os.environ.get("OBSERVATOIRE_OIDC_ISSUER"):
            env["oidc_issuer"] = v
        if v := os.environ.get("OBSERVATOIRE_OIDC_CLIENT_ID"):
            env["oidc_client_id"] = v
        if v := os.environ.get("OBSERVATOIRE_OIDC_CLIENT_SECRET"):
            env["oidc_client_secret"] = v
        if v := os.environ.get("OBSERVATOIRE_SECURE_COOKIES"):
            env["secure_cookies"] = v.strip().lower() not in {"0", "false", "no"}
        if v := os.environ.get("OBSERVATOIRE_SUPERSEDED_GRACE_S"):
            env["superseded_grace_s"] = float(v)
        if v := os.environ.get("OBSERVATOIRE_TEST_WRITE_DELAY_S"):
            env["test_write_delay_s"] = float(v)
        env.update({k: val for k, val in overrides.items() if val is not None})
        return cls(**env)  # type: ignore[arg-type]

    @staticmethod
    def layout(home: Path) -> dict[str, Path]:
        """Every state path of a deployment kept under one directory ``home``."""
        return {"store_dir": home / "store", "key_path": home / "keys" / "pseudonym.key",
                "audit_dir": home / "audit", "auth_dir": home / "auth", "registry_dir": home / "registry",
                "evaluations_dir": home / "evaluations", "holds_path": home / "holds.json",
                "releases_dir": home / "releases"}

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
                    LazyScrubber(lambda: _kept(Scrubber(model=self.spacy_model))))

    def store(self, city: CityProfile | None = None):  # -> ParquetStore; typed loosely to keep imports lazy
        """The store; its queries never return records past their retention (unless held)."""
        from observatoire.store.parquet import ParquetStore
        from observatoire.store.rollup import RollupSpec

        city = city or self.city()
        return ParquetStore(self.store_dir, zone_ids=city.zone_ids, write_delay_s=self.test_write_delay_s,
                            superseded_grace_s=self.superseded_grace_s,
                            clock=self.clock, retention=self.retention(), rollup=RollupSpec.for_city(city))

    def holds(self):  # -> Holds
        """The legal holds file (``holds_path``)."""
        from observatoire.governance.retention import Holds

        return Holds(self.holds_path)

    def retention(self):  # -> Retention
        """Retention periods per source and the legal holds: the visibility rule of every query."""
        from observatoire.governance.retention import Retention

        return Retention(dict(self.retention_days), self.holds())

    def audit_config(self):  # -> AuditConfig
        """The audits' configuration (``audits_path``, else the packaged ``audits/audits.toml``)."""
        from observatoire.audits.config import load_audit_config

        return load_audit_config(self.audits_path)

    def release_config(self):  # -> ReleaseConfig
        """The release gate's configuration (``release_path``, else the packaged ``release/release.toml``)."""
        from observatoire.release.config import load_release_config

        return load_release_config(self.release_path)

    def releases(self):  # -> ReleaseArchive
        """The published releases and their ledger (``releases_dir``)."""
        from observatoire.release.archive import ReleaseArchive

        return ReleaseArchive(self.releases_dir)

    def audit_log(self):  # -> AuditLog
        """The tamper-evident audit log (``audit_dir``), stamped with this process's clock, with its signing key,
        pinned keys, witness and timestamp authority."""
        from observatoire.governance.audit import AuditLog, default_witness_path

        return AuditLog(self.audit_dir, clock=self.clock, key_path=self.audit_signing_key,
                        trusted_keys=self.audit_trusted_keys,
                        witness=self.audit_witness or default_witness_path(self.audit_dir),
                        tsa_url=self.audit_tsa_url, tsa_cert=self.audit_tsa_cert)


def _kept(scrubber: Any) -> Any:
    """``scrubber``, its loaded model put out of the garbage collector's sight (``gc.freeze``).

    The model's hundred thousand objects live as long as the process; without
    this every full collection walks them again. Collecting first leaves nothing collectable frozen, and
    a process freezes once (an ingest loads one model; a test session many).
    """
    import gc

    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()
    return scrubber
