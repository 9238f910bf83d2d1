"""Helpers of bench.publish_bench: the bench warehouses and their 1% change, a throwaway PostgreSQL
server, the full build's seconds, and the serving-during-a-build run (a reader process that
searches the serving store while a `dbt build` runs).

Kept apart from the benchmark itself so that each module holds one concern: this one prepares and
observes, `bench.publish_bench` publishes, times and reports.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import subprocess
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from docvec.evaluation import read_beir
from docvec.evaluation.runner import beir_dbt_vars, dbt_build_command, dbt_environment, project_dir
from docvec.publishing.publisher import PublishRequest, publish
from docvec.publishing.store import SERVING_TABLE, ServingStore, content_digest
from docvec.publishing.targets import EMBEDDED_TARGET
from python_udfs import fts_text

# The 1% change: shares of the candidate's rows updated, deleted and inserted (new chunk ids).
UPDATE_SHARE = 0.005
DELETE_SHARE = 0.0025
INSERT_SHARE = 0.0025
REVISION_NOTE = " (revised by bench.publish_bench)"
NEW_ID_SUFFIX = "#publish-bench-"
VECTOR_NOISE = 0.3  # norm of the Gaussian noise added to an updated row's vector (then renormalised)
PG_START_TIMEOUT_S = 120.0
PG_STOP_TIMEOUT_S = 20.0
STAGE_COLUMNS = (
    "staging_seconds",
    "parse_seconds",
    "redact_seconds",
    "chunk_seconds",
    "embed_seconds",
    "serve_seconds",
)
BLOCKED_S = 1.0  # a reader query slower than this counts as blocked
BUILD_TIMEOUT_S = 1200.0
IDLE_AROUND_BUILD_S = 15.0  # reader-only seconds before and after the build
EXCLUDE_FLAG = "--exclude"
RECORD_FIELDS = ("status", "version", "rows", "inserted", "updated", "deleted", "missing", "extra", "mismatched")


# -------------------------------------------------------------------------------------------
# The bench warehouses
# -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """What the 1% change did to the candidate."""

    rows_before: int
    updated: int
    deleted: int
    inserted: int
    rows_after: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def record_values(record: Mapping[str, Any]) -> dict[str, Any]:
    return {name: record.get(name) for name in RECORD_FIELDS} | {"record_seconds": record.get("seconds")}


def copy_search_index(source: Path, target: Path) -> int:
    """A warehouse file `target` holding only `search_index` of `source` (opened read-only): what
    copy_candidate and the publisher read. The row count."""
    target.unlink(missing_ok=True)
    with duckdb.connect(str(target)) as conn:
        conn.execute(f"attach '{_quoted(str(source))}' as source_warehouse (read_only)")
        conn.execute(
            f"create table {SERVING_TABLE} as select * from source_warehouse.main.{SERVING_TABLE} order by chunk_id"
        )
        conn.execute("detach source_warehouse")
        conn.execute("checkpoint")
        return _count(conn)


def write_changed_warehouse(base: Path, target: Path, seed: int = 0) -> Change:
    """A copy of the warehouse `base` with ~1% of its search_index rows changed: UPDATE_SHARE get a
    new chunk_text (hence text_sha256 and fts_text) and a perturbed vector, DELETE_SHARE are
    deleted, INSERT_SHARE are inserted as copies of other rows under new chunk ids. The rows are
    picked by a seeded hash of chunk_id, disjointly."""
    shutil.copyfile(base, target)
    with duckdb.connect(str(target)) as conn:
        fts_text.ensure_registered(conn)
        before = _count(conn)
        n_update, n_delete, n_insert = (
            max(1, round(before * share)) for share in (UPDATE_SHARE, DELETE_SHARE, INSERT_SHARE)
        )
        conn.execute(
            f"create temp table picked as select chunk_id, row_number() over (order by hash(chunk_id || ?), chunk_id) "
            f"as position from {SERVING_TABLE}",
            [str(seed)],
        )
        update_ids = _picked(conn, 0, n_update)
        delete_ids = _picked(conn, n_update, n_delete)
        insert_ids = _picked(conn, n_update + n_delete, n_insert)
        _update_rows(conn, update_ids, seed)
        conn.execute(f"delete from {SERVING_TABLE} where chunk_id in (select unnest(?::varchar[]))", [delete_ids])
        conn.execute(
            f"insert into {SERVING_TABLE} select * replace (chunk_id || ? as chunk_id) from {SERVING_TABLE} "
            "where chunk_id in (select unnest(?::varchar[]))",
            [f"{NEW_ID_SUFFIX}{seed}", insert_ids],
        )
        conn.execute("checkpoint")
        return Change(before, len(update_ids), len(delete_ids), len(insert_ids), _count(conn))


def _picked(conn: duckdb.DuckDBPyConnection, offset: int, count: int) -> list[str]:
    rows = conn.execute(
        "select chunk_id from picked where position > ? and position <= ? order by position", [offset, offset + count]
    ).fetchall()
    return [row[0] for row in rows]


def _update_rows(conn: duckdb.DuckDBPyConnection, chunk_ids: Sequence[str], seed: int) -> None:
    """New chunk_text (+ text_sha256, fts_text) and a perturbed, renormalised vector for `chunk_ids`."""
    rows = conn.execute(
        f"select chunk_id, embedding from {SERVING_TABLE} where chunk_id in (select unnest(?::varchar[])) "
        "order by chunk_id",
        [list(chunk_ids)],
    ).to_arrow_table()
    dimension = rows.schema.field("embedding").type.list_size
    vectors = np.asarray(rows.column("embedding").combine_chunks().flatten(), dtype=np.float32)
    vectors = vectors.reshape(rows.num_rows, dimension)
    rng = np.random.default_rng(seed)
    vectors = vectors + rng.normal(0.0, VECTOR_NOISE / np.sqrt(dimension), vectors.shape).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    changes = pa.table(  # noqa: F841 - read by the UPDATE below (DuckDB's replacement scan)
        {
            "chunk_id": rows.column("chunk_id"),
            "embedding": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1), pa.float32()), dimension),
        }
    )
    conn.execute(
        f"""
        update {SERVING_TABLE} set
            chunk_text = {SERVING_TABLE}.chunk_text || ?,
            text_sha256 = sha256({SERVING_TABLE}.chunk_text || ?),
            fts_text = {fts_text.FUNCTION_NAME}(concat_ws(' ', {SERVING_TABLE}.chunk_text || ?, {SERVING_TABLE}.title,
                                                           {SERVING_TABLE}.section)),
            embedding = changes.embedding::float[{dimension}]
        from changes
        where {SERVING_TABLE}.chunk_id = changes.chunk_id
        """,
        [REVISION_NOTE, REVISION_NOTE, REVISION_NOTE],
    )


def warehouse_digest(path: Path) -> tuple[str, int]:
    """The content digest and rows of search_index in a warehouse file (what the dbt hook compares)."""
    with duckdb.connect(str(path), read_only=True) as conn:
        return content_digest(conn)


def _count(conn: duckdb.DuckDBPyConnection) -> int:
    row = conn.execute(f"select count(*) from {SERVING_TABLE}").fetchone()
    assert row is not None
    return int(row[0])


def _quoted(text: str) -> str:
    return text.replace("'", "''")


# -------------------------------------------------------------------------------------------
# The full build it is compared with
# -------------------------------------------------------------------------------------------


def full_build_seconds(warehouse: Path) -> dict[str, Any]:
    """The pipeline_runs row of the warehouse's full build (the invocation that embedded the most
    texts): its stage seconds (sum of STAGE_COLUMNS, from dbt's own model timings) and the span
    from the invocation's start to the pipeline_runs model (almost the whole build: only tests,
    evaluation models and hooks after it are left out)."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        row = conn.execute(
            f"select invocation_id, started_at::varchar, texts_embedded, search_index_chunks, "
            f"{' + '.join(f'coalesce({c}, 0)' for c in STAGE_COLUMNS)}, "
            "epoch(finished_at) - epoch(started_at), "
            f"{', '.join(STAGE_COLUMNS)} "
            "from pipeline_runs order by texts_embedded desc, started_at limit 1"
        ).fetchone()
    if row is None:
        raise SystemExit(f"{warehouse} has no pipeline_runs row: build it first")
    invocation, started, embedded, chunks, stage_total, span = row[:6]
    return {
        "invocation_id": invocation,
        "started_at": started,
        "texts_embedded": int(embedded),
        "search_index_chunks": int(chunks),
        "stage_seconds": round(float(stage_total), 1),
        "span_to_pipeline_runs_seconds": round(float(span), 1),
        "stages": dict(zip(STAGE_COLUMNS, row[6:])),
    }


# -------------------------------------------------------------------------------------------
# PostgreSQL (pgserver: bundled PostgreSQL + pgvector, Unix socket only)
# -------------------------------------------------------------------------------------------


@contextmanager
def postgres_server(folder: Path) -> Iterator[str]:
    """A PostgreSQL server with pgvector in `folder`, listening on a Unix socket only (pgserver
    starts postgres with `-h ""`); yields its libpq URI, stops the server and removes `folder`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import pgserver
    import psutil  # a dependency of pgserver

    folder.mkdir(parents=True, exist_ok=True)
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        server = pool.submit(pgserver.get_server, folder / "data", cleanup_mode="delete").result(
            timeout=PG_START_TIMEOUT_S
        )
    finally:
        pool.shutdown(wait=False)
    pid = server.get_pid()
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        deadline = time.monotonic() + PG_STOP_TIMEOUT_S
        while pid is not None and psutil.pid_exists(pid) and time.monotonic() < deadline:
            try:
                if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.NoSuchProcess:
                break
            time.sleep(0.1)
        else:
            if pid is not None and psutil.pid_exists(pid):
                psutil.Process(pid).kill()
        shutil.rmtree(folder, ignore_errors=True)


# -------------------------------------------------------------------------------------------
# The reader process (serving during a build)
# -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReaderPlan:
    """What the reader process does: one hybrid query every `interval_s`, at most `max_queries`
    and `max_seconds`, each through a fresh `docvec.connect` of the serving link."""

    serving_path: str
    queries: list[str]
    vectors: list[list[float]]
    out_path: str
    interval_s: float = 0.1
    max_seconds: float = BUILD_TIMEOUT_S + 4 * IDLE_AROUND_BUILD_S
    max_queries: int = 15_000
    warmup: int = 3


def run_reader(plan: ReaderPlan, ready: Any, stop: Any) -> None:
    """The reader process: warm up, set `ready`, then query until `stop` is set or a bound is
    reached; writes [wall start, seconds, version, results, error] per query to plan.out_path."""
    from docvec.searching import connect, search

    def one(i: int) -> tuple[int | None, int, str | None]:
        try:
            conn = connect(plan.serving_path)
            try:
                hits = search(conn, plan.queries[i], k=10, mode="hybrid", vector=plan.vectors[i])
                row = conn.execute("select version from docvec_publication").fetchone()
            finally:
                conn.close()
        except Exception as error:  # noqa: BLE001 - every failure is counted, none stops the reader
            return None, 0, f"{type(error).__name__}: {' '.join(str(error).split())[:200]}"
        return (int(row[0]) if row else None), len(hits), None

    for i in range(plan.warmup):
        one(i % len(plan.queries))
    ready.set()
    records: list[list[Any]] = []
    deadline = time.monotonic() + plan.max_seconds
    while len(records) < plan.max_queries and time.monotonic() < deadline and not stop.is_set():
        i = len(records) % len(plan.queries)
        wall, started = time.time(), time.perf_counter()
        version, found, error = one(i)
        seconds = time.perf_counter() - started
        records.append([wall, seconds, version, found, error])
        stop.wait(max(0.0, plan.interval_s - seconds))
    Path(plan.out_path).write_text(json.dumps(records), encoding="utf-8")


def reader_summary(records: Sequence[Sequence[Any]], window: tuple[float, float]) -> dict[str, Any]:
    """Queries before, during and after the build's wall-clock `window` (start, end): counts, failed,
    blocked (> BLOCKED_S), p50/p95 of the successful ones, and which versions answered."""
    from bench.latency_bench import percentiles

    start, end = window
    phases: dict[str, list[Sequence[Any]]] = {"before build": [], "during build": [], "after build": []}
    for record in records:
        phase = "before build" if record[0] < start else "during build" if record[0] <= end else "after build"
        phases[phase].append(record)
    summary: dict[str, Any] = {}
    for phase, rows in phases.items():
        ok = [row for row in rows if row[4] is None]
        versions: dict[str, int] = {}
        for row in ok:
            versions[f"v{row[2]}"] = versions.get(f"v{row[2]}", 0) + 1
        summary[phase] = {
            "queries": len(rows),
            "failed": len(rows) - len(ok),
            "blocked": sum(1 for row in rows if row[1] > BLOCKED_S),
            "empty_results": sum(1 for row in ok if row[3] == 0),
            "latency": percentiles([row[1] for row in ok]) if ok else None,
            "max_ms": round(max(row[1] for row in rows) * 1000, 1) if rows else None,
            "versions": versions,
            "errors": sorted({row[4] for row in rows if row[4]})[:5],
        }
    return summary


def landing_edit(landing: Path) -> tuple[Path, bytes]:
    """Append a sentence to the first record of the first landing shard (a JSONL file), so that a
    build has one changed document to publish; (the shard, its previous bytes)."""
    shards = sorted((landing / "corpus").glob("part-*.jsonl"))
    if not shards:
        raise SystemExit(f"no landing shards in {landing / 'corpus'}: run `docvec eval --beir` first")
    shard = shards[0]
    original = shard.read_bytes()
    lines = original.decode("utf-8").splitlines()
    record = json.loads(lines[0])
    record["text"] = f"{record.get('text') or ''} Edited by bench.publish_bench at {time.time():.0f}."
    lines[0] = json.dumps(record, ensure_ascii=False)
    shard.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return shard, original


# -------------------------------------------------------------------------------------------
# Serving during a build
# -------------------------------------------------------------------------------------------


def publishing_build_command(command: list[str]) -> list[str]:
    """The eval runner's `dbt build` without its `--exclude tag:evaluation_threshold`: the
    publication audit counts an excluded error-severity test as not run and holds the candidate
    back, so the eval's own build never publishes. With the gates run (SciFact passes them), the
    build publishes when its tests pass, as a production build does."""
    if EXCLUDE_FLAG in command:
        position = command.index(EXCLUDE_FLAG)
        return command[:position] + command[position + 2 :]
    return list(command)


def seed_publication(serving: str, warehouse: Path) -> dict[str, Any]:
    """Publish the warehouse's search_index as the store's first version (what the dbt hook does
    once the audit passes), so that there is something to serve before the build."""
    store = ServingStore(serving)
    incoming, digest, rows = store.copy_candidate(str(warehouse))
    records = publish(
        PublishRequest(serving, command="bench", incoming_path=incoming, candidate_digest=digest, candidate_rows=rows)
    )
    return record_values(next(r for r in records if r["target"] == EMBEDDED_TARGET))


def serving_during_build(
    work: Path, dataset: Path, queries: list[str], vectors: list[list[float]], bench_dir: Path
) -> dict[str, Any]:
    """A reader process on the SciFact serving store before, during and after a `dbt build`."""
    db, landing, golden = work / "docvec.duckdb", work / "landing", work / "golden_questions.csv"
    serving = str(work / "docvec.serving.duckdb")
    if not db.is_file():
        raise SystemExit(f"no warehouse at {db}: run `docvec eval --beir {dataset}` first")
    store = ServingStore(serving)
    seeded = None if store.current() is not None else seed_publication(serving, db)
    log_before = len(store.read_log())
    variables = beir_dbt_vars(landing.resolve(), golden.resolve(), read_beir(dataset, None, 1).name)
    command = publishing_build_command(dbt_build_command(project_dir(), work, variables))
    environment = dbt_environment(db, landing)
    environment.pop("DOCVEC_SERVING_PATH", None)  # the build publishes beside its warehouse, as in `docvec eval`
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Event(), context.Event()
    plan = ReaderPlan(serving, queries, vectors, str(bench_dir / "reader.json"))
    reader = context.Process(target=run_reader, args=(plan, ready, stop), daemon=True)
    reader.start()
    shard, original = None, b""
    build: dict[str, Any] = {}
    try:
        if not ready.wait(timeout=120):
            raise SystemExit("the reader process did not start within 120 s")
        time.sleep(IDLE_AROUND_BUILD_S)
        shard, original = landing_edit(landing)
        log_path = bench_dir / "dbt_build.log"
        started_wall, started = time.time(), time.perf_counter()
        with open(log_path, "w", encoding="utf-8") as log:
            try:
                returncode = subprocess.run(
                    command, cwd=project_dir(), env=environment, stdout=log, stderr=subprocess.STDOUT,
                    timeout=BUILD_TIMEOUT_S, check=False,
                ).returncode  # fmt: skip
            except subprocess.TimeoutExpired:
                returncode = None
        build = {
            "returncode": returncode,
            "seconds": round(time.perf_counter() - started, 1),
            "window": [started_wall, time.time()],
            "log_tail": log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-5:],
        }
        time.sleep(IDLE_AROUND_BUILD_S)
    finally:
        if shard is not None:
            shard.write_bytes(original)  # a fresh mtime: the next build reads the shard again
        stop.set()
        reader.join(timeout=60)
        if reader.is_alive():
            reader.kill()
    records = json.loads(Path(plan.out_path).read_text(encoding="utf-8"))
    published = [r for r in store.read_log()[log_before:] if r.get("target") == EMBEDDED_TARGET]
    return {
        "seeded": seeded,
        "command": command[1:],
        "build": build,
        "publish_records": [record_values(r) | {"lag_seconds": r.get("lag_seconds")} for r in published],
        "reader": reader_summary(records, (build["window"][0], build["window"][1])) if build else {},
        "interval_s": plan.interval_s,
        "blocked_threshold_s": BLOCKED_S,
    }
