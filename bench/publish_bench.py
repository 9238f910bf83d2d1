"""Load stage at SciFact scale: publish seconds per target, search latency per target and mode,
and serving from the embedded store while a `dbt build` runs.

    .venv/bin/python -m bench.eval_scifact          # once: the SciFact warehouse (docvec eval --beir)
    .venv/bin/python -m bench.publish_bench [--db PATH] [--queries 200] [--skip-build-test]
                                            [--workdir DIR] [--out bench/results/publish.json]

1. Publish. `search_index` of the SciFact warehouse is copied into a bench warehouse, and a copy
   of that gets a 1% change (bench.publish_support: 0.5% of the rows updated -- chunk_text,
   text_sha256, fts_text, vector -- 0.25% deleted, 0.25% inserted under new chunk ids). Three
   publishes, to an embedded serving store and to a LanceDB folder and a PostgreSQL + pgvector
   database (pgserver, Unix socket only) that start empty: a full publish, the 1% change, and a
   no-op (the same candidate again). Embedded: what the dbt hook does -- the candidate's digest,
   then, only when it differs from the current publication's, `copy_candidate` + `publish` (else
   `publish` without an incoming copy: "unchanged"). Each external target: its own `publish` of the
   current publication (reading it, checksums, sync, parity check), timed on its own. Each is
   reported as a share of the full dbt build of the same corpus (pipeline_runs stage seconds of
   the warehouse's full build). Target: a 1% change publishes in <= 5% of the full build.
2. Search latency. The first `--queries` SciFact train queries, embedded once beforehand (the
   model is not timed), k = 10, caller group `public`, after a warm-up: every target x mode
   (vector, hybrid, keyword), plus exact vector ranking, and the embedded store opened anew per
   query. Each ranking's top 10 is compared with the embedded store's exact ranking of that mode.
   Target: p95 < 50 ms for vector and hybrid on the embedded default.
3. Serving during a build. A reader process (bench.publish_support.run_reader) runs one hybrid
   query every 100 ms, each through a fresh `docvec.connect` of the SciFact serving link, before,
   during and after a `dbt build` of the SciFact project: the eval runner's command, vars and
   environment, except that its `--exclude tag:evaluation_threshold` is dropped (the publication
   audit holds back a candidate whose error tests did not run, so `docvec eval`'s own build never
   publishes), with one landing record edited so that the build publishes a new version (restored
   afterwards). When the store holds no publication yet, the warehouse's search_index is published
   first as its v1. Failed and blocked (> 1 s) queries, p50/p95 before, during and after the build, and
   the publication versions that answered.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

# Offline settings: bench/__init__.py (runs before this module).

from bench import publish_support as support  # noqa: E402
from bench.chunking_bench import command_line, machine_info, markdown_table  # noqa: E402
from bench.latency_bench import percentiles  # noqa: E402
from docvec.evaluation import default_workdir, read_beir  # noqa: E402
from docvec.publishing.publisher import PublishRequest, publish, read_candidate  # noqa: E402
from docvec.publishing.rows import table_checksums  # noqa: E402
from docvec.publishing.store import ServingStore  # noqa: E402
from docvec.publishing.target_search import search_target  # noqa: E402
from docvec.publishing.targets import EMBEDDED_TARGET, make_target  # noqa: E402
from docvec.searching import connect, search  # noqa: E402
from python_udfs.ranking import DEFAULT_CANDIDATES  # noqa: E402

SCIFACT = PROJECT_ROOT.parent / "shared" / "datasets" / "scifact"
DEFAULT_OUT = PROJECT_ROOT / "bench" / "results" / "publish.json"
PG_DSN_ENV = "DOCVEC_BENCH_PG_DSN"
K = 10
MODES = ("vector", "hybrid", "keyword")
SCENARIOS = ("full publish", "1% change", "no-op")
TARGET_GOAL_SHARE = 0.05  # a 1% change publishes in <= 5% of the full build
LATENCY_GOAL_MS = 50.0  # p95, vector and hybrid, embedded default
DEFAULT_VARIANT = "default (index)"
EXACT = "exact"
HYBRID_LIST = f"k={DEFAULT_CANDIDATES}: one of hybrid's two lists"
REOPENED = "default, connect per query"


# -------------------------------------------------------------------------------------------
# 1. Publishing
# -------------------------------------------------------------------------------------------


def target_configs(workdir: Path) -> list[dict[str, Any]]:
    """The external targets of the bench (var publish_targets entries)."""
    return [
        {"name": "lancedb", "type": "lancedb", "uri": str(workdir / "lancedb")},
        {"name": "postgres", "type": "postgres", "dsn_env": PG_DSN_ENV},
    ]


def publish_embedded(serving: str, warehouse: Path) -> dict[str, Any]:
    """Publish `warehouse` to the embedded store as the dbt hook does; seconds and the record."""
    store = ServingStore(serving)
    started = time.perf_counter()
    digest, rows = support.warehouse_digest(warehouse)
    current = store.current()
    if current is not None and current.digest == digest:
        records = publish(PublishRequest(serving_path=serving, command="bench", candidate_digest=digest))
    else:
        incoming, digest, rows = store.copy_candidate(str(warehouse))
        request = PublishRequest(
            serving_path=serving, command="bench", incoming_path=incoming, candidate_digest=digest, candidate_rows=rows
        )
        records = publish(request)
    seconds = time.perf_counter() - started
    record = next(r for r in records if r["target"] == EMBEDDED_TARGET)
    return {"seconds": round(seconds, 3), **support.record_values(record)}


def publish_external(serving: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """Publish the current publication to one external target (with its parity check), timed."""
    current = ServingStore(serving).current()
    assert current is not None
    started = time.perf_counter()
    records = publish(
        PublishRequest(
            serving_path=serving,
            command="bench",
            candidate_digest=current.digest,
            candidate_rows=current.row_count,
            targets=(dict(config),),
        )
    )
    seconds = time.perf_counter() - started
    record = next(r for r in records if r["target"] == config["name"])
    return {"seconds": round(seconds, 3), **support.record_values(record)}


def candidate_read_seconds(serving: str) -> float:
    """What every external publish pays once: the publication read into Arrow and its checksums."""
    current = ServingStore(serving).current()
    assert current is not None
    started = time.perf_counter()
    table_checksums(read_candidate(current))
    return round(time.perf_counter() - started, 3)


def publish_scenarios(serving: str, warehouses: Mapping[str, Path], configs: Sequence[Mapping[str, Any]]) -> dict:
    """{scenario: {target: result}} for the full publish, the 1% change and the no-op."""
    results: dict[str, dict[str, Any]] = {}
    for scenario, warehouse in warehouses.items():
        results[scenario] = {EMBEDDED_TARGET: publish_embedded(serving, warehouse)}
        for config in configs:
            results[scenario][str(config["name"])] = publish_external(serving, config)
        print(f"publish {scenario}: {json.dumps(results[scenario])}", file=sys.stderr, flush=True)
    return results


# -------------------------------------------------------------------------------------------
# 2. Search latency
# -------------------------------------------------------------------------------------------


def timed_runs(run: Callable[[int], list[str]], n: int, warmup: int) -> tuple[list[float], list[list[str]]]:
    """Seconds and top-k chunk ids of `run(i)` for i < n, after `warmup` untimed calls."""
    for i in range(min(warmup, n)):
        run(i)
    seconds, found = [], []
    for i in range(n):
        started = time.perf_counter()
        ids = run(i)
        seconds.append(time.perf_counter() - started)
        found.append(ids)
    return seconds, found


def search_latency(
    serving: str, configs: Sequence[Mapping[str, Any]], queries: list[str], vectors: list[list[float]], warmup: int
) -> list[dict[str, Any]]:
    """One row per (target, mode, variant): p50/p95/mean ms and top-10 overlap with the embedded
    store's exact ranking of the mode (BM25 for keyword). The embedded store is searched through
    one long-lived connection, then through a fresh connection per query (timed once no other
    connection holds the file open, so that DuckDB really opens it and loads its indexes)."""
    n = len(queries)
    conn = connect(serving)
    targets = {str(c["name"]): make_target(c) for c in configs}

    def embedded(mode: str, exact: bool, k: int = K) -> Callable[[int], list[str]]:
        return lambda i: [r.chunk_id for r in search(conn, queries[i], k=k, mode=mode, exact=exact, vector=vectors[i])]

    def reopened(i: int) -> list[str]:
        with connect(serving) as fresh:
            return [r.chunk_id for r in search(fresh, queries[i], k=K, mode="hybrid", vector=vectors[i])]

    def external(name: str, mode: str, exact: bool) -> Callable[[int], list[str]]:
        target = targets[name]
        return lambda i: [
            r.chunk_id for r in search_target(target, queries[i], k=K, mode=mode, exact=exact, vector=vectors[i])
        ]

    cases: list[tuple[str, str, str, Callable[[int], list[str]] | None]] = []
    for mode in ("vector", "hybrid"):
        cases.append((EMBEDDED_TARGET, mode, EXACT, embedded(mode, True)))
        cases.append((EMBEDDED_TARGET, mode, DEFAULT_VARIANT, embedded(mode, False)))
    cases.append((EMBEDDED_TARGET, "keyword", DEFAULT_VARIANT, embedded("keyword", False)))  # BM25: no vectors
    for mode in ("vector", "keyword"):  # the two lists hybrid fuses, each DEFAULT_CANDIDATES deep
        cases.append((EMBEDDED_TARGET, mode, HYBRID_LIST, embedded(mode, False, DEFAULT_CANDIDATES)))
    cases.append((EMBEDDED_TARGET, "hybrid", "(closing the long-lived connection)", None))
    cases.append((EMBEDDED_TARGET, "hybrid", REOPENED, reopened))
    for name in targets:
        for mode in MODES:
            cases.append((name, mode, DEFAULT_VARIANT, external(name, mode, False)))
        cases.append((name, "vector", EXACT, external(name, "vector", True)))
    rows: list[dict[str, Any]] = []
    reference: dict[str, list[list[str]]] = {}
    try:
        for target, mode, variant, run in cases:
            if run is None:
                conn.close()
                continue
            seconds, found = timed_runs(run, n, warmup)
            if target == EMBEDDED_TARGET and (variant == EXACT or (mode == "keyword" and variant == DEFAULT_VARIANT)):
                reference[mode] = found
            overlap = None
            if variant != HYBRID_LIST:
                shared = sum(len(set(a) & set(b)) for a, b in zip(found, reference[mode]))
                overlap = round(shared / max(1, sum(len(b) for b in reference[mode])), 4)
            row = {"target": target, "mode": mode, "variant": variant, **percentiles(seconds)}
            rows.append(row | {"overlap_at_10_with_embedded_exact": overlap})
            print(f"latency: {json.dumps(rows[-1])}", file=sys.stderr, flush=True)
    finally:
        conn.close()
        for target_object in targets.values():
            target_object.close()
    return rows


# -------------------------------------------------------------------------------------------
# Report
# -------------------------------------------------------------------------------------------


def _share(seconds: float, build: float) -> str:
    return f"{100 * seconds / build:.2f}%"


def markdown(report: Mapping[str, Any]) -> str:
    build = report["full_build"]["stage_seconds"]
    publish_rows = []
    for scenario, results in report["publish"].items():
        for target, result in results.items():
            counts = f"+{result['inserted']} ~{result['updated']} -{result['deleted']}"
            parity = f"{result['missing']}/{result['extra']}/{result['mismatched']}"
            publish_rows.append(
                [scenario, target, result["status"], counts, parity, f"{result['seconds']:.2f}",
                 _share(result["seconds"], build)]
            )  # fmt: skip
    lines = [
        f"Full build of the corpus: {build:,.1f} s (pipeline_runs stage seconds of the build that embedded "
        f"{report['full_build']['texts_embedded']:,} texts); candidate {report['change']['rows_before']:,} rows; "
        f"1% change = +{report['change']['inserted']} ~{report['change']['updated']} -{report['change']['deleted']}.",
        "",
        markdown_table(
            ["step", "target", "status", "rows +ins ~upd -del", "parity miss/extra/mism", "seconds", "% of full build"],
            publish_rows,
        ),
        "",
        f"Every external publish includes reading the publication and its checksums: "
        f"{report['candidate_read_seconds']:.2f} s.",
        "",
    ]
    latency_rows = [
        [r["target"], r["mode"], r["variant"], f"{r['p50_ms']:.1f}", f"{r['p95_ms']:.1f}",
         "" if r["overlap_at_10_with_embedded_exact"] is None else f"{r['overlap_at_10_with_embedded_exact']:.3f}"]
        for r in report["latency"]
    ]  # fmt: skip
    lines.append(
        markdown_table(
            ["target", "mode", "variant", "p50 ms", "p95 ms", "top-10 overlap with embedded exact"], latency_rows
        )  # fmt: skip
    )
    during = report.get("serving_during_build")
    if during and during.get("reader"):
        lines += ["", _serving_line(during)]
        reader_rows = []
        for phase, s in during["reader"].items():
            latency = s["latency"] or {"p50_ms": float("nan"), "p95_ms": float("nan")}
            versions = ", ".join(f"{v}: {n}" for v, n in sorted(s["versions"].items()))
            reader_rows.append(
                [phase, s["queries"], s["failed"], s["blocked"], f"{latency['p50_ms']:.1f}", f"{latency['p95_ms']:.1f}",
                 s["max_ms"], versions]
            )  # fmt: skip
        lines.append(
            markdown_table(
                ["phase", "queries", "failed", "blocked (> 1 s)", "p50 ms", "p95 ms", "max ms", "versions"], reader_rows
            )  # fmt: skip
        )
    loads = "; ".join(f"{part} {' / '.join(f'{x:.1f}' for x in value)}" for part, value in report["loadavg"].items())
    lines += ["", f"Load average (1 / 5 / 15 min): {loads}.", "", *verdicts(report)]
    return "\n".join(lines)


def _serving_line(during: Mapping[str, Any]) -> str:
    build = during["build"]
    published = ", ".join(
        f"{r['status']} v{r['version']} (+{r['inserted']} ~{r['updated']} -{r['deleted']}, {r['record_seconds']} s)"
        for r in during["publish_records"]
    )
    seeded = " (store seeded with v1 from the warehouse first)" if during.get("seeded") else ""
    return (
        f"`dbt build` during the reader: exit {build['returncode']}, {build['seconds']} s; "
        f"its publish: {published or 'none'}{seeded}."
    )


def verdicts(report: Mapping[str, Any]) -> list[str]:
    """The targets of the issue, met or not, and which embedded store wins where."""
    build = report["full_build"]["stage_seconds"]
    change = report["publish"]["1% change"]
    noop = report["publish"]["no-op"]
    lines = []
    for target, result in change.items():
        share = result["seconds"] / build
        verdict = "meets" if share <= TARGET_GOAL_SHARE else "MISSES"
        lines.append(f"- 1% change, {target}: {100 * share:.2f}% of the full build: {verdict} the <= 5% target")
    written = {t: r["inserted"] + r["updated"] + r["deleted"] for t, r in noop.items()}
    lines.append(f"- no-op publish rows written per target: {written} (0 expected everywhere)")
    during = (report.get("serving_during_build") or {}).get("reader") or {}
    if during:
        queries = sum(p["queries"] for p in during.values())
        failed = sum(p["failed"] for p in during.values())
        blocked = sum(p["blocked"] for p in during.values())
        lines.append(f"- serving during the build: {queries} queries, {failed} failed, {blocked} blocked (> 1 s)")
    latency = {(r["target"], r["mode"], r["variant"]): r for r in report["latency"]}
    for mode in ("vector", "hybrid"):
        p95 = latency[(EMBEDDED_TARGET, mode, DEFAULT_VARIANT)]["p95_ms"]
        verdict = "meets" if p95 < LATENCY_GOAL_MS else "MISSES"
        lines.append(f"- embedded {mode} p95 {p95:.1f} ms: {verdict} the < 50 ms target")
    for mode in MODES:
        ours = latency[(EMBEDDED_TARGET, mode, DEFAULT_VARIANT)]["p95_ms"]
        lance = latency.get(("lancedb", mode, DEFAULT_VARIANT))
        if lance:
            winner = EMBEDDED_TARGET if ours <= lance["p95_ms"] else "lancedb"
            lines.append(f"- {mode} p95: embedded {ours:.1f} ms vs lancedb {lance['p95_ms']:.1f} ms: {winner} wins")
    for scenario, results in report["publish"].items():
        if "lancedb" in results:
            ours, lance = results[EMBEDDED_TARGET]["seconds"], results["lancedb"]["seconds"]
            winner = EMBEDDED_TARGET if ours <= lance else "lancedb"
            lines.append(f"- {scenario}: embedded {ours:.2f} s vs lancedb {lance:.2f} s: {winner} wins")
    return lines


# -------------------------------------------------------------------------------------------
# Main
# -------------------------------------------------------------------------------------------


def embed_queries(queries: list[str]) -> list[list[float]]:
    """The serving model's vector of each query, computed once, before anything is timed."""
    from python_udfs.embedding import embed_texts, load_model

    model = load_model(None, "torch")
    return [vector.tolist() for vector in embed_texts(model, queries)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=None, help="SciFact warehouse (default: docvec eval's work folder)")
    parser.add_argument("--queries", type=int, default=200, help="SciFact train queries timed (default 200)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed queries before each timing (default 10)")
    parser.add_argument("--skip-build-test", action="store_true", help="leave out 3. (serving during a dbt build)")
    parser.add_argument("--workdir", type=Path, default=None, help="bench files (default: a temporary folder)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON results (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    work = default_workdir(SCIFACT)
    source = args.db or work / "docvec.duckdb"
    if not source.is_file():
        raise SystemExit(f"no SciFact warehouse at {source}: run `.venv/bin/python -m bench.eval_scifact` first")
    dataset = read_beir(SCIFACT, "train", args.queries)
    queries = list(dataset.queries.values())
    vectors = embed_queries(queries)
    bench_dir = Path(args.workdir or tempfile.mkdtemp(prefix="docvec-publish-bench-"))
    bench_dir.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command_line("bench.publish_bench"),
        "machine": machine_info(),
        "queries": len(queries),
        "k": K,
        "full_build": support.full_build_seconds(source),
    }
    started = time.perf_counter()
    try:
        base, changed = bench_dir / "warehouse.duckdb", bench_dir / "warehouse_changed.duckdb"
        support.copy_search_index(source, base)
        report["change"] = support.write_changed_warehouse(base, changed).as_dict()
        serving, configs = str(bench_dir / "serving.duckdb"), target_configs(bench_dir)
        with support.postgres_server(bench_dir / "pg") as dsn:
            os.environ[PG_DSN_ENV] = dsn
            warehouses = dict(zip(SCENARIOS, (base, changed, changed)))
            report["publish"] = publish_scenarios(serving, warehouses, configs)
            report["loadavg"] = {"after publish": list(os.getloadavg())}
            report["candidate_read_seconds"] = candidate_read_seconds(serving)
            report["latency"] = search_latency(serving, configs, queries, vectors, args.warmup)
            report["loadavg"]["after latency"] = list(os.getloadavg())
        if not args.skip_build_test:
            report["serving_during_build"] = support.serving_during_build(work, SCIFACT, queries, vectors, bench_dir)
            report["loadavg"]["after the build test"] = list(os.getloadavg())
    finally:
        os.environ.pop(PG_DSN_ENV, None)
        if not args.workdir:
            shutil.rmtree(bench_dir, ignore_errors=True)
    report["bench_seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print(markdown(report))
    print(f"written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
