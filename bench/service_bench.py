"""Throughput and latency of `docvec serve` under 1, 4 and 16 concurrent clients, at SciFact scale,
with and without a publish during the run.

    .venv/bin/python -m bench.service_bench                # 15 s cells: ~6 min on 2 idle cores
    .venv/bin/python -m bench.service_bench --quick        # 5 s cells: ~3 min
    .venv/bin/python -m bench.service_bench --markdown bench/results/service_bench.json   # the report again

Without a SciFact warehouse the first run embeds the 5,183 abstracts (12-23 min measured on 2
shared cores) and caches the vectors under `--workdir`; later runs embed nothing.
    .venv/bin/python -m bench.service_bench [--db PATH] [--duration 15] [--clients 1,4,16]
        [--modes vector,keyword,hybrid] [--variants duckdb=1 ...] [--skip-publish]
        [--workdir DIR] [--out bench/results/service_bench.json]

The corpus: the `search_index` of the SciFact warehouse that `bench.eval_scifact` leaves (`--db`,
default as in bench.latency_bench) when there is one; else one chunk per SciFact abstract (title +
text, cut to MAX_CHUNK_CHARS), embedded by the bundled model and kept under `--workdir` so that a
rerun embeds nothing. Every tenth document (by hash) is readable by group `staff` only; the
bench's API key maps to `public`, so every search runs the access filter, and a result from a
staff document would be counted (forbidden_hits, target 0).

Each run publishes that table as v1 of a fresh serving store (ServingStore.copy_candidate,
finalize, activate: what the dbt hook does). Each cell starts its own `docvec serve` (loopback,
a free port, an auth config with one API key), warms it up with queries kept out of the measured
ones, then runs `clients` closed-loop threads (bench.service_load) for `--duration` seconds:
requests/s, p50/p95/p99 of the client-side latency, errors (any non-200 or connection error),
the server's own time (`took_ms`) against the client's, the server's CPU time per request and
how many requests repeated a query (the server caches query vectors). The CPU that other
processes used during a cell is measured too; a cell where it exceeds MAX_OTHER_CORES is run
again (`--retries`, default 2), since a shared 2-core machine's noise is not the service's.
Ratios: throughput with 4 (and 16) clients over 1 client, per mode, in the same run. A server
that dies during a cell is reported (server_exit, its log's tail: faulthandler stacks).

With a publish: hybrid x 4 clients while this process publishes a second version (the same
table with 1% of its rows changed, bench.publish_support.write_changed_warehouse): finalize
(BM25 + HNSW indexes) starts at a quarter of the cell, then the link moves. Recorded: errors,
latency while the publication is written and in the SWAP_WINDOW_S after the swap, when the first
answer from the new version came, and what /readyz says afterwards.

`--variants duckdb=1 torch=1 backend=onnx duckdb=1,backend=onnx` adds hybrid x 1 and x 4 cells per
variant, whose server runs with DuckDB's `threads = N` (a shim around duckdb.connect: the service
has no such setting yet), torch's intra-op threads (env DOCVEC_EMBEDDING_THREADS) and/or another
query-embedding backend (`docvec serve --backend`; its query vectors then differ slightly from the
publication's torch ones: a latency experiment, not a quality one).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import statistics
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

# Offline settings: bench/__init__.py (runs before this module).

import duckdb  # noqa: E402
import numpy as np  # noqa: E402
import yaml  # noqa: E402

from bench.chunking_bench import command_line, machine_info, markdown_table  # noqa: E402
from bench.latency_bench import SCIFACT  # noqa: E402
from bench.publish_support import copy_search_index, write_changed_warehouse  # noqa: E402
from bench.service_load import (  # noqa: E402
    Client,
    K,
    LoadPlan,
    LoadRun,
    QueryFeed,
    busy_seconds,
    cpu_seconds,
    get_json,
    latency,
    run_load,
    served,
    summarize,
    window,
)
from docvec.evaluation import default_workdir, read_beir  # noqa: E402
from docvec.publishing.store import SERVING_TABLE, IndexSettings, Publication, ServingStore  # noqa: E402
from docvec.service.auth import generate_api_key, hash_api_key  # noqa: E402
from python_udfs.embedding.backends import THREADS_ENV  # noqa: E402

DEFAULT_OUT = PROJECT_ROOT / "bench" / "results" / "service_bench.json"
DEFAULT_WORKDIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "docvec" / "bench" / "service"
MODES = ("vector", "keyword", "hybrid")
CLIENTS = (1, 4, 16)
DURATION_S, QUICK_DURATION_S = 15.0, 5.0
PUBLISH_CELL_MIN_S = 12.0  # the publish cell lasts at least this long: write, swap, then SWAP_WINDOW_S and more
PUBLISH_AT_SHARE = 0.25  # the publish starts at this share of the cell
SWAP_WINDOW_S = 2.0
AFTER_SWAP_S = 3 * SWAP_WINDOW_S  # the publish cell goes on at least this long after the swap
MAX_REQUESTS = 5_000  # per cell, whatever the duration
WARMUP_QUERIES = 16  # the last queries: sent before each cell, never measured
WARMUP_ROUNDS = 2
MAX_CHUNK_CHARS = 1_000
STAFF_EVERY = 10  # documents whose hash % STAFF_EVERY == 0 are `staff` only
PUBLIC, STAFF = "public", "staff"
STRATEGY_ID, MODEL_ID = "scifact_abstract", "all-MiniLM-L6-v2"
WARMUP_PROFILE = 5  # profile queries run once before they are timed
# Threads of the in-process scaling check: never more than the CPUs, because more concurrent HNSW
# index scans than std::thread::hardware_concurrency() in one process crash (vss 1.5.5, SIGSEGV).
PROFILE_THREADS = min(4, os.cpu_count() or 1)
MAX_OTHER_CORES = 0.25  # a cell during which other processes used more is measured again
RETRIES = 2
RETRY_PAUSE_S = 10.0
CLEAN_EXITS = (0, -15, None)  # uvicorn re-raises the SIGTERM it was stopped with


# -------------------------------------------------------------------------------------------
# The corpus and its publications
# -------------------------------------------------------------------------------------------


def corpus_source(workdir: Path, warehouse: Path | None) -> tuple[Path, str]:
    """A DuckDB file holding only the bench's search_index (with its staff documents), and where
    its rows come from. From `warehouse` when it exists, else from SciFact embedded here (cached)."""
    source = workdir / "source.duckdb"
    if warehouse is not None and warehouse.is_file():
        copy_search_index(warehouse, source)
        origin = f"warehouse {warehouse}"
    elif _cached(source):
        return source, "SciFact abstracts (cached)"
    else:
        write_abstracts(source)
        origin = "SciFact abstracts"
    with duckdb.connect(str(source)) as conn:
        conn.execute(
            f"update {SERVING_TABLE} set access_groups = "
            f"case when hash(document_id) % {STAFF_EVERY} = 0 then ['{STAFF}'] else ['{PUBLIC}'] end"
        )
        conn.execute("checkpoint")
    return source, origin


def _cached(source: Path) -> bool:
    if not source.is_file():
        return False
    with duckdb.connect(str(source), read_only=True) as conn:
        tables = {row[0] for row in conn.execute("select table_name from duckdb_tables()").fetchall()}
        return "bench_source" in tables and conn.execute("select key from bench_source").fetchone() == (_key(),)


def _key() -> str:
    """What the cached abstracts depend on: the corpus file and the chunking."""
    corpus = SCIFACT / "corpus.jsonl"
    return f"{corpus.stat().st_size}:{corpus.stat().st_mtime_ns}:{MAX_CHUNK_CHARS}:{MODEL_ID}"


def abstract_text(record: dict[str, Any]) -> str:
    """Title and text of an abstract, cut at the last space before MAX_CHUNK_CHARS."""
    text = " ".join(f"{record.get('title') or ''}. {record.get('text') or ''}".split()).strip(". ")
    return text if len(text) <= MAX_CHUNK_CHARS else text[:MAX_CHUNK_CHARS].rsplit(" ", 1)[0]


def write_abstracts(source: Path) -> None:
    """One chunk per SciFact abstract with its real vector, in the serving table's columns."""
    import pyarrow as pa

    from python_udfs.embedding import embed_texts, load_model
    from python_udfs.fts_text import fts_text

    with open(SCIFACT / "corpus.jsonl", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    texts = [abstract_text(r) for r in records]
    cache = source.with_name(f"vectors-{hashlib.sha256(_key().encode()).hexdigest()[:12]}.npy")
    if cache.is_file():
        vectors = np.load(cache)
    else:
        started = time.perf_counter()
        vectors = embed_texts(load_model(None), texts)
        np.save(cache, vectors)
        seconds = time.perf_counter() - started
        print(f"embedded {len(texts):,} abstracts in {seconds:.0f} s", file=sys.stderr, flush=True)
    paths = [f"scifact/{r['_id']}.txt" for r in records]
    documents = [hashlib.md5(p.encode()).hexdigest() for p in paths]
    titles = [r.get("title") or None for r in records]
    dimension = vectors.shape[1]
    abstracts = pa.table(  # noqa: F841 - read by the create table below (DuckDB's replacement scan)
        {
            "chunk_id": [hashlib.md5(f"{d}:{STRATEGY_ID}:0".encode()).hexdigest() for d in documents],
            "document_id": documents,
            "chunk_text": texts,
            "text_sha256": [hashlib.sha256(t.encode()).hexdigest() for t in texts],
            "source_path": paths,
            "title": titles,
            "embedding": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1), pa.float32()), dimension),
            "fts_text": [fts_text(" ".join(filter(None, (t, title)))) for t, title in zip(texts, titles)],
        }
    )
    source.unlink(missing_ok=True)
    with duckdb.connect(str(source)) as conn:
        conn.execute(
            f"""create table {SERVING_TABLE} as select chunk_id, document_id, '{STRATEGY_ID}' as strategy_id,
                '{MODEL_ID}' as model_id, 0 as chunk_index, chunk_text, text_sha256, null::varchar as section,
                0 as start_char, length(chunk_text)::integer as end_char,
                length(string_split(chunk_text, ' '))::integer as n_tokens, source_path, title,
                'txt' as file_type, '{{}}'::json as metadata, ['{PUBLIC}'] as access_groups,
                embedding::float[{dimension}] as embedding, fts_text from abstracts order by chunk_id"""
        )
        conn.execute("create table bench_source as select ? as key", [_key()])
        conn.execute("checkpoint")


def finalize(store: ServingStore, incoming: str) -> Publication:
    """Index `incoming` as the store's next version (not yet served)."""
    with store.locked():
        return store.finalize(
            incoming, store.next_version(), os.urandom(16).hex(), datetime.now(UTC).isoformat(), {"source": "bench"},
            IndexSettings(),
        )  # fmt: skip


def forbidden_chunks(source: Path) -> frozenset[str]:
    """Chunk ids the bench's principal may not read."""
    with duckdb.connect(str(source), read_only=True) as conn:
        rows = conn.execute(f"select chunk_id from {SERVING_TABLE} where not list_contains(access_groups, ?)", [PUBLIC])
        return frozenset(row[0] for row in rows.fetchall())


# -------------------------------------------------------------------------------------------
# The cells
# -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bench:
    """What every cell shares."""

    serving: Path
    auth: Path
    api_key: str
    queries: list[str]
    warmup: list[str]
    forbidden: frozenset[str]
    logs: Path
    duration_s: float
    max_requests: int
    retries: int = RETRIES


def warm_up(bench: Bench, url: str, mode: str) -> None:
    """Sequential searches with the warm-up queries (never measured): the indexes are in memory."""
    client = Client(url, bench.api_key)
    try:
        for query in bench.warmup * WARMUP_ROUNDS:
            client.post("/v1/search", {"query": query, "k": K, "mode": mode})
    finally:
        client.close()


@dataclass(frozen=True)
class Variant:
    """A server variant: DuckDB's `threads` (through the shim), torch's intra-op threads (env
    DOCVEC_EMBEDDING_THREADS) and the query-embedding backend (`--backend`); None = the default."""

    duckdb: int | None = None
    torch: int | None = None
    backend: str | None = None

    @classmethod
    def parse(cls, text: str) -> Variant:
        """Comma-separated settings, e.g. `duckdb=1`, `torch=1,backend=onnx`."""
        try:
            values = dict(part.split("=", 1) for part in text.split(","))
            duckdb_threads, torch_threads = (int(values.pop(n)) if n in values else None for n in ("duckdb", "torch"))
            backend = values.pop("backend", None)
        except ValueError as error:
            raise SystemExit(f"--variants: {text!r}: {error}") from error
        if values:
            raise SystemExit(f"--variants: unknown settings {', '.join(values)} (duckdb=N, torch=N, backend=NAME)")
        return cls(duckdb_threads, torch_threads, backend)

    def label(self) -> str:
        settings = (("DuckDB threads", self.duckdb), ("torch threads", self.torch), ("backend", self.backend))
        return ", ".join(f"{name}={value}" for name, value in settings if value)

    def env(self) -> dict[str, str]:
        return {} if self.torch is None else {THREADS_ENV: str(self.torch)}

    def args(self) -> list[str]:
        return [] if self.backend is None else ["--backend", self.backend]


def run_cell(
    bench: Bench,
    mode: str,
    clients: int,
    variant: Variant = Variant(),
    duration_s: float | None = None,
    beside: threading.Thread | None = None,
    keep_going: Callable[[float], bool] | None = None,
) -> tuple[dict[str, Any], LoadRun]:
    """One cell on a server of its own (an empty query-vector cache); `beside` is started with
    the load (the publish) and `keep_going` may lengthen the cell. (summary, the run)."""
    name = "-".join(filter(None, (mode, str(clients), variant.label().replace(" ", "").replace(",", "-"))))
    log = bench.logs / f"serve-{name}.log"
    with served(bench.serving, bench.auth, log, variant.duckdb, variant.env(), variant.args()) as (url, process):
        warm_up(bench, url, mode)
        duration = duration_s or bench.duration_s
        plan = LoadPlan(url, bench.api_key, mode, clients, duration, bench.max_requests, bench.forbidden)
        cpu_before, bench_before, busy_before = cpu_seconds(process.pid), time.process_time(), busy_seconds()
        if beside is not None:
            beside.start()
        run = run_load(plan, QueryFeed(bench.queries), keep_going)
        cpu_after, bench_cpu = cpu_seconds(process.pid), time.process_time() - bench_before
        busy = busy_seconds() - busy_before
        if beside is not None:
            beside.join(timeout=120)
        summary = summarize(run.samples, run.elapsed_s)
        alive = process.poll() is None
        summary["readyz_version"] = get_json(url + "/readyz")[1].get("version") if alive else None
        if cpu_before is not None and cpu_after is not None:
            server_cpu = cpu_after - cpu_before
            summary["server_cpu_ms_per_request"] = round(1000 * server_cpu / max(1, len(run.samples)), 1)
            summary["server_cpu_cores"] = round(server_cpu / run.elapsed_s, 2)
            summary["other_cpu_cores"] = round(max(0.0, busy - server_cpu - bench_cpu) / run.elapsed_s, 2)
        summary["bench_cpu_cores"] = round(bench_cpu / run.elapsed_s, 2)  # the clients (and the publisher)
        summary["load_average"] = [round(x, 1) for x in os.getloadavg()[:2]]
    summary["server_exit"] = process.returncode  # CLEAN_EXITS, or the signal it died of (-11: SIGSEGV)
    summary["server_died_during_load"] = not alive
    if not alive:
        summary["server_log_tail"] = log.read_text(encoding="utf-8", errors="replace")[-1500:]
    print(f"{name}: {json.dumps(summary)}", file=sys.stderr, flush=True)
    return summary, run


def quiet_cell(bench: Bench, mode: str, clients: int, variant: Variant = Variant()) -> dict[str, Any]:
    """run_cell, again (up to bench.retries times) while other processes used more than
    MAX_OTHER_CORES of the machine during it: a shared machine's noise is not the service's."""
    for attempt in range(1, bench.retries + 2):
        summary = run_cell(bench, mode, clients, variant)[0]
        summary["attempts"] = attempt
        if summary.get("other_cpu_cores", 0.0) <= MAX_OTHER_CORES:
            break
        print(f"other processes used {summary['other_cpu_cores']} cores: measuring again", file=sys.stderr)
        time.sleep(RETRY_PAUSE_S)
    return summary


def publish_cell(bench: Bench, store: ServingStore, changed: Path) -> dict[str, Any]:
    """Hybrid x 4 clients while the next version is written (finalize) and swapped in; the cell
    goes on until AFTER_SWAP_S past the swap."""
    duration = max(bench.duration_s, PUBLISH_CELL_MIN_S)
    incoming, _, rows = store.copy_candidate(str(changed))
    events: dict[str, Any] = {}

    def publish() -> None:
        time.sleep(PUBLISH_AT_SHARE * duration)
        events["write_start"] = time.perf_counter()
        try:
            publication = finalize(store, incoming)
            events["swap"] = time.perf_counter()
            store.activate(publication)
            events["version"] = publication.version
        except Exception as error:  # noqa: BLE001 - reported, the load goes on
            events["error"] = f"{type(error).__name__}: {error}"

    def until_after_swap(now: float) -> bool:
        return "error" not in events and ("swap" not in events or now < events["swap"] + AFTER_SWAP_S)

    publisher = threading.Thread(target=publish, name="publisher", daemon=True)
    summary, run = run_cell(bench, "hybrid", 4, duration_s=duration, beside=publisher, keep_going=until_after_swap)
    if "swap" not in events:
        return {"overall": summary, "publish_error": events.get("error", "the publish did not finish in the cell")}
    write_start, swap = events["write_start"] - run.origin, events["swap"] - run.origin
    new = [s for s in run.samples if s.version == events["version"]]
    end = run.elapsed_s
    bounds = {
        "before the publish": (0.0, write_start),
        "while it is written": (write_start, swap),
        f"{SWAP_WINDOW_S:.0f} s after the swap": (swap, min(end, swap + SWAP_WINDOW_S)),
        "after that": (min(end, swap + SWAP_WINDOW_S), end),
    }
    return {
        "overall": summary,
        "rows": rows,
        "new_version": events["version"],
        "write_seconds": round(swap - write_start, 2),
        "swap_at_s": round(swap, 2),
        "first_new_answer_after_swap_ms": round(1000 * (min(s.started + s.seconds for s in new) - swap), 1)
        if new
        else None,
        "readyz_version_after": summary["readyz_version"],
        "phases": {name: summarize(window(run.samples, low, high), high - low) for name, (low, high) in bounds.items()},
    }


def profile(serving: Path, queries: Sequence[str]) -> dict[str, Any]:
    """Where one search's time goes, in this process, one query at a time: wall and CPU time
    (all threads) of the query's embedding, of each ranking on the publication (vector given)
    and of the JSON of a hybrid answer; then hybrid searches through 1 and PROFILE_THREADS
    threads (`searches_per_s`): how DuckDB alone scales on this machine."""
    from docvec.publishing.store import connect_publication
    from docvec.searching import SearchFilters, embed_query, search

    conn = connect_publication(os.path.realpath(serving))
    filters = SearchFilters(groups=(PUBLIC,))
    wall: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}

    def timed(stage: str, work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        started, cpu_started = time.perf_counter(), time.process_time()
        result = work(*args, **kwargs)
        wall.setdefault(stage, []).append(time.perf_counter() - started)
        cpu.setdefault(stage, []).append(time.process_time() - cpu_started)
        return result

    try:
        for query in queries[:WARMUP_PROFILE]:
            search(conn, query, k=K, mode="hybrid", filters=filters, vector=embed_query(query))
        jobs = []
        for query in queries:
            vector = timed("embedding", embed_query, query)
            jobs.append((query, vector))
            for mode, stage in (("vector", "vector (HNSW)"), ("keyword", "keyword (BM25)"), ("hybrid", "hybrid")):
                hits = timed(stage, search, conn, query, k=K, mode=mode, filters=filters, vector=vector)
            timed("response JSON", json.dumps, {"query": query, "results": [hit.as_dict() for hit in hits]})
        scaling = {f"{n} thread(s)": searches_per_s(conn, jobs, filters, n) for n in (1, PROFILE_THREADS)}
    finally:
        conn.close()
    stages = {
        stage: (latency(values) or {}) | {"cpu_p50_ms": round(1000 * statistics.median(cpu[stage]), 1)}
        for stage, values in wall.items()
    }
    return {"stages": stages, "hybrid_searches_per_s": scaling, "queries": len(queries)}


def searches_per_s(
    conn: duckdb.DuckDBPyConnection, jobs: Sequence[tuple[str, Any]], filters: Any, threads: int
) -> float:
    """Hybrid searches (query, vector) per second through `threads` threads, a cursor each."""
    from docvec.searching import search

    pending = list(jobs)
    lock = threading.Lock()

    def worker() -> None:
        cursor = conn.cursor()
        try:
            while True:
                with lock:
                    if not pending:
                        return
                    query, vector = pending.pop()
                search(cursor, query, k=K, mode="hybrid", filters=filters, vector=vector)
        finally:
            cursor.close()

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return round(len(jobs) / (time.perf_counter() - started), 2)


# -------------------------------------------------------------------------------------------
# The run and its report
# -------------------------------------------------------------------------------------------


def write_auth(folder: Path) -> tuple[Path, str]:
    """An auth config with one API key, mapped to group `public`; (its path, the key)."""
    key = generate_api_key()
    config = {"api_keys": [{"principal": "bench", "key_sha256": hash_api_key(key)}], "principals": {"bench": [PUBLIC]}}
    path = folder / "auth.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path, key


def ratios(cells: dict[str, dict[str, Any]], modes: Sequence[str], clients: Sequence[int]) -> dict[str, float]:
    """Throughput with n clients over one client, per mode (same run)."""
    out = {}
    for mode in modes:
        base = cells.get(f"{mode} x 1", {}).get("requests_per_s")
        for n in clients:
            other = cells.get(f"{mode} x {n}", {}).get("requests_per_s")
            if n != 1 and base and other is not None:
                out[f"{mode} {n}/1"] = round(other / base, 2)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=None, help="SciFact warehouse (default: docvec eval's work folder)")
    parser.add_argument("--duration", type=float, default=None, help=f"seconds per cell (default {DURATION_S:.0f})")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_DURATION_S:.0f} s cells, a short profile")
    parser.add_argument("--clients", default=",".join(map(str, CLIENTS)), help="comma-separated client counts")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated modes")
    parser.add_argument(
        "--variants", nargs="*", default=[], help="extra hybrid x 1 / x 4 cells, e.g. duckdb=1 torch=1,backend=onnx"
    )
    parser.add_argument("--max-requests", type=int, default=MAX_REQUESTS, help="bound per cell")
    parser.add_argument(
        "--retries", type=int, default=RETRIES, help=f"measure a cell again while others use > {MAX_OTHER_CORES} cores"
    )
    parser.add_argument("--profile-queries", type=int, default=None, help="queries of the in-process profile")
    parser.add_argument("--skip-publish", action="store_true", help="leave out the cell with a publish")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR, help="cached corpus, serving store, logs")
    parser.add_argument("--out", type=Path, default=None, help=f"JSON results (default {DEFAULT_OUT})")
    parser.add_argument("--markdown", type=Path, default=None, help="print the report of an earlier run's JSON, exit")
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(json.loads(args.markdown.read_text(encoding="utf-8"))))
        return 0
    duration = args.duration or (QUICK_DURATION_S if args.quick else DURATION_S)
    modes = [m for m in args.modes.split(",") if m]
    clients = [int(n) for n in args.clients.split(",") if n]
    variants = [Variant.parse(text) for text in args.variants]
    workdir = args.workdir
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    source, origin = corpus_source(workdir, args.db or default_workdir(SCIFACT) / "docvec.duckdb")
    corpus_seconds = time.perf_counter() - started
    serving_dir = workdir / "serving"
    shutil.rmtree(serving_dir, ignore_errors=True)
    serving_dir.mkdir()
    serving = serving_dir / "scifact.serving.duckdb"
    store = ServingStore(str(serving))
    started = time.perf_counter()
    store.activate(finalize(store, store.copy_candidate(str(source))[0]))
    publish_seconds = time.perf_counter() - started
    auth, key = write_auth(workdir)
    all_queries = list(read_beir(SCIFACT, "train").queries.values())
    bench = Bench(
        serving, auth, key, all_queries[:-WARMUP_QUERIES], all_queries[-WARMUP_QUERIES:],
        forbidden_chunks(source), logs, duration, args.max_requests, args.retries,
    )  # fmt: skip
    with duckdb.connect(str(source), read_only=True) as conn:
        chunks = conn.execute(f"select count(*) from {SERVING_TABLE}").fetchall()[0][0]
    report: dict[str, Any] = {
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command_line("bench.service_bench"),
        "machine": machine_info(),
        "corpus": {
            "origin": origin,
            "chunks": chunks,
            "staff_chunks": len(bench.forbidden),
            "seconds": round(corpus_seconds, 1),
        },
        "publish_v1_seconds": round(publish_seconds, 1),
        "queries": len(bench.queries),
        "duration_s": duration,
        "k": K,
        "mcp": importlib.util.find_spec("docvec.service.mcp_server") is not None,
    }
    count = args.profile_queries or (30 if args.quick else 100)
    report["profile"] = profile(serving, bench.queries[:count])
    print(f"profile: {json.dumps(report['profile'])}", file=sys.stderr, flush=True)
    out = args.out or (DEFAULT_OUT.with_name("service_bench-quick.json") if args.quick else DEFAULT_OUT)
    out.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:  # after every cell: a crash or an interrupt keeps what was measured
        out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")

    cells: dict[str, dict[str, Any]] = report.setdefault("cells", {})
    for mode in modes:
        for n in clients:
            cells[f"{mode} x {n}"] = quiet_cell(bench, mode, n)
            save()
    report["ratios"] = ratios(cells, modes, clients)
    extra: dict[str, dict[str, Any]] = {}
    for variant in variants:
        for n in (1, 4):
            extra[f"hybrid x {n}, {variant.label()}"] = quiet_cell(bench, "hybrid", n, variant)
            report["variants"] = extra
            save()
        one, four = (extra[f"hybrid x {n}, {variant.label()}"]["requests_per_s"] for n in (1, 4))
        report["ratios"][f"hybrid 4/1, {variant.label()}"] = round(four / one, 2) if one else None
    if not args.skip_publish:
        changed = workdir / "changed.duckdb"
        report["change"] = write_changed_warehouse(source, changed).as_dict()
        report["publish_during_run"] = publish_cell(bench, store, changed)
    save()
    print(markdown(report))
    print(f"written to {out}", file=sys.stderr)
    return 0


def _ms(lat: dict[str, float] | None, *names: str) -> list[str]:
    return [f"{lat[name]:.1f}" if lat else "–" for name in names]


def markdown(report: dict[str, Any]) -> str:
    """The cells, the throughput ratios, the publish during a run and the in-process profile."""
    headers = ["cell", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors", "server took p50", "outside p50",
               "server CPU ms/req", "server/client/other cores", "repeated"]  # fmt: skip
    cells = {**report["cells"], **report.get("variants", {})}
    rows = [
        [name, f"{c['requests_per_s']:.1f}", *_ms(c["latency"], "p50_ms", "p95_ms", "p99_ms", "max_ms"), c["errors"],
         c["server_took_p50_ms"], c["outside_server_p50_ms"], c.get("server_cpu_ms_per_request", "–"),
         "/".join(str(c.get(f"{who}_cpu_cores", "–")) for who in ("server", "bench", "other")), c["repeated_queries"]]
        for name, c in cells.items()
    ]  # fmt: skip
    lines = [markdown_table(headers, rows), ""]
    ratio_text = ", ".join(f"{k} = {v:.2f}x" if v else f"{k}: –" for k, v in report.get("ratios", {}).items())
    lines.append(f"Throughput ratios (same run): {ratio_text}")
    crashed = [
        f"{name} (exit {c['server_exit']})" for name, c in cells.items() if c.get("server_exit") not in CLEAN_EXITS
    ]
    lines.append(f"Servers that did not stop cleanly: {', '.join(crashed) or 'none'}.")
    again = [f"{name} ({c['attempts']})" for name, c in cells.items() if c.get("attempts", 1) > 1]
    lines.append(
        f"Cells measured again because other processes used > {MAX_OTHER_CORES} cores: {', '.join(again) or 'none'}."
    )
    forbidden = sum(c["forbidden_hits"] for c in cells.values())
    lines.append(f"Results from documents the caller may not read: {forbidden}.")
    during = report.get("publish_during_run")
    if during and "phases" in during:
        lines += ["", f"Hybrid x 4 clients with a publish of v{during['new_version']} ({during['rows']:,} rows, "
                  f"written in {during['write_seconds']:.1f} s, swap at {during['swap_at_s']:.1f} s):", ""]  # fmt: skip
        rows = [
            [phase, p["requests"], p["errors"], *_ms(p["latency"], "p50_ms", "p95_ms", "p99_ms", "max_ms"),
             ", ".join(f"{v}: {n}" for v, n in p["versions"].items())]
            for phase, p in during["phases"].items()
        ]  # fmt: skip
        lines.append(markdown_table(["phase", "requests", "errors", "p50", "p95", "p99", "max", "versions"], rows))
        lines.append("")
        overall = during["overall"]
        lines.append(
            f"Overall {overall['requests_per_s']:.1f} req/s, {overall['errors']} errors; first answer from the new "
            f"version {during['first_new_answer_after_swap_ms']} ms after the swap; /readyz afterwards: "
            f"v{during['readyz_version_after']}."
        )
    elif during:
        lines.append(f"Publish during the run failed: {during.get('publish_error')}")
    stages = report["profile"]["stages"]
    profile_rows = [[stage, *_ms(lat, "p50_ms", "p95_ms", "cpu_p50_ms")] for stage, lat in stages.items()]
    lines += ["", f"In-process profile ({report['profile']['queries']} queries, one at a time):", ""]
    lines.append(markdown_table(["stage", "p50 ms", "p95 ms", "CPU p50 ms (all threads)"], profile_rows))
    lines.append("")
    rates = report["profile"]["hybrid_searches_per_s"]
    lines.append("In-process hybrid searches/s (vector given): " + ", ".join(f"{k}: {v}" for k, v in rates.items()))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
