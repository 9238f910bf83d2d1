"""Embedding throughput of docvec's dbt path against plain sentence-transformers, per backend.

    .venv/bin/python -m bench.embedding_bench [--n 2000] [--repeat 2] \
        [--scifact-docs 1500] [--scifact-queries 300] [--out bench/results/embedding.json]

Texts: a fixed sample of chunk texts. The Markdown files of /work/shared/datasets/powershell-docs
are parsed and cleaned as the pipeline does, shuffled with random.Random(0) and chunked with
`chunk_text(method="recursive", max_tokens=256, overlap_tokens=32)` until a pool of distinct chunk
texts three times `--n` exists; `--n` of them are sampled with random.Random(0).

Measured in one run, interleaved, best of `--repeat`, after one warm-up each:

- (a) plain: `SentenceTransformer(path).encode(texts)` with every default (batch size 32).
- (b) docvec: exactly what the `embeddings` dbt model does: the texts sit in a DuckDB table, the
  same pending-texts query is read with `fetch_arrow_reader(READ_STEP)`, and
  `python_udfs.embedding.embedding_batches` embeds the record batches with the default batch size,
  for each backend (torch, onnx, onnx-int8) loaded by `load_model`.

Also: cosine of each backend's vectors to torch's on the same texts, the padding each batching
scheme costs (computed from token counts, free of timing noise), CUDA when available, and the
nDCG@10 of each backend on SciFact (BEIR; train queries) with exact cosine ranking.
`--experiments` adds timed variants of the hot path (READ_STEP, length-sorted reads, threads).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
import warnings
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

# Offline settings: bench/__init__.py (runs before this module).

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402

from bench.chunking_bench import command_line, load_documents, machine_info, markdown_table  # noqa: E402

SCIFACT = PROJECT_ROOT.parent / "shared" / "datasets" / "scifact"
PENDING_SQL = (
    "select text_sha256, min(chunk_text) as chunk_text from docvec_chunks group by text_sha256 order by text_sha256"
)
# The same pending texts, read shortest first (one global length sort instead of per READ_STEP).
PENDING_SQL_BY_LENGTH = (
    "select text_sha256, min(chunk_text) as chunk_text from docvec_chunks "
    "group by text_sha256 order by length(min(chunk_text)), text_sha256"
)


# ---------------------------------------------------------------------------------------------
# Texts
# ---------------------------------------------------------------------------------------------


def sample_chunk_texts(n: int, seed: int = 0) -> list[str]:
    """`n` distinct chunk texts of powershell-docs, seeded (see the module docstring)."""
    from python_udfs.chunking import chunk_text
    from python_udfs.tokens import load_tokenizer

    tokenizer = load_tokenizer()
    documents = load_documents()
    random.Random(seed).shuffle(documents)
    pool: dict[str, None] = {}
    for document in documents:
        for chunk in chunk_text(
            document.text, tokenizer, method="recursive", max_tokens=256, overlap_tokens=32, file_type="markdown"
        ):
            pool.setdefault(chunk.text, None)
        if len(pool) >= 3 * n:
            break
    texts = list(pool)
    if len(texts) < n:
        raise SystemExit(f"only {len(texts)} distinct chunks in the corpus, fewer than --n {n}")
    return random.Random(seed).sample(texts, n)


def token_counts(texts: list[str], max_length: int = 256) -> np.ndarray:
    """Word pieces the model sees per text (special tokens included, truncated at max_length)."""
    from python_udfs.tokens import load_tokenizer

    counts = np.array(load_tokenizer().count_batch(texts), dtype=np.int64)
    return np.minimum(counts, max_length)


def padded_tokens(texts: list[str], counts: np.ndarray, batch_size: int, step: int | None, by: str = "chars") -> int:
    """Token positions computed (padding included) when `texts` are embedded `step` texts at a
    time (None: all at once), each step cut into batches after sorting its texts by character
    length (`by="chars"`, what sentence-transformers' encode() does) or by token count
    (`by="tokens"`, what docvec's embed_texts does); every batch is padded to its longest text."""
    total = 0
    step = step or len(texts)
    for start in range(0, len(texts), step):
        part = np.arange(start, min(start + step, len(texts)))
        keys = [-len(texts[i]) for i in part] if by == "chars" else -counts[part]
        order = part[np.argsort(keys, kind="stable")]
        for b in range(0, len(order), batch_size):
            batch = counts[order[b : b + batch_size]]
            total += int(batch.max()) * len(batch)
    return total


# ---------------------------------------------------------------------------------------------
# The two paths
# ---------------------------------------------------------------------------------------------


def plain_run(model, texts: list[str]) -> tuple[float, np.ndarray]:
    started = time.perf_counter()
    vectors = model.encode(texts)  # every default: batch size 32, no normalisation, progress bar off
    return time.perf_counter() - started, np.asarray(vectors, dtype=np.float32)


def timed(run):
    """(wall seconds, CPU seconds of this process, result) of `run()`, which returns (wall, result)."""
    cpu = time.process_time()
    wall, result = run()
    return wall, time.process_time() - cpu, result


def duckdb_chunks(texts: list[str]):
    """An in-memory DuckDB holding the texts as the `chunks` model would (text_sha256, chunk_text)."""
    import duckdb

    from python_udfs.cleaning import sha256_text

    conn = duckdb.connect()
    table = pa.table({"text_sha256": [sha256_text(t) for t in texts], "chunk_text": texts})
    conn.register("chunks_arrow", table)
    conn.execute("create table chunks as select * from chunks_arrow")
    conn.unregister("chunks_arrow")
    return conn


def docvec_run(
    conn, model, *, model_id: str, read_step: int, batch_size: int, sql: str = PENDING_SQL
) -> tuple[float, dict[str, np.ndarray]]:
    """What models/marts/embeddings.py does, timed from the pending query to the last batch."""
    from python_udfs.embedding import embedding_batches

    started = time.perf_counter()
    pending = conn.table("chunks").query("docvec_chunks", sql)
    total = pending.aggregate("count(*)").fetchone()[0]
    with warnings.catch_warnings():  # DuckDB 1.5 deprecates it; the dbt model still calls it
        warnings.simplefilter("ignore", DeprecationWarning)
        reader = pending.fetch_arrow_reader(read_step)
    out = list(
        embedding_batches(reader, model, model_id=model_id, total=total, batch_size=batch_size, log=lambda _: None)
    )
    elapsed = time.perf_counter() - started
    table = pa.Table.from_batches(out)
    keys = table.column("text_sha256").to_pylist()
    flat = table.column("embedding").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    vectors = flat.reshape(len(keys), -1)
    return elapsed, dict(zip(keys, vectors))


def previous_batching(run):
    """`run()` with embed_texts' batching as before this change: one encode() per READ_STEP,
    which sorts by character length."""
    from unittest import mock

    from python_udfs.embedding import streaming

    with mock.patch.object(streaming, "token_lengths", lambda model, texts: None):
        return run()


def in_text_order(by_key: dict[str, np.ndarray], texts: list[str]) -> np.ndarray:
    from python_udfs.cleaning import sha256_text

    return np.vstack([by_key[sha256_text(t)] for t in texts])


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


# ---------------------------------------------------------------------------------------------
# SciFact nDCG@10
# ---------------------------------------------------------------------------------------------


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_scifact(n_docs: int | None, n_queries: int | None, seed: int = 0):
    """Train queries (seeded subset), their qrels, and a corpus of all their relevant documents
    plus seeded random distractors up to `n_docs` (None: the whole corpus)."""
    corpus = _read_jsonl(SCIFACT / "corpus.jsonl")
    queries = {q["_id"]: q["text"] for q in _read_jsonl(SCIFACT / "queries.jsonl")}
    qrels: dict[str, dict[str, int]] = {}
    with (SCIFACT / "qrels" / "train.tsv").open(encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3 or parts[0] == "query-id":
                continue
            qid, did, score = parts
            if int(score) > 0 and qid in queries:
                qrels.setdefault(qid, {})[did] = int(score)
    qids = sorted(qrels)
    if n_queries is not None and n_queries < len(qids):
        qids = sorted(random.Random(seed).sample(qids, n_queries))
    doc_text = {d["_id"]: (d.get("title") or "") + " " + (d.get("text") or "") for d in corpus}
    relevant = sorted({did for q in qids for did in qrels[q] if did in doc_text})
    if n_docs is None or n_docs >= len(doc_text):
        doc_ids = sorted(doc_text)
    else:
        others = sorted(set(doc_text) - set(relevant))
        extra = max(0, n_docs - len(relevant))
        doc_ids = sorted(relevant + random.Random(seed).sample(others, min(extra, len(others))))
    return (
        doc_ids,
        [doc_text[d] for d in doc_ids],
        qids,
        [queries[q] for q in qids],
        {q: qrels[q] for q in qids},
    )


def ndcg_at_k(scores: np.ndarray, doc_ids: list[str], qids: list[str], qrels: dict, k: int = 10) -> float:
    """Mean nDCG@k (linear gains, log2 discount, as pytrec_eval/BEIR) of exact score rankings."""
    total = 0.0
    for row, qid in zip(scores, qids):
        top = np.argsort(-row, kind="stable")[:k]
        rels = qrels[qid]
        dcg = sum(rels.get(doc_ids[j], 0) / math.log2(rank + 2) for rank, j in enumerate(top))
        ideal = sorted(rels.values(), reverse=True)[:k]
        idcg = sum(g / math.log2(rank + 2) for rank, g in enumerate(ideal))
        total += dcg / idcg if idcg > 0 else 0.0
    return total / len(qids)


def scifact_eval(backends: list[str], n_docs: int | None, n_queries: int | None, batch_size: int) -> dict:
    from python_udfs.embedding import embed_texts, load_model

    doc_ids, doc_texts, qids, query_texts, qrels = load_scifact(n_docs, n_queries)
    print(f"SciFact: {len(qids)} train queries, {len(doc_ids)} documents (title + text, truncated at 256)")
    out: dict = {
        "queries": len(qids),
        "documents": len(doc_ids),
        "settings": {"scifact_docs": n_docs, "scifact_queries": n_queries, "seed": 0, "qrels": "train"},
        "backends": {},
    }
    reference = None
    for backend in backends:
        model = load_model(None, backend)
        embed_texts(model, doc_texts[:8], batch_size)
        started = time.perf_counter()
        docs = embed_texts(model, doc_texts, batch_size)
        doc_seconds = time.perf_counter() - started
        queries = embed_texts(model, query_texts, batch_size)
        ndcg = ndcg_at_k(queries @ docs.T, doc_ids, qids, qrels)
        entry = {"ndcg@10": round(ndcg, 4), "docs_per_s": round(len(doc_ids) / doc_seconds, 1)}
        if reference is None:
            reference = (ndcg, docs)
        else:
            entry["delta_points_vs_torch"] = round(100 * (ndcg - reference[0]), 2)
            entry["doc_cosine_to_torch_mean"] = round(float(cosine_rows(docs, reference[1]).mean()), 5)
        out["backends"][backend] = entry
        print(f"  {backend}: nDCG@10 {ndcg:.4f} ({entry['docs_per_s']} docs/s)", flush=True)
    return out


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def _rate(n: int, tokens: int, seconds: float) -> dict:
    return {
        "seconds": round(seconds, 2),
        "texts_per_s": round(n / seconds, 2),
        "tokens_per_s": round(tokens / seconds, 1),
    }


def throughput(
    texts: list[str], tokens: int, backends: list[str], repeat: int, device: str, batch_size: int, read_step: int
) -> tuple[dict, dict[str, np.ndarray]]:
    """Best-of-`repeat` rates of plain encode() and of docvec's path per backend, interleaved."""
    from sentence_transformers import SentenceTransformer

    from python_udfs.embedding import effective_model_id, load_model
    from python_udfs.tokens import resolve_model_path

    conn = duckdb_chunks(texts)
    runs: dict[str, callable] = {}
    plain = SentenceTransformer(str(resolve_model_path(None)), device=device)
    plain.encode(texts[:16])
    runs["plain"] = lambda: plain_run(plain, texts)
    for backend in backends:
        model = load_model(None, backend, device=device)
        model.encode(texts[:16])

        def run(model=model, backend=backend):
            seconds, by_key = docvec_run(
                conn, model, model_id=effective_model_id("m", backend), read_step=read_step, batch_size=batch_size
            )
            return seconds, in_text_order(by_key, texts)

        runs[backend] = run
        if backend == "torch":
            runs["torch, previous batching"] = lambda run=run: previous_batching(run)
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    cpu_seconds: dict[str, list[float]] = {name: [] for name in runs}
    loads: dict[str, list[float]] = {name: [] for name in runs}
    vectors: dict[str, np.ndarray] = {}
    for rep in range(repeat):
        names = list(runs) if rep % 2 == 0 else list(reversed(runs))
        for name in names:
            load = os.getloadavg()[0]
            elapsed, cpu, vecs = timed(runs[name])
            seconds[name].append(elapsed)
            cpu_seconds[name].append(cpu)
            loads[name].append(round(load, 2))
            vectors[name] = vecs
            print(
                f"  [{device}] rep {rep + 1} {name}: {len(texts) / elapsed:.1f} texts/s, "
                f"{len(texts) / cpu:.1f} texts per CPU-s (load {load:.1f})",
                flush=True,
            )
    results = {}
    for name, values in seconds.items():
        best = min(values)
        results[name] = {
            **_rate(len(texts), tokens, best),
            "texts_per_cpu_s": round(len(texts) / min(cpu_seconds[name]), 2),
            "seconds_all": [round(v, 2) for v in values],
            "cpu_seconds_all": [round(v, 2) for v in cpu_seconds[name]],
            "loadavg_1m_at_start": loads[name],
        }
    base = results["plain"]["texts_per_s"]
    for name in results:
        if name != "plain":
            results[name]["ratio_vs_plain"] = round(results[name]["texts_per_s"] / base, 3)
            results[name]["cpu_ratio_vs_plain"] = round(
                results[name]["texts_per_cpu_s"] / results["plain"]["texts_per_cpu_s"], 3
            )
    return results, vectors


def experiments(texts: list[str], tokens: int, repeat: int, batch_size: int) -> list[dict]:
    """Timed variants of the hot path: READ_STEP, a length-sorted pending query, threads."""
    from python_udfs.embedding import READ_STEP, load_model

    conn = duckdb_chunks(texts)
    variants = []
    for backend in ("torch", "onnx", "onnx-int8"):
        variants.append((backend, f"READ_STEP {READ_STEP}, sha order (current)", READ_STEP, PENDING_SQL, None))
        variants.append((backend, "READ_STEP 4096, sha order", 4096, PENDING_SQL, None))
        variants.append((backend, f"READ_STEP {READ_STEP}, length order", READ_STEP, PENDING_SQL_BY_LENGTH, None))
        variants.append((backend, "1 thread", READ_STEP, PENDING_SQL, 1))
    best: dict[tuple, float] = {}
    for rep in range(repeat):
        for backend, label, step, sql, threads in variants if rep % 2 == 0 else list(reversed(variants)):
            import torch

            model = load_model(None, backend, threads=threads)
            torch.set_num_threads(threads or os.cpu_count() or 1)
            model.encode(texts[:8])
            seconds, _ = docvec_run(conn, model, model_id="m", read_step=step, batch_size=batch_size, sql=sql)
            key = (backend, label)
            best[key] = min(best.get(key, math.inf), seconds)
            print(f"  experiment rep {rep + 1} {backend} / {label}: {len(texts) / seconds:.1f} texts/s", flush=True)
    torch.set_num_threads(os.cpu_count() or 1)
    return [{"backend": b, "variant": label, **_rate(len(texts), tokens, s)} for (b, label), s in best.items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="chunk texts to embed (default 2000)")
    parser.add_argument("--repeat", type=int, default=2, help="interleaved repetitions; the best run counts")
    parser.add_argument("--backends", default="torch,onnx,onnx-int8")
    parser.add_argument(
        "--scifact-docs",
        type=int,
        default=1500,
        help="SciFact corpus size: relevant docs of the queries + seeded distractors (0: all 5183)",
    )
    parser.add_argument("--scifact-queries", type=int, default=300, help="seeded subset of train queries (0: all)")
    parser.add_argument("--skip-scifact", action="store_true")
    parser.add_argument(
        "--experiments",
        type=int,
        default=0,
        metavar="N",
        help="also time hot-path variants on N texts (READ_STEP, length order, 1 thread)",
    )
    parser.add_argument("--out", default="bench/results/embedding.json")
    args = parser.parse_args(argv)

    import torch

    from python_udfs.embedding import (
        DEFAULT_BATCH_SIZE,
        READ_STEP,
        cpu_threads,
        ensure_onnx_export,
        int8_quantization_config,
    )
    from python_udfs.tokens import resolve_model_path

    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    info = machine_info()
    started = time.perf_counter()
    texts = sample_chunk_texts(args.n)
    counts = token_counts(texts)
    tokens = int(counts.sum())
    print(
        f"{len(texts)} chunk texts, {tokens:,} tokens (mean {counts.mean():.0f}), "
        f"sampled in {time.perf_counter() - started:.0f}s"
    )

    export_started = time.perf_counter()
    if any(b.startswith("onnx") for b in backends):
        ensure_onnx_export(resolve_model_path(None), quantized="onnx-int8" in backends)
    export_seconds = time.perf_counter() - export_started

    report: dict = {
        "benchmark": "embedding",
        "command": command_line("bench.embedding_bench"),
        "machine": info,
        "settings": {
            "n_texts": len(texts),
            "tokens": tokens,
            "mean_tokens": round(float(counts.mean()), 1),
            "repeat": args.repeat,
            "read_step": READ_STEP,
            "docvec_batch_size": DEFAULT_BATCH_SIZE,
            "plain_batch_size": 32,
            "threads": cpu_threads(),
            "torch_threads": torch.get_num_threads(),
            "int8_config": int8_quantization_config(),
            "onnx_export_or_cache_seconds": round(export_seconds, 1),
        },
        # real tokens / token positions computed (padding included); 1.0 = no padding
        "padding_efficiency": {
            label: round(tokens / padded_tokens(texts, counts, batch, step, by), 4)
            for label, batch, step, by in [
                ("plain: one encode(), batch 32, char-length sort", 32, None, "chars"),
                (
                    f"docvec before: READ_STEP {READ_STEP}, batch {DEFAULT_BATCH_SIZE}, char-length sort",
                    DEFAULT_BATCH_SIZE,
                    READ_STEP,
                    "chars",
                ),
                (
                    f"docvec before: READ_STEP 4096, batch {DEFAULT_BATCH_SIZE}, char-length sort",
                    DEFAULT_BATCH_SIZE,
                    4096,
                    "chars",
                ),
                (
                    f"docvec before: global length sort, batch {DEFAULT_BATCH_SIZE}, char-length sort",
                    DEFAULT_BATCH_SIZE,
                    None,
                    "chars",
                ),
                (
                    f"docvec now: READ_STEP {READ_STEP}, batch {DEFAULT_BATCH_SIZE}, token-count sort",
                    DEFAULT_BATCH_SIZE,
                    READ_STEP,
                    "tokens",
                ),
                (
                    f"docvec now: READ_STEP 4096, batch {DEFAULT_BATCH_SIZE}, token-count sort",
                    DEFAULT_BATCH_SIZE,
                    4096,
                    "tokens",
                ),
                (f"docvec now: READ_STEP {READ_STEP}, batch 32, token-count sort", 32, READ_STEP, "tokens"),
            ]
        },
    }

    results, vectors = throughput(texts, tokens, backends, args.repeat, "cpu", DEFAULT_BATCH_SIZE, READ_STEP)
    report["cpu"] = results
    if "torch" in vectors:
        reference = vectors["torch"]
        report["cosine_to_torch"] = {}
        for name in vectors:
            if name != "torch":
                cos = cosine_rows(vectors[name], reference)
                report["cosine_to_torch"][name] = {
                    "mean": round(float(cos.mean()), 6),
                    "min": round(float(cos.min()), 6),
                    "p01": round(float(np.percentile(cos, 1)), 6),
                }

    if torch.cuda.is_available():
        cuda_results, _ = throughput(texts, tokens, backends, args.repeat, "cuda", DEFAULT_BATCH_SIZE, READ_STEP)
        report["cuda"] = {"device": torch.cuda.get_device_name(0), **cuda_results}
    else:
        print("CUDA not available: GPU throughput not measured (torch.cuda.is_available() is False)")
        report["cuda"] = "CUDA not available"

    if args.experiments:
        report["experiments"] = {
            "n_texts": min(args.experiments, len(texts)),
            "results": experiments(
                texts[: args.experiments], int(counts[: args.experiments].sum()), args.repeat, DEFAULT_BATCH_SIZE
            ),
        }

    if not args.skip_scifact:
        report["scifact"] = scifact_eval(
            backends, args.scifact_docs or None, args.scifact_queries or None, DEFAULT_BATCH_SIZE
        )
    report["machine"]["loadavg_at_end"] = list(os.getloadavg())
    print_report(report, backends)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


def print_report(report: dict, backends: list[str]) -> None:
    settings = report["settings"]
    cpu = report["cpu"]
    base = cpu["plain"]
    rows = [
        [
            "(a) plain `SentenceTransformer(path).encode(texts)`",
            base["texts_per_s"],
            base["tokens_per_s"],
            base["texts_per_cpu_s"],
            "1.00",
            "1.00",
            "—",
        ]
    ]
    for name in [n for n in cpu if n != "plain"]:
        r = cpu[name]
        cos = report.get("cosine_to_torch", {}).get(name, {}).get("mean", 1.0 if name == "torch" else "")
        rows.append(
            [
                f"(b) docvec `embedding_batches`, {name}",
                r["texts_per_s"],
                r["tokens_per_s"],
                r["texts_per_cpu_s"],
                f"{r['ratio_vs_plain']:.2f}",
                f"{r['cpu_ratio_vs_plain']:.2f}",
                cos,
            ]
        )
    print()
    print(
        f"CPU, {settings['n_texts']} chunk texts ({settings['mean_tokens']} tokens on average), "
        f"best of {settings['repeat']}:"
    )
    print(
        markdown_table(
            ["path", "texts/s", "tokens/s", "texts per CPU-s", "vs (a) wall", "vs (a) per CPU-s", "cosine to torch"],
            rows,
        )
    )
    print()
    print(
        markdown_table(
            ["batching", "real tokens / computed positions"], [[k, v] for k, v in report["padding_efficiency"].items()]
        )
    )
    if isinstance(report.get("cuda"), dict):
        cuda = report["cuda"]
        print()
        print(f"CUDA ({cuda['device']}):")
        print(
            markdown_table(["path", "texts/s"], [[k, v["texts_per_s"]] for k, v in cuda.items() if isinstance(v, dict)])
        )
    else:
        print("\nCUDA not available")
    if "experiments" in report:
        print()
        print(f"Hot-path variants ({report['experiments']['n_texts']} texts):")
        print(
            markdown_table(
                ["backend", "variant", "texts/s", "tokens/s"],
                [
                    [r["backend"], r["variant"], r["texts_per_s"], r["tokens_per_s"]]
                    for r in report["experiments"]["results"]
                ],
            )
        )
    if "scifact" in report:
        sf = report["scifact"]
        print()
        print(f"SciFact nDCG@10 ({sf['queries']} train queries, {sf['documents']} documents):")
        print(
            markdown_table(
                ["backend", "nDCG@10", "Δ vs torch (points)", "docs/s"],
                [
                    [b, e["ndcg@10"], e.get("delta_points_vs_torch", "—"), e["docs_per_s"]]
                    for b, e in sf["backends"].items()
                ],
            )
        )


if __name__ == "__main__":
    raise SystemExit(main())
