"""Load on the API over loopback: requests per second and latency percentiles for 1, 50 and 200 clients.

Builds a demo-sized deployment in a temporary folder (``observatoire demo --no-serve``: a simulated city,
ingested through the privacy gate, its closed months published), issues an API token for a supervisor, then,
for each server configuration, starts the server itself on 127.0.0.1 (a free port), runs closed-loop clients
(``httpx.AsyncClient``: each client sends its next request when the previous one is answered) for
``--seconds`` per route and client count, waits for the requests in flight, and stops the server.

Routes: the public map (``/api/v1/public/releases/{id}``, anonymous: the latest release's tables) and its
boundaries (``.../zones.geojson``), and the staff map's main routes with a supervisor's token: ``zones``,
``indicators``, ``hotspots`` (Gi*, 250 m) and ``events`` (100 records, with a declared purpose). Each route's
default question, asked again and again (what a map page opened by many people asks).

Configurations, in this order:

* **baseline**: one process, the store read under one lock, nothing kept: the server as it was (one
  DuckDB connection behind a lock, every answer recomputed, every release file read and re-encoded);
* **2 workers, no answers kept**: ``--workers 2`` with per-thread readers, every answer recomputed;
* **serve --workers 1** and **serve --workers 2**: the ``observatoire serve`` command itself (per-thread
  readers, answers kept per store state, releases read once).

The table gives, per configuration, route and client count: requests answered, requests per second, p50 / p95
/ p99 latency in milliseconds, errors (non-2xx answers and failed requests), and the ratio of p95 to the
baseline's; and what each request cost in CPU, in the server (all its processes) and in the clients: figures that
other processes on the machine do not change, unlike the latencies (the load average is printed with them).
Two idle cores answer at most 2,000 / (server + client ms) requests per second. A client gives up on a request after 60 s (an error); the server still works on what it was
given up on, so a cell with errors is followed by a fresh start of the server. Then the targets: 200 clients on the public map with p95 under 500 ms and no error; the staff
routes with p95 under 2 s at 50 clients. The clients run in this process, on the same two cores as the
server: what they cost is part of the figures.

    .venv/bin/python bench/load.py                        # scale 0.1, 3 years, 4 s per cell: 20 to 30 min here
                                                          # (the baseline's staff cells wait up to 60 s each)
    .venv/bin/python bench/load.py --quick --configs serve-2 --clients 1,50   # a smoke run: scale 0.05, 1.5 s
    .venv/bin/python bench/load.py --home /tmp/obs-load   # build once there, reuse next time
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from rich.console import Console
from rich.table import Table

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))

HOST = "127.0.0.1"          # loopback only: the bench never listens on, nor calls, another address
CLIENTS = (1, 50, 200)
TARGET_PUBLIC_P95_MS = 500.0
TARGET_STAFF_P95_MS = 2000.0
REQUEST_TIMEOUT_S = 60.0


# -- the servers ---------------------------------------------------------------------------------------------
def _settings():
    from observatoire.settings import Settings

    return Settings.from_env(secure_cookies=False)


def nocache_app() -> Any:
    """The app with per-thread readers but nothing kept: each worker builds it (``--child nocache``)."""
    from observatoire.api.app import create_app
    from observatoire.api.deps import StoreReader
    from observatoire.release.archive import ReleaseArchive

    settings = _settings()
    app = create_app(settings)
    app.state.store = StoreReader(settings.store(app.state.city))
    app.state.releases = ReleaseArchive(settings.releases_dir, memo=False)
    return app


def _child(kind: str, port: int, workers: int) -> None:
    """Run one server configuration in this process (started by :func:`start_server`)."""
    import uvicorn

    from observatoire.cli import listening_socket, server_config

    if kind == "baseline":
        from observatoire.api.app import create_app
        from observatoire.api.deps import StoreReader
        from observatoire.release.archive import ReleaseArchive

        settings = _settings()
        app = create_app(settings)
        app.state.store = StoreReader(settings.store(app.state.city), serialise=True)
        app.state.releases = ReleaseArchive(settings.releases_dir, memo=False)
        uvicorn.Server(server_config(app, HOST, port, ())).run()
    elif kind == "nocache":
        from uvicorn.supervisors import Multiprocess

        config = server_config("load:nocache_app", HOST, port, (), workers=workers)
        if workers > 1:
            Multiprocess(config, sockets=[listening_socket(config)]).run()
        else:
            uvicorn.Server(config).run()
    else:
        raise SystemExit(f"unknown server kind {kind}")


@dataclass
class Server:
    label: str
    command: list[str]
    proc: subprocess.Popen | None = None
    port: int = 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def child_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBSERVATOIRE_")}
    env.update(OBSERVATOIRE_HOME=str(home), OBSERVATOIRE_SECURE_COOKIES="0",
               PYTHONPATH=os.pathsep.join([str(BENCH), str(BENCH.parent / "src"), env.get("PYTHONPATH", "")]))
    return env


def start_server(server: Server, home: Path, log: Path) -> None:
    server.port = free_port()
    command = [c.replace("{port}", str(server.port)) for c in server.command]
    with open(log, "ab") as out:
        server.proc = subprocess.Popen(command, env=child_env(home), stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise SystemExit(f"{server.label}: the server exited ({server.proc.returncode}); see {log}")
        try:
            if httpx.get(f"http://{HOST}:{server.port}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop_server(server)
    raise SystemExit(f"{server.label}: no answer on /health after 180 s; see {log}")


def stop_server(server: Server) -> None:
    proc = server.proc
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)        # the server and its workers: the session this bench started
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of process ``pid`` and its descendants (the server and its workers)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += times.get(p, 0.0)
        todo += [c for c, parent in parents.items() if parent == p]
    return total


# -- the load ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    label: str
    path: str
    staff: bool


@dataclass
class Cell:
    config: str
    route: str
    clients: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    server_cpu_s: float = 0.0     # CPU the server (all its processes) spent during the cell
    client_cpu_s: float = 0.0     # CPU this process (the clients) spent during the cell

    @property
    def n(self) -> int:
        return len(self.latencies_ms)

    def pct(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")

    @property
    def rps(self) -> float:
        return self.n / self.seconds if self.seconds else 0.0

    def cpu_ms(self, seconds: float) -> float:
        return seconds * 1000 / (self.n + self.errors) if self.n + self.errors else float("nan")


async def _load(base: str, path: str, headers: dict[str, str], clients: int, seconds: float, cell: Cell) -> None:
    # One AsyncClient (one keep-alive connection) per client: httpx's pool looks through all of its connections for
    # each request, so one pool shared by 200 clients would cost the clients more than the server.
    # The clients are made before the clock starts, with one TLS context for all (plain http: never used, but
    # httpx makes one per client otherwise, which costs more than a request).
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    tls = ssl.create_default_context()
    pool = [httpx.AsyncClient(base_url=base, headers=headers, limits=limits, verify=tls,
                              timeout=httpx.Timeout(REQUEST_TIMEOUT_S)) for _ in range(clients)]
    cell.client_cpu_s = -time.process_time()
    start = time.perf_counter()
    deadline = start + seconds

    async def one_client(client: httpx.AsyncClient) -> None:
        async with client:
            while time.perf_counter() < deadline:
                t = time.perf_counter()
                try:
                    response = await client.get(path)
                    await response.aread()
                    ok = response.status_code < 300
                except httpx.HTTPError:
                    ok = False
                if ok:
                    cell.latencies_ms.append((time.perf_counter() - t) * 1000)
                else:
                    cell.errors += 1

    await asyncio.gather(*(one_client(c) for c in pool))
    cell.seconds = time.perf_counter() - start
    cell.client_cpu_s += time.process_time()


def run_cell(server_pid: int, port: int, route: Route, headers: dict[str, str], clients: int, seconds: float,
             config: str) -> Cell:
    cell = Cell(config, route.label, clients)
    server0 = tree_cpu_s(server_pid)
    asyncio.run(_load(f"http://{HOST}:{port}", route.path, headers if route.staff else {}, clients, seconds, cell))
    cell.server_cpu_s = tree_cpu_s(server_pid) - server0
    return cell


def warm(port: int, route: Route, headers: dict[str, str]) -> None:
    response = httpx.get(f"http://{HOST}:{port}{route.path}", headers=headers if route.staff else {}, timeout=300)
    if response.status_code != 200:
        raise SystemExit(f"{route.label}: {response.status_code} {response.text[:300]}")


# -- the deployment ------------------------------------------------------------------------------------------
def build(home: Path, scale: float, years: int, console: Console) -> None:
    if (home / "store" / "manifest.json").exists() and (home / "releases").is_dir():
        console.print(f"reusing the deployment in {home}")
        return
    console.print(f"building a demo deployment in {home} (scale {scale:g}, {years} years)...")
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "observatoire.cli", "demo", "--out", str(home), "--scale", str(scale),
                          "--years", str(years), "--no-serve"], env=child_env(home), capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"demo failed:\n{out.stderr[-3000:]}")
    console.print(f"built in {time.perf_counter() - t:.0f} s")


def answers_window(home: Path) -> float:
    """Seconds until the store's first visible record expires: how long an answer can be kept from now."""
    from observatoire.settings import Settings
    from observatoire.store.cache import CachingReadStore

    settings = Settings(**Settings.layout(home))
    state = CachingReadStore(settings.store(), clock=settings.clock).state()
    if state is None or state.until is None or state.since is None:
        return float("inf")
    return (state.until - state.since).total_seconds()


def token(home: Path) -> str:
    from observatoire.auth.service import Auth
    from observatoire.settings import Settings

    settings = Settings(**Settings.layout(home))          # the deployment's own folders, whatever the environment
    _, secret = Auth.from_settings(settings).tokens.issue("bench-load", "supervisor", issued_by="bench", days=1)
    return secret


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, help="build the deployment here, or reuse it (default: a temp dir)")
    ap.add_argument("--scale", type=float, default=0.1, help="volume of the simulated city (1 = realistic)")
    ap.add_argument("--years", type=int, default=3, help="simulated years (indicators need 2 or more)")
    ap.add_argument("--seconds", type=float, default=4.0, help="seconds of load per route and client count")
    ap.add_argument("--clients", type=str, default=",".join(map(str, CLIENTS)))
    ap.add_argument("--configs", type=str, default="baseline,nocache-2,serve-1,serve-2",
                    help="comma-separated among baseline, nocache-2, serve-1, serve-2")
    ap.add_argument("--quick", action="store_true", help="scale 0.05, 1.5 s per cell")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child, args.port, args.workers)
        return
    if args.quick:
        args.scale, args.seconds = 0.05, 1.5
    console = Console(width=200)
    clients = tuple(int(c) for c in args.clients.split(","))
    with tempfile.TemporaryDirectory(prefix="obs-load-") as tmp:
        home = args.home or Path(tmp) / "home"
        build(home, args.scale, args.years, console)
        from observatoire.release.archive import ReleaseArchive
        from observatoire.store.parquet import ParquetStore

        release = ReleaseArchive(home / "releases").ids()[-1]
        n_events = ParquetStore(home / "store").events().count().to_pyarrow().as_py()
        window = answers_window(home)
        staff = {"Authorization": f"Bearer {token(home)}", "X-Purpose": "operational_analysis"}
        routes = [Route("public map", f"/api/v1/public/releases/{release}", False),
                  Route("public boundaries", f"/api/v1/public/releases/{release}/zones.geojson", False),
                  Route("zones", "/api/v1/zones", True), Route("indicators", "/api/v1/indicators", True),
                  Route("hotspots", "/api/v1/hotspots", True), Route("events", "/api/v1/events?limit=100", True)]
        me = [sys.executable, str(Path(__file__).resolve())]
        serve = [sys.executable, "-m", "observatoire.cli", "serve", "--host", HOST, "--port", "{port}",
                 "--purge-every", "0", "--release-every", "0"]
        servers = {
            "baseline": Server("baseline: 1 process, one lock, nothing kept",
                               [*me, "--child", "baseline", "--port", "{port}"]),
            "nocache-2": Server("2 workers, per-thread readers, nothing kept",
                                [*me, "--child", "nocache", "--workers", "2", "--port", "{port}"]),
            "serve-1": Server("serve --workers 1", [*serve, "--workers", "1"]),
            "serve-2": Server("serve --workers 2", [*serve, "--workers", "2"]),
        }
        chosen = [servers[c] for c in args.configs.split(",")]
        console.print(f"store: {n_events:,} visible events; release {release}; {len(routes)} routes × clients "
                      f"{clients} × {args.seconds:g} s per configuration; {os.cpu_count()} cores")
        console.print(f"answers are kept at most {window:,.0f} s at a time now (until the next visible record's "
                      "retention ends: store/cache.py)", highlight=False)
        cells: list[Cell] = []
        loads: list[str] = []
        log = home.parent / f"load-servers-{os.getpid()}.log" if args.home is None else home / "load-servers.log"
        for server in chosen:
            start_server(server, home, log)
            console.print(f"{server.label}: load average {os.getloadavg()[0]:.1f} at start", highlight=False)
            try:
                for route in routes:     # one request each first: what a first visitor pays is not measured
                    warm(server.port, route, staff)
                    for c in clients:
                        cell = run_cell(server.proc.pid, server.port, route, staff, c, args.seconds, server.label)
                        cells.append(cell)
                        console.print(f"  {server.label:<45} {route.label:<18} {c:>3} clients: {cell.n:>6} answered, "
                                      f"p95 {cell.pct(95):8.1f} ms, {cell.errors} errors", highlight=False)
                        if cell.errors:  # requests given up on still run in the server: start afresh for the next
                            stop_server(server)
                            start_server(server, home, log)
                            warm(server.port, route, staff)
            finally:
                stop_server(server)
            loads.append(f"{server.label}: {os.getloadavg()[0]:.1f}")
        console.print("load average (1 min) at the end of each configuration, other processes included: "
                      + "; ".join(loads), highlight=False)
        report(console, cells, chosen[0].label, args, n_events)


def report(console: Console, cells: list[Cell], baseline: str, args: argparse.Namespace, n_events: int) -> None:
    base = {(c.route, c.clients): c for c in cells if c.config == baseline}
    table = Table(title=f"API under load on loopback ({n_events:,} events, scale {args.scale:g}, {args.seconds:g} s "
                        f"per cell, {os.cpu_count()} cores shared by server and clients)")
    for col in ("configuration", "route", "clients", "answered", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors",
                "req/s × base", "p95 ÷ base", "server CPU ms/req", "client CPU ms/req"):
        table.add_column(col, justify="left" if col in ("configuration", "route") else "right")
    for c in cells:
        b = base.get((c.route, c.clients))
        ratio_rps = f"{c.rps / b.rps:.1f}" if b is not None and b.rps else ""
        ratio_p95 = f"{b.pct(95) / c.pct(95):.1f}" if b is not None and b.n and c.n else ""
        table.add_row(c.config, c.route, str(c.clients), f"{c.n:,}", f"{c.rps:,.1f}", f"{c.pct(50):,.1f}",
                      f"{c.pct(95):,.1f}", f"{c.pct(99):,.1f}", str(c.errors), ratio_rps, ratio_p95,
                      f"{c.cpu_ms(c.server_cpu_s):,.1f}", f"{c.cpu_ms(c.client_cpu_s):,.1f}")
    console.print(table)
    for config in dict.fromkeys(c.config for c in cells):
        mine = [c for c in cells if c.config == config]
        public = [c for c in mine if c.route == "public map" and c.clients == 200]
        staff = [c for c in mine if c.route in ("zones", "indicators", "hotspots", "events") and c.clients == 50]
        if public:
            p = public[0]
            ok = p.pct(95) < TARGET_PUBLIC_P95_MS and p.errors == 0 and p.n > 0
            cpu = p.cpu_ms(p.server_cpu_s) + p.cpu_ms(p.client_cpu_s)
            console.print(f"{config}: public map, 200 clients: p95 {p.pct(95):,.0f} ms, {p.errors} errors "
                          f"(target < {TARGET_PUBLIC_P95_MS:.0f} ms, none): {'met' if ok else 'NOT met'}; "
                          f"{cpu:.1f} ms of CPU a request (server and clients): two idle cores would answer at most "
                          f"{2000 / cpu:,.0f} requests/s, 200 waiting clients {200 * cpu / 2:,.0f} ms each")
        if staff:
            worst = max(staff, key=lambda c: c.pct(95) if c.n else float("inf"))
            ok = all(c.n and c.pct(95) < TARGET_STAFF_P95_MS for c in staff)
            console.print(f"{config}: staff routes, 50 clients: worst p95 {worst.pct(95):,.0f} ms ({worst.route}) "
                          f"(target < {TARGET_STAFF_P95_MS:.0f} ms): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
