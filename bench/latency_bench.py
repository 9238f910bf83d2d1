"""Search latency per mode and HNSW recall@10 against exact search, at SciFact scale and >= 100k chunks.

    .venv/bin/python -m bench.latency_bench [--db PATH] [--queries 300] [--copies 11] [--noise 0.3]
                                            [--ef-search 64,128] [--quick] [--out bench/results/latency.json]

Corpora (each copied into a DuckDB file of its own under a temporary folder, then indexed with
the DDL of macros/create_search_indexes.sql and the HNSW settings of dbt_project.yml):

- **scifact**: the `search_index` of the SciFact build that `bench.eval_scifact` (`docvec eval
  --beir ../shared/datasets/scifact`) leaves in its work folder: 9,879 real chunks and vectors.
- **synthetic**: `--copies` copies of those rows (default 11: 108,669 chunks). Copy 0 is the real
  data; every other copy keeps the chunk text (so BM25 sees real text, repeated) and perturbs the
  real vector with Gaussian noise of total norm about `--noise` (0.3), renormalised (cosine about
  0.96 to the original). Embedding 100k real texts takes hours on 2 CPU cores; this keeps the real
  distribution of directions at that size, but it is not a real corpus.

Queries: the first `--queries` SciFact train queries (those with judgments), embedded once by the
serving model; latency is `docvec.search` with that vector (the query's embedding
time is reported separately), k = 10, caller group `public`, after a warm-up. Modes: vector exact
(full scan), vector through the HNSW index, keyword (BM25), hybrid (HNSW vector + BM25, RRF),
and vector HNSW for a caller whose group holds 1% of the chunks (the exact fallback).

Recall@10 of HNSW against exact search: |top 10 of search() with the index ∩ top 10 of the exact
scan| / 10, averaged over the queries; also for the raw index scan (`limit 10`, no oversampling)
and for each `--ef-search` value.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

# Offline settings: bench/__init__.py (runs before this module).

import duckdb  # noqa: E402
import numpy as np  # noqa: E402
import yaml  # noqa: E402

from bench.chunking_bench import command_line, machine_info, markdown_table  # noqa: E402
from docvec import searching as docvec_search  # noqa: E402
from docvec.evaluation import default_workdir, read_beir  # noqa: E402
from python_udfs.plugin import load_extensions  # noqa: E402
from python_udfs.ranking import vector_parameter  # noqa: E402

SCIFACT = PROJECT_ROOT.parent / "shared" / "datasets" / "scifact"
DEFAULT_OUT = PROJECT_ROOT / "bench" / "results" / "latency.json"
K = 10
RESTRICTED_GROUP = "restricted"  # held by 1% of the chunks, for the selective-filter measurement


def hnsw_settings() -> dict[str, int]:
    """m, ef_construction and ef_search of dbt_project.yml (what a build uses)."""
    variables = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]
    return {name: int(variables[f"hnsw_{name}"]) for name in ("m", "ef_construction", "ef_search")}


def create_search_indexes(conn: duckdb.DuckDBPyConnection, settings: dict[str, int]) -> dict[str, float]:
    """The statements of macros/create_search_indexes.sql (duckdb__), timed."""
    started = time.perf_counter()
    conn.execute(
        "pragma create_fts_index('main.search_index', 'chunk_id', 'chunk_text', 'title', 'section', "
        "stemmer = 'porter', stopwords = 'english', strip_accents = 1, lower = 1, overwrite = 1)"
    )
    fts_seconds = time.perf_counter() - started
    conn.execute("set hnsw_enable_experimental_persistence = true")
    started = time.perf_counter()
    conn.execute(
        "create index search_index_hnsw on main.search_index using hnsw (embedding) with ("
        f"metric = 'cosine', m = {settings['m']}, ef_construction = {settings['ef_construction']}, "
        f"ef_search = {settings['ef_search']})"
    )
    hnsw_seconds = time.perf_counter() - started
    started = time.perf_counter()
    conn.execute("checkpoint")
    return {
        "fts_seconds": fts_seconds,
        "hnsw_seconds": hnsw_seconds,
        "checkpoint_seconds": time.perf_counter() - started,
    }


def scifact_db(path: Path | None) -> Path:
    db = path or default_workdir(SCIFACT) / "docvec.duckdb"
    if not db.is_file():
        raise SystemExit(
            f"no SciFact warehouse at {db}: run `.venv/bin/python -m bench.eval_scifact` first "
            "(about 25 minutes on 2 cores), or pass --db"
        )
    return db


def build_corpus(source: Path, target: Path, copies: int, noise: float, seed: int = 0) -> int:
    """search_index of `source` copied `copies` times into `target` (copy 0 unchanged, the others
    with perturbed vectors); 1% of the rows (by hash) also get group RESTRICTED_GROUP only."""
    import pyarrow as pa

    with duckdb.connect(str(source), read_only=True) as src:
        table = src.execute("select * from search_index order by chunk_id").to_arrow_table()
    vectors = np.asarray(table.column("embedding").combine_chunks().flatten(), dtype=np.float32)
    dimension = vectors.size // table.num_rows
    vectors = vectors.reshape(table.num_rows, dimension)
    rng = np.random.default_rng(seed)
    conn = duckdb.connect(str(target))
    try:
        for copy in range(copies):
            if copy == 0:
                batch = vectors
            else:
                batch = vectors + rng.normal(0.0, noise / np.sqrt(dimension), vectors.shape).astype(np.float32)
                batch /= np.linalg.norm(batch, axis=1, keepdims=True)
            column = pa.FixedSizeListArray.from_arrays(pa.array(batch.reshape(-1), pa.float32()), dimension)
            part = table.set_column(table.schema.get_field_index("embedding"), "embedding", column)  # noqa: F841
            suffix = "" if copy == 0 else f"#{copy}"
            select = (
                f"select * replace (chunk_id || '{suffix}' as chunk_id, "
                f"case when hash(chunk_id || '{suffix}') % 100 = 0 then ['{RESTRICTED_GROUP}'] "
                "else access_groups end as access_groups, "
                f"embedding::float[{dimension}] as embedding) from part"
            )
            if copy == 0:
                conn.execute(f"create table search_index as {select}")
            else:
                conn.execute(f"insert into search_index {select}")
        count = conn.execute("select count(*) from search_index").fetchone()[0]
        conn.execute("checkpoint")
    finally:
        conn.close()
    return count


def percentiles(seconds: Sequence[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    return {
        "p50_ms": round(statistics.median(ms), 2),
        "p95_ms": round(ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))], 2),
        "mean_ms": round(statistics.fmean(ms), 2),
    }


def timed(run: Callable[[int], object], n: int, warmup: int = 5) -> list[float]:
    for i in range(min(warmup, n)):
        run(i)
    out = []
    for i in range(n):
        started = time.perf_counter()
        run(i)
        out.append(time.perf_counter() - started)
    return out


def measure(db: Path, queries: list[str], vectors: list[list[float]], ef_values: Sequence[int]) -> dict:
    public = docvec_search.SearchFilters(groups=("public",))
    restricted = docvec_search.SearchFilters(groups=(RESTRICTED_GROUP,))
    n = len(queries)
    with docvec_search.connect(str(db)) as conn:
        assert docvec_search.vector_index_name(conn) == "search_index_hnsw"

        def run(mode: str, exact: bool = False, filters=public) -> Callable[[int], object]:
            return lambda i: docvec_search.search(
                conn, queries[i], k=K, mode=mode, filters=filters, exact=exact, vector=vectors[i]
            )

        latency = {
            "vector exact": percentiles(timed(run("vector", exact=True), n)),
            "vector HNSW": percentiles(timed(run("vector"), n)),
            "keyword (BM25)": percentiles(timed(run("keyword"), n)),
            "hybrid (HNSW + BM25)": percentiles(timed(run("hybrid"), n)),
            "hybrid exact": percentiles(timed(run("hybrid", exact=True), n)),
            "vector HNSW, 1% group (fallback)": percentiles(timed(run("vector", filters=restricted), n)),
        }
        fallbacks = sum(docvec_search.indexed_vector_ranking(conn, v, restricted, K) is None for v in vectors)
        exact_top = [[r[0] for r in docvec_search.exact_vector_ranking(conn, v, public, K)] for v in vectors]
        everyone = docvec_search.SearchFilters(groups=("public", RESTRICTED_GROUP))
        exact_all = [[r[0] for r in docvec_search.exact_vector_ranking(conn, v, everyone, K)] for v in vectors]
        recall = {}
        for ef in ef_values:
            conn.execute(f"set hnsw_ef_search = {int(ef)}")
            via_search, raw = [], []
            for v, truth, truth_all in zip(vectors, exact_top, exact_all):
                found = [h.chunk_id for h in docvec_search.search(conn, "q", k=K, mode="vector", vector=v)]
                via_search.append(len(set(found) & set(truth)) / K)
                scan = conn.execute(
                    f"select chunk_id from search_index order by array_cosine_distance(embedding, "
                    f"?::float[{len(v)}]) limit {K}",
                    [vector_parameter(v)],
                ).fetchall()
                raw.append(len({r[0] for r in scan} & set(truth_all)) / K)
            recall[str(ef)] = {
                "search_recall_at_10": round(statistics.fmean(via_search), 4),
                "raw_index_recall_at_10": round(statistics.fmean(raw), 4),
                "search_min": min(via_search),
            }
            # Latency of the indexed vector mode at this ef_search.
            recall[str(ef)]["vector_hnsw"] = percentiles(timed(run("vector"), n))
        conn.execute("reset hnsw_ef_search")
        rows = conn.execute("select count(*) from search_index").fetchone()[0]
    return {"chunks": rows, "latency": latency, "recall": recall, "restricted_fallbacks": fallbacks, "queries": n}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=None, help="SciFact warehouse (default: docvec eval's work folder)")
    parser.add_argument("--queries", type=int, default=300, help="SciFact train queries timed (default 300)")
    parser.add_argument("--copies", type=int, default=11, help="copies of SciFact in the synthetic corpus")
    parser.add_argument("--noise", type=float, default=0.3, help="norm of the noise added to copied vectors")
    parser.add_argument("--ef-search", default=None, help="comma-separated hnsw_ef_search values for recall")
    parser.add_argument("--quick", action="store_true", help="50 queries, 3 copies")
    parser.add_argument("--workdir", type=Path, default=None, help="where the bench DuckDB files go (temporary)")
    parser.add_argument("--out", type=Path, default=None, help=f"JSON results (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    if args.quick:
        args.queries, args.copies = min(args.queries, 50), min(args.copies, 3)
    settings = hnsw_settings()
    ef_values = [int(x) for x in args.ef_search.split(",")] if args.ef_search else [settings["ef_search"]]
    source = scifact_db(args.db)
    dataset = read_beir(SCIFACT, "train", args.queries)
    queries = list(dataset.queries.values())

    from python_udfs.embedding import embed_texts, load_model

    model = load_model(None, "torch")
    embed_texts(model, queries[:3])
    embed_seconds, vectors = [], []
    for query in queries:
        started = time.perf_counter()
        vectors.append(embed_texts(model, [query])[0].tolist())
        embed_seconds.append(time.perf_counter() - started)

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="docvec-latency-"))
    workdir.mkdir(parents=True, exist_ok=True)
    report: dict = {
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command_line("bench.latency_bench"),
        "machine": machine_info(),
        "hnsw": settings,
        "oversample": docvec_search.DEFAULT_OVERSAMPLE,
        "k": K,
        "query_embedding": percentiles(embed_seconds),
        "noise": args.noise,
        "corpora": {},
    }
    try:
        for name, copies in (("scifact", 1), ("synthetic", args.copies)):
            db = workdir / f"{name}.duckdb"
            started = time.perf_counter()
            rows = build_corpus(source, db, copies, args.noise)
            load_seconds = time.perf_counter() - started
            with duckdb.connect(str(db)) as conn:
                load_extensions(conn)
                build = create_search_indexes(conn, settings)
            print(
                f"{name}: {rows:,} chunks, loaded in {load_seconds:.1f} s, fts {build['fts_seconds']:.1f} s, "
                f"HNSW {build['hnsw_seconds']:.1f} s",
                file=sys.stderr,
                flush=True,
            )
            result = measure(db, queries, vectors, ef_values)
            result.update(build, load_seconds=load_seconds, copies=copies, db_mb=round(db.stat().st_size / 2**20, 1))
            report["corpora"][name] = result
            print(json.dumps(result, indent=1), file=sys.stderr, flush=True)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)

    out = args.out or (DEFAULT_OUT.with_name("latency-quick.json") if args.quick else DEFAULT_OUT)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(markdown(report))
    print(f"written to {out}", file=sys.stderr)
    return 0


def markdown(report: dict) -> str:
    corpora = report["corpora"]
    modes = list(next(iter(corpora.values()))["latency"])
    headers = ["mode", *(f"{name} ({c['chunks']:,}) p50 / p95 ms" for name, c in corpora.items())]
    rows = [
        [mode, *(f"{c['latency'][mode]['p50_ms']:.1f} / {c['latency'][mode]['p95_ms']:.1f}" for c in corpora.values())]
        for mode in modes
    ]
    lines = [markdown_table(headers, rows), ""]
    rows = []
    for name, c in corpora.items():
        for ef, r in c["recall"].items():
            rows.append(
                [
                    name,
                    ef,
                    f"{r['search_recall_at_10']:.4f}",
                    f"{r['raw_index_recall_at_10']:.4f}",
                    f"{r['vector_hnsw']['p50_ms']:.1f} / {r['vector_hnsw']['p95_ms']:.1f}",
                    f"{c['hnsw_seconds']:.1f}",
                    f"{c['fts_seconds']:.1f}",
                ]
            )
    lines.append(
        markdown_table(
            [
                "corpus",
                "ef_search",
                "recall@10 (search)",
                "recall@10 (raw scan)",
                "vector HNSW p50 / p95 ms",
                "HNSW build s",
                "fts build s",
            ],
            rows,
        )
    )
    lines.append("")
    emb = report["query_embedding"]
    lines.append(f"Query embedding (torch, one query): p50 {emb['p50_ms']:.1f} ms, p95 {emb['p95_ms']:.1f} ms.")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
