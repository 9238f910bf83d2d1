"""The load generator of bench.service_bench: the `docvec serve` process under test, closed-loop
client threads against it, and the summaries of what they saw.

Each client thread holds one keep-alive HTTP/1.1 connection (http.client: the lightest client,
because it shares the machine's cores with the server) and sends POST /v1/search back to back,
with no think time, until the cell's deadline or its request bound. Queries come from one shared
feed that hands each query out once before any is repeated, so the clients take disjoint slices
of the query list and the server's query-vector cache (docvec.service.retrieval.QueryEmbedder)
hits only where a cell sends more requests than there are queries; those requests are counted.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil  # type: ignore[import-untyped]

K = 10
REQUEST_TIMEOUT_S = 30.0
ERRORS_KEPT = 5  # first distinct error messages kept per cell
MAX_EXTENSION_S = 90.0  # how far keep_going may push a cell's deadline
START_TIMEOUT_S = 30.0  # the client threads wait at most this long for each other before they start
DOCVEC = str(Path(sys.executable).with_name("docvec"))
READY_TIMEOUT_S = 180.0
SHIM = """import sys, duckdb
threads = int(sys.argv.pop(1)); connect = duckdb.connect
def threaded(database=":memory:", read_only=False, config=None):
    return connect(database, read_only=read_only, config={**(config or {}), "threads": threads})
duckdb.connect = threaded
from docvec.cli import main
sys.exit(main())"""  # `docvec` with DuckDB's threads set on every connection it opens (a variant's duckdb=N)


@dataclass(frozen=True)
class Sample:
    """One request as the client saw it (`started` in seconds since the cell began)."""

    started: float
    seconds: float
    error: str | None = None
    version: int | None = None
    took_ms: float | None = None
    results: int = 0
    forbidden_hits: int = 0  # results the caller's groups may not read (must be 0)
    repeated: bool = False  # the query was already sent to this server process


class QueryFeed:
    """The queries, each handed out once (to whichever client asks next) before any repeats."""

    def __init__(self, queries: Sequence[str]) -> None:
        if not queries:
            raise ValueError("the load needs at least one query")
        self._queries = list(queries)
        self._next = 0
        self._lock = threading.Lock()

    def take(self) -> tuple[str, bool]:
        """The next query and whether it was handed out before."""
        with self._lock:
            position, self._next = self._next, self._next + 1
        return self._queries[position % len(self._queries)], position >= len(self._queries)


@dataclass(frozen=True)
class LoadPlan:
    """One cell: `clients` threads searching in `mode` for `duration_s` or `max_requests` in all."""

    url: str
    api_key: str
    mode: str
    clients: int
    duration_s: float
    max_requests: int
    forbidden_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LoadRun:
    """What a cell's clients saw; the cell began at `origin` (time.perf_counter()), `wall_start` (time.time())."""

    samples: list[Sample]
    elapsed_s: float
    wall_start: float
    origin: float


class Client:
    """One keep-alive connection to the service."""

    def __init__(self, url: str, api_key: str) -> None:
        parts = urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._headers = {"X-API-Key": api_key, "Content-Type": "application/json", "Connection": "keep-alive"}
        self._conn: http.client.HTTPConnection | None = None

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
        """POST `body` as JSON; (status, response body). A broken connection is reopened next time."""
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self._host, self._port, timeout=REQUEST_TIMEOUT_S)
        try:
            self._conn.request("POST", path, json.dumps(body), self._headers)
            response = self._conn.getresponse()
            return response.status, response.read()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def search_once(client: Client, plan: LoadPlan, query: str, repeated: bool, origin: float) -> Sample:
    """One search, timed from sending the request to reading the whole response."""
    started = time.perf_counter()
    try:
        status, payload = client.post("/v1/search", {"query": query, "k": K, "mode": plan.mode})
    except (OSError, http.client.HTTPException) as error:
        return Sample(started - origin, time.perf_counter() - started, f"{type(error).__name__}: {error}"[:200])
    seconds = time.perf_counter() - started
    if status != 200:
        return Sample(started - origin, seconds, f"HTTP {status}: {payload[:160].decode(errors='replace')}")
    body = json.loads(payload)
    hits = body["results"]
    return Sample(
        started - origin,
        seconds,
        None,
        int(body["publication"]["version"]),
        float(body["took_ms"]),
        len(hits),
        sum(hit["chunk_id"] in plan.forbidden_ids for hit in hits),
        repeated,
    )


def run_load(plan: LoadPlan, feed: QueryFeed, keep_going: Callable[[float], bool] | None = None) -> LoadRun:
    """Run the cell: every client starts at once and stops at the request bound or at the
    deadline, which `keep_going(time.perf_counter())` may push back by up to MAX_EXTENSION_S
    (the publish cell: until its swap is well past)."""
    samples: list[Sample] = []
    lock = threading.Lock()
    start = threading.Barrier(plan.clients + 1, timeout=START_TIMEOUT_S)
    origin = 0.0
    sent = 0

    def client_loop() -> None:
        nonlocal sent
        client = Client(plan.url, plan.api_key)
        mine: list[Sample] = []
        try:
            start.wait()
            deadline, last = origin + plan.duration_s, origin + plan.duration_s + MAX_EXTENSION_S
            while (now := time.perf_counter()) < last and (now < deadline or (keep_going and keep_going(now))):
                with lock:
                    if sent >= plan.max_requests:
                        break
                    sent += 1
                query, repeated = feed.take()
                mine.append(search_once(client, plan, query, repeated, origin))
        finally:
            client.close()
            with lock:
                samples.extend(mine)

    threads = [threading.Thread(target=client_loop, name=f"client-{i}", daemon=True) for i in range(plan.clients)]
    for thread in threads:
        thread.start()
    wall_start = time.time()
    origin = time.perf_counter()  # read by the clients after the barrier
    start.wait()
    for thread in threads:
        thread.join(plan.duration_s + MAX_EXTENSION_S + REQUEST_TIMEOUT_S + 5)
    elapsed = time.perf_counter() - origin
    return LoadRun(sorted(samples, key=lambda s: s.started), elapsed, wall_start, origin)


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..1) of `values` (not empty)."""
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(share * len(ordered)))) - 1]


def latency(seconds: Sequence[float]) -> dict[str, float] | None:
    """p50/p95/p99/max in ms, or None for no sample."""
    if not seconds:
        return None
    ms = [s * 1000 for s in seconds]
    return {
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(percentile(ms, 0.95), 1),
        "p99_ms": round(percentile(ms, 0.99), 1),
        "max_ms": round(max(ms), 1),
    }


def summarize(samples: Sequence[Sample], elapsed_s: float) -> dict[str, Any]:
    """Requests/s, latency of the successful requests, errors (with the first messages), the
    server's own time (took_ms) against the client's, repeated queries and versions seen."""
    ok = [s for s in samples if s.error is None]
    errors: list[str] = []
    for sample in samples:
        if sample.error is not None and sample.error not in errors and len(errors) < ERRORS_KEPT:
            errors.append(sample.error)
    versions: dict[str, int] = {}
    for sample in ok:
        versions[f"v{sample.version}"] = versions.get(f"v{sample.version}", 0) + 1
    server_ms = [s.took_ms for s in ok if s.took_ms is not None]
    outside_ms = [s.seconds * 1000 - s.took_ms for s in ok if s.took_ms is not None]
    return {
        "requests": len(samples),
        "seconds": round(elapsed_s, 2),
        "requests_per_s": round(len(samples) / elapsed_s, 2) if elapsed_s > 0 else 0.0,
        "latency": latency([s.seconds for s in ok]),
        "errors": len(samples) - len(ok),
        "error_messages": errors,
        "server_took_p50_ms": round(statistics.median(server_ms), 1) if server_ms else None,
        "outside_server_p50_ms": round(statistics.median(outside_ms), 1) if outside_ms else None,
        "repeated_queries": sum(s.repeated for s in samples),
        "empty_results": sum(s.results == 0 for s in ok),
        "forbidden_hits": sum(s.forbidden_hits for s in ok),
        "versions": versions,
    }


def window(samples: Sequence[Sample], start: float, end: float) -> list[Sample]:
    """The samples that started in [start, end) (seconds since the cell began)."""
    return [s for s in samples if start <= s.started < end]


# -------------------------------------------------------------------------------------------
# The server under load
# -------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_command(
    serving: Path, auth: Path, port: int, duckdb_threads: int | None, extra_args: Sequence[str] = ()
) -> list[str]:
    """`docvec serve` on loopback (through SHIM when DuckDB's threads are set; without /mcp when
    the MCP module is not there)."""
    prefix = [DOCVEC] if duckdb_threads is None else [sys.executable, "-c", SHIM, str(duckdb_threads)]
    extra = [] if importlib.util.find_spec("docvec.service.mcp_server") else ["--no-mcp"]
    command = [*prefix, "serve", "--serving", str(serving), "--auth", str(auth), "--port", str(port), *extra]
    return [*command, *extra_args]


def get_json(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {}


@contextmanager
def served(
    serving: Path,
    auth: Path,
    log: Path,
    duckdb_threads: int | None = None,
    env: dict[str, str] | None = None,
    extra_args: Sequence[str] = (),
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`docvec serve` on a free loopback port, ready (its /readyz answers 200), until the block
    ends (then stopped with SIGTERM: returncode -15 or 0 is a clean stop, -11 a crash); yields its URL and
    process."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(log, "w", encoding="utf-8") as output:
        process = subprocess.Popen(
            server_command(serving, auth, port, duckdb_threads, extra_args),
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONFAULTHANDLER": "1", **(env or {})},  # a crash leaves its stacks in the log
        )
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            while True:
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
                    raise SystemExit(f"docvec serve did not become ready (exit {process.poll()}):\n{tail}")
                try:
                    if get_json(url + "/readyz")[0] == 200:
                        break
                except (urllib.error.URLError, OSError):
                    pass
                time.sleep(0.2)
            yield url, process
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all processes, all cores) since boot."""
    times = psutil.cpu_times()
    return float(sum(getattr(times, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq", "steal")))


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of the process so far (None: it is gone)."""
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return None
    return float(times.user + times.system)
