"""The ``observatoire`` command line: simulate, ingest, serve, demo; keys, audit, purge, holds.

Every command that touches personal data or its protection (ingest, key rotation, purge,
legal holds, reading or verifying the audit log) leaves one entry in the audit log, made by
``cli:<os user>``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
import traceback
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from observatoire.errors import InputError, ObservatoireError
from observatoire.governance.audit import cli_actor
from observatoire.settings import Settings

app = typer.Typer(
    help="Observatoire: a public-safety observatory for cities, place-based and privacy-first.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)
console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

KeysOpt = Annotated[Optional[Path], typer.Option("--keys", help="Pseudonymisation key ring (default: $OBSERVATOIRE_KEYS or var/keys/pseudonym.key).")]
StoreOpt = Annotated[Optional[Path], typer.Option("--store", help="Store directory (default: $OBSERVATOIRE_STORE or var/store).")]
AuditOpt = Annotated[Optional[Path], typer.Option("--audit", help="Audit log directory (default: $OBSERVATOIRE_AUDIT or var/audit).")]
HoldsOpt = Annotated[Optional[Path], typer.Option("--holds", help="Legal holds file (default: $OBSERVATOIRE_HOLDS or var/holds.json).")]
CityOpt = Annotated[Optional[Path], typer.Option("--city", help="City profile GeoJSON (default: the packaged Marseille profile).")]


CLI_ROLE = "admin"   # a shell on the data directories is administrative access


def _progress() -> Progress:
    return Progress(TextColumn("{task.description:<40}"), BarColumn(), TextColumn("{task.percentage:>3.0f} %"),
                    TimeElapsedColumn(), console=console, transient=True)


def _simulate(out: Path, seed: int, years: int, end: dt.date | None, scale: float, settings: Settings) -> Path:
    from observatoire.simulate import simulate_city

    with _progress() as bar:
        task = bar.add_task("simulate", total=1.0)
        summary = simulate_city(settings.city(), out, seed=seed, end=end, years=years, now=settings.clock,
                                scale=scale, progress=lambda step, done: bar.update(task, completed=done,
                                                                                   description=f"simulate: {step}"))
    table = Table(title=f"Simulated {years} year(s) to {end or 'yesterday'} (seed {seed}, scale {scale:g})")
    table.add_column("source")
    table.add_column("rows", justify="right")
    for name, rows in summary.rows.items():
        table.add_row(name, f"{rows:,}")
    table.add_row("[bold]total[/bold]", f"{sum(summary.rows.values()):,}")
    console.print(table)
    console.print(f"exports in {out / 'exports'}, ground truth in {out / 'truth'} "
                  f"({summary.seconds:.1f} s, {summary.incidents:,} true incidents)")
    return out / "exports"


def _ingest(paths: list[Path], source: str | None, settings: Settings, replace_reference: bool = False) -> None:
    from observatoire.ingest.pipeline import ingest
    from observatoire.sources.registry import load_sources

    city = settings.city()
    store = settings.store(city)
    if not settings.key_path.exists():
        console.print(f"no pseudonymisation key ring yet: creating one at {settings.key_path} (mode 0600); "
                      "keep it apart from the store and back it up")
    gate = settings.gate(create_keys=True)
    with _progress() as bar:
        task = bar.add_task("ingest", total=1)
        reports = ingest(paths, store=store, city=city, sources=load_sources(), gate=gate, source_name=source,
                         retention_days=dict(settings.retention_days), now=settings.clock(),
                         audit=settings.audit_log(), actor=cli_actor(), role=CLI_ROLE,
                         replace_reference=replace_reference,
                         progress=lambda step, i, n: bar.update(task, completed=i, total=n, description=step))
    table = Table(title=f"Ingest into {settings.store_dir}")
    for col in ("file (as stored)", "source", "read", "admitted", "quarantined", "status", "quarantine reasons"):
        table.add_column(col, justify="right" if col in ("read", "admitted", "quarantined") else "left")
    for r in reports:
        table.add_row(r.stored_as, r.source, f"{r.rows_read:,}", f"{r.admitted:,}", f"{r.quarantined:,}",
                      "committed" if r.committed else "already in store",
                      ", ".join(f"{k} {v:,}" for k, v in sorted(r.reasons.items())))
    console.print(table)
    for r in reports:
        if r.past_retention:
            console.print(f"{r.stored_as}: {r.admitted:,} admitted, of which {r.past_retention:,} already past "
                          f"the retention of {r.source} and invisible to every query (removed by the next purge "
                          "unless a legal hold covers them)")


def _serve(settings: Settings, host: str, port: int, purge_every_h: float = 24.0,
           release_every_h: float = 1.0, workers: int = 1, worker_env: dict[str, str] | None = None) -> None:
    """Serve ``settings``' app; with ``workers`` > 1, that many processes each build it with :func:`worker_app`
    from the environment (``worker_env`` added to it: what the command line set), while the schedules run once,
    in this process."""
    import uvicorn

    from observatoire.api.app import NoQueryStrings, create_app
    from observatoire.governance.purge import PurgeScheduler
    from observatoire.release.schedule import ReleaseScheduler

    app_: Any = create_app(settings)          # with several workers: refuses a bad configuration before they start
    if workers > 1:
        os.environ.update(worker_env or {})
        app_ = APP_FACTORY
    if purge_every_h > 0:
        PurgeScheduler(settings, purge_every_h * 3600).start()
        console.print(f"purging records past their retention now and every {purge_every_h:g} h")
    if release_every_h > 0:
        ReleaseScheduler(settings, release_every_h * 3600).start()
        console.print(f"publishing each closed month now and every {release_every_h:g} h (observatoire release list)")
    console.print(f"serving the observatory on http://{host}:{port}/ with {workers} worker process(es) (Ctrl-C to stop)")
    config = server_config(app_, host, port, settings.trusted_proxies, workers=workers)
    logging.getLogger("uvicorn.access").addFilter(NoQueryStrings())
    if workers > 1:
        from uvicorn.supervisors import Multiprocess

        Multiprocess(config, sockets=[listening_socket(config)]).run()
    else:
        uvicorn.Server(config).run()


def listening_socket(config: Any) -> Any:
    """The socket the worker processes share, its connections without Nagle's delay: uvicorn binds it without naming
    TCP, so asyncio leaves Nagle on for the connections it accepts (and a small answer on a kept-alive connection
    then waits some 40 ms for the client's delayed acknowledgement); Linux passes the option on to them."""
    import socket

    sock = config.bind_socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


# What each worker process builds when ``serve --workers`` is above 1 (uvicorn's factory mode): the app of the
# settings the environment gives (the parent's ``OBSERVATOIRE_*`` variables, plus what its command line set).
APP_FACTORY = "observatoire.cli:worker_app"


def worker_app() -> Any:
    """The app of one worker process: :func:`~observatoire.api.app.app_from_env`, its access log without query
    strings (as the single process's)."""
    from observatoire.api.app import NoQueryStrings, app_from_env

    logging.getLogger("uvicorn.access").addFilter(NoQueryStrings())
    return app_from_env()


def server_config(app_: Any, host: str, port: int, trusted_proxies: tuple[str, ...], *, workers: int = 1) -> Any:
    """uvicorn's configuration: forwarded headers believed only from the configured proxies (uvicorn's own default
    believes any caller on loopback, so a local client could name any address and dodge the login throttle);
    ``workers`` processes when ``app_`` is the import string of an app factory (:data:`APP_FACTORY`), each given
    a minute to build its app before the supervisor deems it hung."""
    import uvicorn

    options: dict[str, Any] = {"log_level": "info"}
    if workers > 1:
        if not isinstance(app_, str):
            raise InputError("several workers need the app as the import string of a factory (APP_FACTORY)")
        options.update(workers=workers, factory=True, timeout_worker_healthcheck=60)
    if trusted_proxies:
        return uvicorn.Config(app_, host=host, port=port, proxy_headers=True,
                              forwarded_allow_ips=list(trusted_proxies), **options)
    return uvicorn.Config(app_, host=host, port=port, proxy_headers=False, **options)


@app.command()
def simulate(
    out: Annotated[Path, typer.Option(help="Directory to write exports/ and truth/ into.")] = Path("var/demo"),
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 2025,
    years: Annotated[int, typer.Option(help="Years simulated, ending on --end.")] = 3,
    end: Annotated[Optional[dt.datetime], typer.Option(formats=["%Y-%m-%d"],
                                                       help="Last simulated day (default: yesterday).")] = None,
    scale: Annotated[float, typer.Option(help="Multiplier of every volume (1 = a realistic city).")] = 1.0,
    city: CityOpt = None,
) -> None:
    """Simulate every source over years ending near today, written as the files a city would export, with its
    ground truth."""
    _simulate(out, seed, years, end.date() if end else None, scale, Settings.from_env(city_path=city))


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Export files or directories of exports.")],
    source: Annotated[Optional[str], typer.Option(help="Source of the files (default: recognised by file name).")] = None,
    store: StoreOpt = None,
    city: CityOpt = None,
    keys: KeysOpt = None,
    replace_reference: Annotated[bool, typer.Option(
        "--replace-reference", help="Replace a stored reference table (cameras, patrol plan) even with an empty "
                                    "one or one with quarantined rows.")] = False,
) -> None:
    """Ingest export files through the privacy gate into the store (one atomic batch per file).

    A file already ingested is skipped; refused rows go to the quarantine with their reason. A stored reference
    table is never replaced by an empty or partial one unless --replace-reference is given.
    """
    _ingest(paths, source, Settings.from_env(store_dir=store, city_path=city, key_path=keys), replace_reference)


@app.command()
def serve(
    store: StoreOpt = None,
    city: CityOpt = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    purge_every: Annotated[float, typer.Option("--purge-every", help="Hours between scheduled purges "
                                               "(the first runs at start-up; 0: never).")] = 24.0,
    release_every: Annotated[float, typer.Option("--release-every", help="Hours between checks for closed months "
                                                 "to publish (the first at start-up; 0: never).")] = 1.0,
    home: Annotated[Optional[Path], typer.Option(
        "--home", help="Directory holding store/, keys/, audit/, auth/, registry/, evaluations/ and holds.json "
                       "(as `demo --out` lays them out; default: $OBSERVATOIRE_HOME, else var/...).")] = None,
    trusted_proxy: Annotated[Optional[list[str]], typer.Option(
        "--trusted-proxy", help="Address or network of a reverse proxy whose X-Forwarded-For is believed "
                                "(repeatable; default: $OBSERVATOIRE_TRUSTED_PROXIES, else none).")] = None,
    workers: Annotated[int, typer.Option(
        "--workers", min=1, max=64, help="Server processes answering requests (each builds the app from the "
                                         "same settings; schedules run once, in the parent). One per core.")] = 1,
) -> None:
    """Serve the API, the staff map and the public portal; purge expired records and publish each closed month on
    a schedule."""
    overrides = {"trusted_proxies": tuple(trusted_proxy)} if trusted_proxy else {}
    # What the command line set, for the worker processes (they read the environment, as this process did).
    worker_env = {name: str(value) for name, value in (("OBSERVATOIRE_HOME", home), ("OBSERVATOIRE_STORE", store),
                                                        ("OBSERVATOIRE_CITY", city)) if value is not None}
    if trusted_proxy:
        worker_env["OBSERVATOIRE_TRUSTED_PROXIES"] = ",".join(trusted_proxy)
    _serve(Settings.from_env(home=home, store_dir=store, city_path=city, **overrides), host, port, purge_every,
           release_every, workers=workers, worker_env=worker_env)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Working directory for the demo (exports, truth, store).")] = Path("var/demo"),
    seed: Annotated[int, typer.Option(help="Random seed of the simulated years.")] = 2025,
    scale: Annotated[float, typer.Option(help="Multiplier of every volume.")] = 1.0,
    years: Annotated[int, typer.Option(help="Years simulated, ending yesterday.")] = 3,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Stop after ingest.")] = False,
) -> None:
    """Simulate three years of Marseille ending yesterday, ingest the exports like real ones, publish the closed
    months for the public, and serve the map and the portal."""
    settings = Settings.from_env(**Settings.layout(out))
    exports = _simulate(out, seed, years, None, scale, settings)
    _ingest([exports], None, settings)
    _publish(settings, _first_whole_month(years, settings))
    _demo_accounts(settings)
    console.print(f"serve this demo again with: observatoire serve --home {out}")
    if not no_serve:
        _serve(settings, host, port)




def _first_whole_month(years: int, settings: Settings) -> str:
    """The first calendar month the demo's simulation covers whole (from its dates, not from its data)."""
    from observatoire.simulate.run import simulated_days

    first, _ = simulated_days(None, years, settings.clock)
    month = dt.date(first.year, first.month, 1)
    if first.day > 1:
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return f"{month:%Y-%m}"


def _publish(settings: Settings, first_month: str) -> None:
    """Publish the closed months from ``first_month`` (the public portal reads only releases)."""
    import time

    from observatoire.release.schedule import publish_from_settings

    started = time.perf_counter()
    report = publish_from_settings(settings, actor=cli_actor(), first_month=first_month)
    console.print(f"published {len(report.built)} monthly release(s) for the public portal in "
                  f"{time.perf_counter() - started:.1f} s" + (f" ({report.built[0]} to {report.built[-1]})"
                                                              if report.built else ""))
    for month, why in report.refused.items():
        console.print(f"not published {month}: {why}")


def _demo_accounts(settings: Settings) -> None:
    """One account per role for the demo, with random passwords written once to ``<auth>/demo-accounts.txt``
    (mode 0600) and printed; a demo run again keeps the accounts it made."""
    import secrets

    from observatoire.auth.roles import ACCOUNT_ROLES
    from observatoire.auth.service import Auth
    from observatoire.statefiles import atomic_write

    accounts = Auth.from_settings(settings).accounts
    listing = settings.auth_dir / "demo-accounts.txt"
    if not accounts.list():
        lines = []
        for role in ACCOUNT_ROLES:
            password = secrets.token_urlsafe(12)
            accounts.add(f"demo-{role}", role, password)
            settings.audit_log().record("account_change", actor=cli_actor(), role=CLI_ROLE, dataset="accounts",
                                        detail={"login": f"demo-{role}", "change": "created", "new_role": role})
            lines.append(f"demo-{role}\t{role}\t{password}")
        # 0600 from its first byte (never readable by others, even for an instant)
        atomic_write(listing, ("login\trole\tpassword\n" + "\n".join(lines) + "\n").encode("utf-8"))
    if listing.exists():
        console.print(f"demo accounts (login, role, password), also in {listing}:")
        console.print(listing.read_text(encoding="utf-8"), markup=False, highlight=False)


keys_app = typer.Typer(help="The pseudonymisation key ring (HMAC-SHA256 keys kept apart from the store).",
                       no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("init")
def keys_init(keys: KeysOpt = None) -> None:
    """Create the key ring with a fresh 256-bit key (mode 0600); refuses to overwrite one."""
    from observatoire.gate.pseudonym import init_keyring

    settings = Settings.from_env(key_path=keys)
    ring = init_keyring(settings.key_path)
    console.print(f"created key ring {settings.key_path} with key {ring.current}")


@keys_app.command("rotate")
def keys_rotate(
    keys: KeysOpt = None,
    forget_old: Annotated[bool, typer.Option("--forget-old", help="Destroy the old keys: their tokens can never be "
                                             "linked again (they become anonymous).")] = False,
) -> None:
    """Add a fresh key and make it current: new tokens use it; tokens under older keys stay as they are.

    Tokens made under different keys do not link: after a rotation, the same plate
    gets a new token. Rotate when a key may have leaked, or on the schedule of the DPIA.
    """
    from observatoire.gate.pseudonym import rotate_keyring

    settings = Settings.from_env(key_path=keys)
    try:
        old, new = rotate_keyring(settings.key_path, forget_old=forget_old)
    except ObservatoireError as exc:
        settings.audit_log().record("key_rotation", actor=cli_actor(), role=CLI_ROLE, dataset="keys",
                                    outcome="failed", detail={"error": type(exc).__name__})
        raise
    settings.audit_log().record("key_rotation", actor=cli_actor(), role=CLI_ROLE, dataset="keys",
                                detail={"old_key": old, "new_key": new, "forget_old": forget_old})
    console.print(f"key ring {settings.key_path}: current key {old} -> {new}"
                  + (" (old keys destroyed)" if forget_old else ""))


@keys_app.command("record-id")
def keys_record_id(
    source: Annotated[str, typer.Argument(help="Registered source name, e.g. mains_courantes")],
    key: Annotated[str, typer.Argument(help="The record's own key as the source sends it, e.g. MC-2025-000123")],
    keys: KeysOpt = None,
) -> None:
    """The event id the store gives a record of a source (its key keyed under the ring's record key).

    For the city, which holds the ring: find the event of a logbook entry or a post it knows (a data
    subject's request, a judicial requisition). The look-up is audited (``consult`` of ``keys``) without the key.
    """
    from observatoire.gate.pseudonym import load_keyring
    from observatoire.sources.canonical import event_ids
    from observatoire.sources.registry import load_sources

    settings = Settings.from_env(key_path=keys)
    registered = load_sources()
    if source not in registered:
        raise InputError(f"unknown source {source!r}; registered: {', '.join(sorted(registered))}")
    [digest] = load_keyring(settings.key_path).record_digests([key])
    if digest is None:
        raise InputError("an empty key has no record id")
    settings.audit_log().record("consult", actor=cli_actor(), role=CLI_ROLE, dataset="keys",
                                detail={"record_id_of": source})
    typer.echo(event_ids(source, [digest])[0])   # on stdout: a script reads it


audit_app = typer.Typer(help="The tamper-evident audit log: verify it, checkpoint it, give receipts, read it.",
                        no_args_is_help=True)
app.add_typer(audit_app, name="audit")

SigningKeyOpt = Annotated[Optional[Path], typer.Option(
    "--signing-key", help="The checkpoint signing key, kept outside the log's folder (default: "
    "$OBSERVATOIRE_AUDIT_SIGNING_KEY, else <audit>-signing/checkpoint.key; docs/audit.md: a separate service "
    "account or an HSM-provisioned credential).")]
TrustedKeyOpt = Annotated[Optional[list[str]], typer.Option(
    "--trusted-key", help="A pinned public key verification trusts: a public key file (hex or PEM) or its "
    "sha256: fingerprint; repeatable (default: $OBSERVATOIRE_AUDIT_TRUSTED_KEYS, comma-separated, else the "
    "signing key's own public key when it lies outside the log's folder).")]
WitnessOpt = Annotated[Optional[Path], typer.Option(
    "--witness", help="The DPO's append-only witness file, outside the log's folder (default: "
    "$OBSERVATOIRE_AUDIT_WITNESS, else <audit>-witness/witness.jsonl).")]
TsaOpt = Annotated[Optional[str], typer.Option(
    "--tsa", help="RFC 3161 timestamp authority URL (default: $OBSERVATOIRE_AUDIT_TSA; none: no timestamp).")]
TsaCertOpt = Annotated[Optional[Path], typer.Option(
    "--tsa-cert", help="PEM certificate(s) of the timestamp authority its tokens are checked against "
                       "(default: $OBSERVATOIRE_AUDIT_TSA_CERT).")]


def _audit_log(audit: Path | None, *, signing_key: Path | None = None, trusted_key: list[str] | None = None,
               witness: Path | None = None, tsa: str | None = None, tsa_cert: Path | None = None):  # -> AuditLog
    """The audit log as the settings (environment, then these options) configure it."""
    return Settings.from_env(audit_dir=audit, audit_signing_key=signing_key,
                             audit_trusted_keys=tuple(trusted_key) if trusted_key else None,
                             audit_witness=witness, audit_tsa_url=tsa, audit_tsa_cert=tsa_cert).audit_log()


@audit_app.command("verify")
def audit_verify(
    against: Annotated[Optional[list[Path]], typer.Option(
        "--against", help="A receipt (`observatoire audit receipt`, JSON or printable) the log must still "
                          "extend; repeatable.")] = None,
    audit: AuditOpt = None, signing_key: SigningKeyOpt = None, trusted_key: TrustedKeyOpt = None,
    witness: WitnessOpt = None, tsa_cert: TsaCertOpt = None,
) -> None:
    """Check every entry, the hash chain, the signed head and checkpoints against the pinned keys, the witness and
    any receipt; exit 2 and say where on any break."""
    from observatoire.governance.audit import AuditError

    log = _audit_log(audit, signing_key=signing_key, trusted_key=trusted_key, witness=witness, tsa_cert=tsa_cert)
    report = log.verify(against=against or ())
    detail = {"entries": report.entries, "checkpoints": report.checkpoints, "problems": len(report.problems),
              "receipts": len(against or ())}
    recorded = log.can_sign() or not report.entries     # a verifier holding only public keys writes nothing
    if recorded:
        try:
            log.record("audit_verify", actor=cli_actor(), role=CLI_ROLE, dataset="audit", rows=report.entries,
                       outcome="ok" if report.ok else "failed", detail=detail)
        except ObservatoireError:
            if report.ok:
                raise
    if not report.ok:
        more = len(report.problems) - 1
        raise AuditError(f"audit log {log.dir} does not verify: {report.error}"
                         + (f" (and {more} more problem{'s' * (more > 1)})" if more else ""))
    span = f"seq {report.first_seq}..{report.last_seq}" if report.entries else "empty"
    console.print(f"audit log {log.dir} intact: {report.entries:,} entries ({span}), "
                  f"{report.checkpoints} signed checkpoint{'s' * (report.checkpoints != 1)}"
                  + (f", purged up to seq {report.anchor_seq}" if report.anchor_seq else ""), highlight=False)
    if report.entries:
        console.print(f"signatures checked against {report.trust}", highlight=False, soft_wrap=True)
    for note in report.notes:
        console.print(note, highlight=False, soft_wrap=True)
    if not recorded:
        console.print("this verification is not recorded in the log (no signing key here)", highlight=False)


@audit_app.command("checkpoint")
def audit_checkpoint(audit: AuditOpt = None, signing_key: SigningKeyOpt = None, witness: WitnessOpt = None,
                     tsa: TsaOpt = None, tsa_cert: TsaCertOpt = None) -> None:
    """Sign the current end of the log (seq, hash, time) now, timestamp it when a timestamp authority is given;
    keep a copy of the line elsewhere."""
    log = _audit_log(audit, signing_key=signing_key, witness=witness, tsa=tsa, tsa_cert=tsa_cert)
    cp = log.checkpoint()
    if cp is None:
        console.print("the audit log is empty: nothing to checkpoint")
        return
    print(json.dumps(cp, sort_keys=True))
    stamp = log.last_timestamp
    console.print(f"signed checkpoint at seq {cp['seq']} with key {cp['key_id']}"
                  + (f", timestamped {stamp['gen_time']} by {stamp['tsa']}" if stamp else ""), highlight=False)


@audit_app.command("receipt")
def audit_receipt(
    out: Annotated[Optional[Path], typer.Option("--out", help="Write the receipt to this new file (default: "
                                                              "print it).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="json, or text: printable, for paper or e-mail.")] = "json",
    recipient: Annotated[str, typer.Option("--recipient", help="Who keeps it (audited).")] = "dpo",
    audit: AuditOpt = None, signing_key: SigningKeyOpt = None, witness: WitnessOpt = None,
    tsa: TsaOpt = None, tsa_cert: TsaCertOpt = None,
) -> None:
    """Give the DPO a signed receipt of the log's current end (a fresh checkpoint, timestamped when a timestamp
    authority is given); `observatoire audit verify --against RECEIPT` later proves the log still extends it."""
    from observatoire.governance.audit import receipt_text

    if fmt not in ("json", "text"):
        raise InputError(f"unknown receipt format {fmt!r}; expected json or text")
    if out is not None and out.exists():
        raise InputError(f"receipt {out} already exists; give a new file")
    log = _audit_log(audit, signing_key=signing_key, witness=witness, tsa=tsa, tsa_cert=tsa_cert)
    log.record("export", actor=cli_actor(), role=CLI_ROLE, dataset="audit", recipient=recipient,
               purpose="audit_receipt", detail={"format": fmt})            # the receipt covers its own issuing
    receipt = log.receipt()
    text = receipt_text(receipt) if fmt == "text" else json.dumps(receipt, indent=1, sort_keys=True) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        try:
            with open(out, "x", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise InputError(f"receipt {out}: cannot be written ({type(exc).__name__})") from None
    stamp = receipt.get("rfc3161")
    console.print(f"receipt for seq {receipt['seq']} (hash {receipt['hash'][:16]}…) signed with key "
                  f"{receipt['fingerprint']}" + (f", timestamped {stamp['gen_time']} by {stamp['tsa']}" if stamp
                                                 else "") + ": keep it apart from this system", highlight=False,
                  soft_wrap=True)


@audit_app.command("key")
def audit_key(audit: AuditOpt = None, signing_key: SigningKeyOpt = None) -> None:
    """Print the signing key's public key and its fingerprint, to pin (`--trusted-key`) wherever the log is
    verified; creates the key if there is none yet."""
    from observatoire.governance.audit.keys import fingerprint, load_signing_key, public_hex

    log = _audit_log(audit, signing_key=signing_key)
    pub = public_hex(load_signing_key(log.key_path).public_key())
    print(fingerprint(pub))
    console.print(f"public key {pub} of the signing key {log.key_path}; pin its fingerprint (above) or the file "
                  f"{log.public_keys_dir}/<key id>.pub", highlight=False, soft_wrap=True)


@audit_app.command("head")
def audit_head(audit: AuditOpt = None) -> None:
    """Print the signed head of the audit log (last seq, hash, checkpoints, signature) as JSON: publish it
    outside this machine (with the public key) so that even a cut back to an older head can be found."""
    settings = Settings.from_env(audit_dir=audit)
    head = settings.audit_log().head()
    if head is None:
        raise InputError(f"the audit log in {settings.audit_dir} has no head yet (no entry written)")
    print(json.dumps(head, ensure_ascii=False, indent=1))


@audit_app.command("show")
def audit_show(
    last: Annotated[int, typer.Option("--last", help="How many of the latest entries to print.")] = 20,
    audit: AuditOpt = None, signing_key: SigningKeyOpt = None, witness: WitnessOpt = None,
) -> None:
    """Print the latest entries as JSON lines (reading the log is itself audited).

    A damaged line is printed too, flagged ``damaged`` (what is wrong, in ``audit verify``'s words, and
    where), with a count on stderr."""
    log = _audit_log(audit, signing_key=signing_key, witness=witness)
    entries = log.last(last)
    for e in entries:
        print(json.dumps(e, sort_keys=True, ensure_ascii=False))
    damaged = sum(1 for e in entries if "damaged" in e)
    if damaged:
        console.print(f"{damaged} of the {len(entries)} lines shown {'is' if damaged == 1 else 'are'} damaged "
                      "(flagged \"damaged\"); `observatoire audit verify` checks the whole log", highlight=False)
    log.record("consult", actor=cli_actor(), role=CLI_ROLE, dataset="audit", filters={"last": last},
               rows=len(entries), purpose="audit", detail={"damaged": damaged} if damaged else None)


@app.command()
def purge(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would go; remove nothing.")] = False,
    wait: Annotated[bool, typer.Option(
        "--wait/--no-wait", help="Wait for the store's grace (OBSERVATOIRE_SUPERSEDED_GRACE_S, 120 s: queries planned "
        "before the purge may still read the old files) and delete the old files before returning; with --no-wait "
        "the next store write or purge deletes them.")] = True,
    store: StoreOpt = None,
    city: CityOpt = None,
    audit: AuditOpt = None,
    holds: HoldsOpt = None,
) -> None:
    """Remove from disk every record past its retention (legal holds excepted); log and audit it."""
    from observatoire.governance.purge import purge as run_purge

    settings = Settings.from_env(store_dir=store, city_path=city, audit_dir=audit, holds_path=holds)
    target = settings.store()
    if wait and not dry_run and settings.superseded_grace_s > 0:
        console.print(f"the old files stay {settings.superseded_grace_s:g} s for queries already running, "
                          "then go (--no-wait: leave that to the next write)")
    report = run_purge(target, settings.retention(), now=settings.clock(),
                       audit=None if dry_run else settings.audit_log(), actor=cli_actor(), role=CLI_ROLE,
                       dry_run=dry_run, wait=wait)
    table = Table(title=("Would purge" if dry_run else "Purged") + f" from {settings.store_dir} at {report.at}")
    for col in ("source", "cut-off", "events", "quarantine", "held (kept)", "files rewritten", "files removed"):
        table.add_column(col, justify="left" if col in ("source", "cut-off") else "right")
    for s in report.sources:
        table.add_row(s.source, s.cutoff or "-", f"{s.events_removed:,}", f"{s.quarantine_removed:,}",
                      f"{s.held_kept:,}", str(s.files_rewritten), str(s.files_removed))
    console.print(table)
    if kept := target.superseded():
        console.print(f"{len(kept)} old file(s) kept on disk for running queries until the next write or purge "
                      "(their rows are already hidden from every query)")
    if report.audit_entries_removed:
        console.print(f"audit log: {report.audit_entries_removed:,} entries past their 3 years removed")


holds_app = typer.Typer(help="Legal holds: records kept (and visible) past their retention.", no_args_is_help=True)
app.add_typer(holds_app, name="holds")


@holds_app.command("add")
def holds_add(
    reason: Annotated[str, typer.Option(help="Why the records must be kept (kept in the holds file only).")],
    reference: Annotated[str, typer.Option(help="The case or decision reference (kept in the holds file only).")],
    source: Annotated[Optional[str], typer.Option(help="Hold the records of this source.")] = None,
    zone: Annotated[Optional[str], typer.Option(help="Hold the records of this zone.")] = None,
    start: Annotated[Optional[str], typer.Option(help="Hold records that occurred at or after (ISO date/time).")] = None,
    end: Annotated[Optional[str], typer.Option(help="Hold records that occurred before (ISO date/time).")] = None,
    event_id: Annotated[Optional[list[str]], typer.Option("--event-id", help="Hold this event (repeatable).")] = None,
    holds: HoldsOpt = None,
    audit: AuditOpt = None,
) -> None:
    """Add a legal hold (every criterion given must match); audited as ``legal_hold``."""
    settings = Settings.from_env(holds_path=holds, audit_dir=audit)
    hold = settings.holds().add(reason=reason, reference=reference, actor=cli_actor(), now=settings.clock(),
                                source=source, zone=zone, start=start, end=end, event_ids=event_id or (),
                                audit=settings.audit_log(), role=CLI_ROLE)
    print(hold.hold_id)
    console.print(f"legal hold {hold.hold_id} added")


@holds_app.command("lift")
def holds_lift(hold_id: Annotated[str, typer.Argument(help="The hold to lift.")],
               holds: HoldsOpt = None, audit: AuditOpt = None) -> None:
    """Lift a legal hold: its records follow their retention again; audited as ``legal_hold``."""
    settings = Settings.from_env(holds_path=holds, audit_dir=audit)
    hold = settings.holds().lift(hold_id, actor=cli_actor(), now=settings.clock(), audit=settings.audit_log(),
                                 role=CLI_ROLE)
    console.print(f"legal hold {hold.hold_id} lifted")


@holds_app.command("list")
def holds_list(holds: HoldsOpt = None,
               all_: Annotated[bool, typer.Option("--all", help="Include lifted holds.")] = False) -> None:
    """List the legal holds (active ones unless --all)."""
    settings = Settings.from_env(holds_path=holds)
    table = Table(title=f"Legal holds in {settings.holds_path}")
    for col in ("id", "source", "zone", "start", "end", "events", "reference", "reason", "created", "lifted"):
        table.add_column(col)
    for h in settings.holds().all():
        if h.active or all_:
            table.add_row(h.hold_id, h.source or "", h.zone or "", h.start or "", h.end or "",
                          str(len(h.event_ids)) if h.event_ids else "", h.reference, h.reason, h.created_at,
                          h.lifted_at or "")
    console.print(table)



store_app = typer.Typer(help="Maintenance of the store.", no_args_is_help=True)
app.add_typer(store_app, name="store")


@store_app.command("rollup")
def store_rollup(store: StoreOpt = None, city: CityOpt = None) -> None:
    """Build the rollups (daily counts by zone, monthly counts by 250 m cell, time extents) of batches without them;
    later commits keep them up to date. Queries give the same answers with or without them, faster with."""
    settings = Settings.from_env(store_dir=store, city_path=city)
    built = settings.store().build_rollups()
    console.print(f"rollups built for {built} batch(es) in {settings.store_dir}")

# Governance sub-commands live beside what they manage; registered here so that one `observatoire` does it all.
from observatoire.auth.cli import tokens_app, users_app  # noqa: E402
from observatoire.registry.cli import rules_app  # noqa: E402
from observatoire.regulator.cli import documents_app  # noqa: E402
from observatoire.evaluation.cli import app as evaluation_app  # noqa: E402
from observatoire.release.cli import release_app  # noqa: E402

app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(rules_app, name="rules")
app.add_typer(documents_app, name="documents")
app.add_typer(evaluation_app, name="evaluation")
app.add_typer(release_app, name="release")
from observatoire.report.cli import register as register_report  # noqa: E402

register_report(app)


def main() -> None:
    """Entry point: one clear line and a non-zero exit on bad input, never a traceback."""
    try:
        app(standalone_mode=False)
    except ObservatoireError as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except (typer.Exit, SystemExit) as exc:
        code = getattr(exc, "exit_code", getattr(exc, "code", 0))
        sys.exit(code)
    except Exception as exc:
        # usage errors, from click or from the copy of click typer carries (typer._click): their own message
        if callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            sys.exit(exc.exit_code)
        if type(exc).__name__ == "Abort":
            sys.exit(130)
        if os.environ.get("OBSERVATOIRE_DEBUG"):
            raise
        # An unexpected failure: its type and where, never its message (a parser's message quotes the cell
        # it choked on, which may be an identifier). OBSERVATOIRE_DEBUG=1 shows the whole traceback.
        where = traceback.extract_tb(exc.__traceback__)[-1]
        console.print(f"[red]internal error:[/red] {type(exc).__name__} at {Path(where.filename).name}:{where.lineno} "
                      "(details withheld: they may quote input; rerun with OBSERVATOIRE_DEBUG=1)", highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
