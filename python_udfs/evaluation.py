"""Retrieval evaluation: golden questions ranked against every chunking strategy, and BEIR import.

Three parts, each usable on its own:

* **Metric math** (`document_ranking`, `recall_at_k`, `reciprocal_rank_at_k`, `ndcg_at_k`,
  `query_metrics`): the reference implementation of what the SQL model `retrieval_metrics`
  computes. Metrics are document-level: a document ranks at its best chunk, and relevance is
  binary (a document is relevant to a question or not).
* **Ranking** (`rank_strategy`): ranks the chunks of one chunking strategy for a list of questions
  the way `python_udfs.search.search` ranks `search_index` — exact cosine similarity in DuckDB
  (`vector`), BM25 from DuckDB's `fts` extension over chunk_text, title and section with the same
  index settings (`keyword`), and reciprocal rank fusion of both (`hybrid`) — with the asker's
  access groups applied before ranking. It is what the `retrieval_runs` Python model calls for
  every strategy, so strategies that are not served can be compared with the one that is.
* **BEIR import** (`read_beir`, `write_beir_landing`): turns a BEIR-layout folder (`corpus.jsonl`,
  `queries.jsonl`, `qrels/<split>.tsv`) into a JSONL landing folder and a golden-questions CSV
  that the dbt project builds like any other corpus (`docvec eval --beir`).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .search import (
    DEFAULT_RRF_K,
    MODES,
    RANKING_ORDER,
    SearchFilters,
    fts_schema,
    reciprocal_rank_fusion,
    score_sql,
    scored_sql,
    vector_parameter,
)

# (metric, k) pairs of `retrieval_metrics`; the depth of every ranking is the largest k.
METRICS: tuple[tuple[str, int], ...] = (
    ("recall", 1),
    ("recall", 5),
    ("recall", 10),
    ("recall", 100),
    ("mrr", 10),
    ("ndcg", 10),
)
DEPTH = max(k for _, k in METRICS)
DEFAULT_CANDIDATES = 100  # per-list pool of hybrid fusion; search.search uses the same default

# Columns of the golden-questions seed / CSV (one row per question and relevant document).
GOLDEN_COLUMNS = (
    "question_id",
    "question",
    "relevant_source_path",
    "relevant_record_key",
    "groups",
    "answer_phrase",
)

# --------------------------------------------------------------------------------------------
# Metric math (document level, binary relevance)
# --------------------------------------------------------------------------------------------


def document_ranking(chunk_document_ids: Iterable[str]) -> list[str]:
    """Documents in the order of their best (first) chunk in a chunk ranking."""
    seen: set[str] = set()
    ranking: list[str] = []
    for document_id in chunk_document_ids:
        if document_id not in seen:
            seen.add(document_id)
            ranking.append(document_id)
    return ranking


def _check(relevant: set[str] | frozenset[str], k: int) -> None:
    if not relevant:
        raise ValueError("a question needs at least one relevant document to be evaluated")
    if k < 1:
        raise ValueError("k must be at least 1")


def recall_at_k(ranking: Sequence[str], relevant: Iterable[str], k: int) -> float:
    """Share of the relevant documents found in the top `k` of a document ranking."""
    relevant = set(relevant)
    _check(relevant, k)
    return len(relevant.intersection(ranking[:k])) / len(relevant)


def reciprocal_rank_at_k(ranking: Sequence[str], relevant: Iterable[str], k: int) -> float:
    """1 / rank of the first relevant document in the top `k`, else 0 (averaged: MRR@k)."""
    relevant = set(relevant)
    _check(relevant, k)
    for rank, document_id in enumerate(ranking[:k], start=1):
        if document_id in relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranking: Sequence[str], relevant: Iterable[str], k: int) -> float:
    """Binary nDCG@k: sum of 1/log2(rank + 1) over relevant documents in the top `k`, divided by
    the same sum for an ideal ranking (all relevant documents first)."""
    relevant = set(relevant)
    _check(relevant, k)
    dcg = sum(1.0 / math.log2(rank + 1) for rank, d in enumerate(ranking[:k], start=1) if d in relevant)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(relevant), k) + 1))
    return dcg / ideal


METRIC_FUNCTIONS: dict[str, Callable[[Sequence[str], Iterable[str], int], float]] = {
    "recall": recall_at_k,
    "mrr": reciprocal_rank_at_k,
    "ndcg": ndcg_at_k,
}


def query_metrics(
    chunk_document_ids: Iterable[str],
    relevant: Iterable[str],
    metrics: Sequence[tuple[str, int]] = METRICS,
) -> dict[tuple[str, int], float]:
    """Every metric of one question from its chunk ranking (given as the chunks' document ids)."""
    ranking = document_ranking(chunk_document_ids)
    relevant = set(relevant)
    return {(name, k): METRIC_FUNCTIONS[name](ranking, relevant, k) for name, k in metrics}


# --------------------------------------------------------------------------------------------
# Ranking one strategy's chunks like search.search ranks search_index
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    question_id: str
    text: str
    groups: tuple[str, ...] = ("public",)
    vector: tuple[float, ...] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class RankingSettings:
    """How deep rankings go and how hybrid fuses them (vars hybrid_* of dbt_project.yml)."""

    depth: int = DEPTH  # documents each ranking must cover (the largest k of the metrics)
    candidates: int = DEFAULT_CANDIDATES  # least chunks taken from each list before fusion
    vector_weight: float = 1.0
    keyword_weight: float = 1.0
    rrf_k: int = DEFAULT_RRF_K

    def __post_init__(self) -> None:
        if self.depth < 1 or self.candidates < 1:
            raise ValueError("depth and candidates must be at least 1")
        if self.rrf_k < 0:
            raise ValueError("hybrid_rrf_k must not be negative")
        if self.vector_weight < 0 or self.keyword_weight < 0:
            raise ValueError("hybrid weights must not be negative")


@dataclass(frozen=True)
class RankedChunk:
    rank: int
    chunk_id: str
    document_id: str
    score: float


_SAFE_NAME = re.compile(r"[^a-z0-9_]")


def corpus_table_name(strategy_id: str) -> str:
    """A temporary table name for one strategy's chunks (the fts index schema is derived from it)."""
    digest = hashlib.md5(strategy_id.encode("utf-8")).hexdigest()[:8]
    return "docvec_eval_" + _SAFE_NAME.sub("_", strategy_id.lower())[:32] + "_" + digest


def _covering_cut(rows: list[tuple], depth: int, least: int = 0) -> list[tuple]:
    """The prefix of a chunk ranking (rows of chunk_id, document_id, score, best first) that ends
    at the best chunk of its `depth`-th document (or its last document), and has at least `least`
    chunks when there are that many."""
    seen: set[str] = set()
    end = 0
    for position, row in enumerate(rows):
        if row[1] not in seen:
            if len(seen) == depth:
                break
            seen.add(row[1])
            end = position + 1
    return rows[: max(end, least)]


class StrategyCorpus:
    """One strategy's chunks with their vectors, title and section in a temporary DuckDB table
    with its own BM25 index: what `search_index` would hold if this strategy were served."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, select_sql: str, params: Sequence = (), *, name: str):
        self.conn = conn
        self.table = name
        self.fts_schema = fts_schema(name)
        conn.execute(f"create or replace temp table {self.table} as {select_sql}", list(params))
        self.n_chunks = conn.execute(f"select count(*) from {self.table}").fetchone()[0]
        self.dimension = None
        self._indexed = False
        if self.n_chunks:
            self.dimension = conn.execute(f"select len(embedding) from {self.table} limit 1").fetchone()[0]
            # The same index settings as macros/create_search_indexes.sql builds on search_index.
            conn.execute(
                f"pragma create_fts_index('{self.table}', 'chunk_id', 'chunk_text', 'title', 'section', "
                "stemmer = 'porter', stopwords = 'english', strip_accents = 1, lower = 1, overwrite = 1)"
            )
            self._indexed = True

    def close(self) -> None:
        if self._indexed:
            self.conn.execute(f"pragma drop_fts_index('{self.table}')")
            self._indexed = False
        self.conn.execute(f"drop table if exists {self.table}")

    def __enter__(self) -> StrategyCorpus:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _ranked(self, mode: str, score_param: object, groups: Sequence[str], limit_docs: int, least: int):
        # The ranking SQL of search.py (search.scored_sql, search.score_sql, RANKING_ORDER), the
        # access groups applied before ranking; cut where `limit_docs` distinct documents are
        # covered (and >= least chunks).
        if not groups:
            return []  # an asker with no group may read nothing
        where, where_params = SearchFilters(groups=tuple(groups)).where()
        scored = scored_sql(self.table, "chunk_id, document_id", score_sql(mode, self.table, self.dimension), where)
        sql = f"""
            with scored as ({scored}),
            ranked as (
                select chunk_id, document_id, score,
                       row_number() over (order by {RANKING_ORDER}) as chunk_rank
                from scored
            ),
            best as (
                select document_id, min(chunk_rank) as best_rank from ranked group by document_id
            ),
            cut as (
                select coalesce(max(best_rank), 0) as last_rank
                from (select best_rank from best order by best_rank limit ?)
            )
            select chunk_id, document_id, score
            from ranked, cut
            where chunk_rank <= greatest(cut.last_rank, ?)
            order by chunk_rank
        """
        return self.conn.execute(sql, [score_param, *where_params, limit_docs, least]).fetchall()

    def vector_ranking(self, vector: Sequence[float], groups: Sequence[str], depth: int, least: int = 0):
        if not self.n_chunks:
            return []
        return self._ranked("vector", vector_parameter(vector), groups, depth, least)

    def keyword_ranking(self, query: str, groups: Sequence[str], depth: int, least: int = 0):
        if not self.n_chunks:
            return []
        return self._ranked("keyword", query, groups, depth, least)

    def rank(
        self, question: Question, modes: Sequence[str], settings: RankingSettings
    ) -> dict[str, list[RankedChunk]]:
        """Chunk rankings of one question per mode, each covering `settings.depth` documents."""
        unknown = set(modes) - set(MODES)
        if unknown:
            raise ValueError(f"unknown modes {sorted(unknown)}; expected some of {', '.join(MODES)}")
        needs_vector = "vector" in modes or "hybrid" in modes
        needs_keyword = "keyword" in modes or "hybrid" in modes
        pool = settings.candidates if "hybrid" in modes else 0
        if needs_vector and question.vector is None:
            raise ValueError(f"question {question.question_id!r} has no vector")
        groups, depth = question.groups, settings.depth
        vector = self.vector_ranking(question.vector, groups, depth, pool) if needs_vector else []
        keyword = self.keyword_ranking(question.text, groups, depth, pool) if needs_keyword else []
        out: dict[str, list[RankedChunk]] = {}
        if "vector" in modes:
            out["vector"] = _ranked_chunks(_covering_cut(vector, settings.depth))
        if "keyword" in modes:
            out["keyword"] = _ranked_chunks(_covering_cut(keyword, settings.depth))
        if "hybrid" in modes:
            fused = reciprocal_rank_fusion(
                [vector, keyword], [settings.vector_weight, settings.keyword_weight], settings.rrf_k
            )
            rows = [(row[0], row[1], score) for row, score in fused]
            out["hybrid"] = _ranked_chunks(_covering_cut(rows, settings.depth))
        return out


def _ranked_chunks(rows: list[tuple]) -> list[RankedChunk]:
    return [RankedChunk(rank, row[0], row[1], float(row[2])) for rank, row in enumerate(rows, start=1)]


RUN_COLUMNS = (
    "dataset", "question_id", "strategy_id", "model_id", "mode", "rank", "chunk_id", "document_id", "score",
)


def rank_strategy(
    corpus: StrategyCorpus,
    questions: Sequence[Question],
    *,
    dataset: str,
    strategy_id: str,
    model_id: str,
    modes: Sequence[str] = MODES,
    settings: RankingSettings = RankingSettings(),
) -> Iterator[tuple]:
    """Rows of `retrieval_runs` (RUN_COLUMNS) for every question and mode on one strategy."""
    for question in questions:
        for mode, ranking in corpus.rank(question, modes, settings).items():
            for hit in ranking:
                yield (dataset, question.question_id, strategy_id, model_id, mode, hit.rank,
                       hit.chunk_id, hit.document_id, hit.score)


# --------------------------------------------------------------------------------------------
# BEIR import
# --------------------------------------------------------------------------------------------

RECORDS_PER_SHARD = 1000
BEIR_GROUP = "public"


@dataclass
class BeirDataset:
    name: str
    split: str
    corpus_path: Path
    queries: dict[str, str]  # query id -> text, only queries with a relevant document, in file order
    qrels: dict[str, list[str]]  # query id -> relevant corpus ids (score > 0), in file order


def beir_splits(path: Path) -> list[str]:
    return sorted(p.stem for p in (Path(path) / "qrels").glob("*.tsv"))


def resolve_split(path: Path, split: str | None) -> str:
    """`split`, else 'test' when the dataset has it, else its only split."""
    splits = beir_splits(path)
    if split:
        if split not in splits:
            raise FileNotFoundError(
                f"{path}/qrels/{split}.tsv not found (splits: {', '.join(splits) or 'none'})"
            )
        return split
    if "test" in splits:
        return "test"
    if len(splits) == 1:
        return splits[0]
    raise FileNotFoundError(f"choose a split with --split ({', '.join(splits) or f'no {path}/qrels/*.tsv'})")


def _read_jsonl(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path}:{number}: invalid JSON ({error.msg})") from error


def read_beir(path: str | Path, split: str | None = None, max_queries: int | None = None) -> BeirDataset:
    """Queries and binary relevance judgments of a BEIR-layout folder (the corpus is streamed later)."""
    root = Path(path)
    for needed in ("corpus.jsonl", "queries.jsonl"):
        if not (root / needed).is_file():
            raise FileNotFoundError(f"{root / needed} not found: not a BEIR-layout folder")
    split = resolve_split(root, split)
    qrels: dict[str, list[str]] = {}
    with open(root / "qrels" / f"{split}.tsv", encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if len(row) < 3 or row[0] == "query-id":
                continue
            query_id, corpus_id, score = row[0].strip(), row[1].strip(), row[2].strip()
            try:
                relevant = float(score) > 0
            except ValueError:
                continue
            if relevant and corpus_id not in qrels.setdefault(query_id, []):
                qrels[query_id].append(corpus_id)
    queries: dict[str, str] = {}
    for record in _read_jsonl(root / "queries.jsonl"):
        query_id = str(record.get("_id", "")).strip()
        text = " ".join(str(record.get("text") or "").split())
        if query_id in qrels and qrels[query_id] and text:
            queries[query_id] = text
            if max_queries is not None and len(queries) >= max_queries:
                break
    qrels = {q: qrels[q] for q in queries}
    return BeirDataset(root.resolve().name, split, root / "corpus.jsonl", queries, qrels)


def beir_record(record: dict) -> dict | None:
    """The landing record of one BEIR corpus entry: id, title, and text = title + blank line + text."""
    corpus_id = str(record.get("_id", "")).strip()
    title = " ".join(str(record.get("title") or "").split())
    body = str(record.get("text") or "").strip()
    text = "\n\n".join(part for part in (title, body) if part)
    if not corpus_id or not text:
        return None
    out = {"id": corpus_id, "text": text}
    if title:
        out["title"] = title
    return out


@dataclass
class LandingSummary:
    documents: int
    skipped: int
    shards: int
    questions: int
    judgments: int
    unresolved_judgments: int


def write_beir_landing(
    dataset: BeirDataset,
    landing: str | Path,
    golden_csv: str | Path,
    *,
    records_per_shard: int = RECORDS_PER_SHARD,
    group: str = BEIR_GROUP,
) -> LandingSummary:
    """Write the corpus as JSONL shards under `landing/corpus/` and the queries with their
    judgments as a golden-questions CSV (GOLDEN_COLUMNS). Previous shards are removed."""
    landing = Path(landing)
    shard_dir = landing / "corpus"
    shard_dir.mkdir(parents=True, exist_ok=True)
    for old in shard_dir.glob("part-*.jsonl"):
        old.unlink()
    where: dict[str, str] = {}
    written = skipped = shards = 0
    handle = None
    try:
        for record in _read_jsonl(dataset.corpus_path):
            row = beir_record(record)
            if row is None or row["id"] in where:
                skipped += 1
                continue
            if written % records_per_shard == 0:
                if handle:
                    handle.close()
                relative = f"corpus/part-{shards:05d}.jsonl"
                handle = open(landing / relative, "w", encoding="utf-8")
                shards += 1
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            where[row["id"]] = relative
            written += 1
    finally:
        if handle:
            handle.close()
    judgments = unresolved = 0
    Path(golden_csv).parent.mkdir(parents=True, exist_ok=True)
    with open(golden_csv, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        writer.writerow(GOLDEN_COLUMNS)
        for query_id, text in dataset.queries.items():
            for corpus_id in dataset.qrels[query_id]:
                if corpus_id not in where:
                    unresolved += 1
                    continue
                writer.writerow([query_id, text, where[corpus_id], corpus_id, group, ""])
                judgments += 1
    questions = sum(1 for q in dataset.queries if any(c in where for c in dataset.qrels[q]))
    return LandingSummary(written, skipped, shards, questions, judgments, unresolved)


# --------------------------------------------------------------------------------------------
# `docvec eval --beir`: a BEIR dataset through the dbt pipeline into its own DuckDB file
# --------------------------------------------------------------------------------------------

THRESHOLD_TAG = "evaluation_threshold"  # quality gates of the sample; not applied to BEIR runs
METRIC_COLUMNS = tuple(f"{name}@{k}" for name, k in METRICS)


def project_dir() -> Path:
    """The docvec dbt project: env DOCVEC_PROJECT_DIR, else the folder above python_udfs/."""
    import os

    configured = os.environ.get("DOCVEC_PROJECT_DIR")
    candidate = Path(configured) if configured else Path(__file__).resolve().parent.parent
    if not (candidate / "dbt_project.yml").is_file():
        raise FileNotFoundError(
            f"no dbt_project.yml in {candidate}: install docvec from its repository "
            "(`pip install -e .`) or set DOCVEC_PROJECT_DIR to the project folder"
        )
    return candidate


def dbt_executable() -> str:
    """The `dbt` of this Python environment (next to its interpreter), else the one on PATH."""
    import shutil
    import sys

    local = Path(sys.executable).with_name("dbt")
    if local.is_file():
        return str(local)
    found = shutil.which("dbt")
    if not found:
        raise FileNotFoundError("dbt not found next to this Python interpreter nor on PATH")
    return found


def default_workdir(beir_path: str | Path) -> Path:
    """Where `docvec eval` keeps a dataset's landing folder, questions CSV, DuckDB file and dbt
    target: $XDG_CACHE_HOME/docvec/eval/<name>-<hash of the absolute path> (~/.cache by default),
    so a second run reuses the embedding cache and embeds nothing."""
    import os

    root = Path(beir_path).resolve()
    digest = hashlib.sha256(str(root).encode("utf-8")).hexdigest()[:8]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "docvec" / "eval" / f"{root.name}-{digest}"


def beir_dbt_vars(landing: Path, golden_csv: Path, dataset: str) -> dict:
    """dbt vars of a BEIR run: the landing folder, its questions, every document public."""
    return {
        "source_path": str(landing),
        "golden_questions_path": str(golden_csv),
        "eval_dataset": dataset,
        "default_access_groups": [BEIR_GROUP],
        "json_text_fields": ["text"],
        "json_id_fields": ["id"],
        "json_title_fields": ["title"],
    }


def read_metrics(db_path: str | Path, dataset: str) -> list[dict]:
    """Rows of retrieval_metrics for one dataset, ordered by strategy, mode, metric and k."""
    modes = "case mode when 'vector' then 0 when 'keyword' then 1 else 2 end"
    metrics = "case metric when 'recall' then 0 when 'mrr' then 1 else 2 end"
    with duckdb.connect(str(db_path), read_only=True) as conn:
        rows = conn.execute(
            "select dataset, strategy_id, model_id, mode, metric, k, value, n_queries "
            "from retrieval_metrics where dataset = ? "
            f"order by strategy_id, {modes}, {metrics}, k",
            [dataset],
        ).fetchall()
    names = ("dataset", "strategy_id", "model_id", "mode", "metric", "k", "value", "n_queries")
    return [dict(zip(names, row)) for row in rows]


def run_beir_eval(
    beir_path: str | Path,
    *,
    split: str | None = None,
    db_path: str | Path | None = None,
    workdir: str | Path | None = None,
    max_queries: int | None = None,
    dbt_vars: dict | None = None,
    log: Callable[[str], None] = lambda line: None,
) -> dict:
    """Import a BEIR dataset, `dbt build` the docvec project on it, and return its metrics.

    Files go under `workdir` (default `default_workdir(beir_path)`): `landing/corpus/*.jsonl`,
    `golden_questions.csv`, `docvec.duckdb` (unless `db_path`), `target/` and `logs/`.
    """
    import os
    import subprocess
    import time

    dataset = read_beir(beir_path, split, max_queries)
    if not dataset.queries:
        raise ValueError(f"no query of {beir_path} has a relevant document in qrels/{dataset.split}.tsv")
    work = Path(workdir) if workdir else default_workdir(beir_path)
    work.mkdir(parents=True, exist_ok=True)
    db = Path(db_path) if db_path else work / "docvec.duckdb"
    db.parent.mkdir(parents=True, exist_ok=True)
    landing, golden_csv = work / "landing", work / "golden_questions.csv"
    started = time.monotonic()
    summary = write_beir_landing(dataset, landing, golden_csv)
    log(
        f"docvec eval: {dataset.name} ({dataset.split}): {summary.documents:,} documents in "
        f"{summary.shards} JSONL files, {summary.questions:,} queries, {summary.judgments:,} judgments "
        f"({summary.skipped} corpus entries skipped, "
        f"{summary.unresolved_judgments} judgments on missing documents)"
    )
    variables = beir_dbt_vars(landing.resolve(), golden_csv.resolve(), dataset.name)
    variables.update(dbt_vars or {})
    project = project_dir()
    command = [
        dbt_executable(), "build",
        "--project-dir", str(project),
        "--profiles-dir", str(project),
        "--target-path", str(work / "target"),
        "--log-path", str(work / "logs"),
        "--vars", json.dumps(variables),
        "--exclude", f"tag:{THRESHOLD_TAG}",
    ]
    env = dict(os.environ)
    env.update(
        DOCVEC_DB_PATH=str(db.resolve()),
        DOCVEC_SOURCE_PATH=str(landing.resolve()),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    log("docvec eval: " + " ".join(command[:2]) + f" into {db}")
    tail: list[str] = []
    with subprocess.Popen(
        command, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            line = line.rstrip("\n")
            log(line)
            tail = (tail + [line])[-60:]
        returncode = process.wait()
    if returncode != 0:
        raise RuntimeError(f"dbt build failed ({returncode}); log in {work / 'logs'}:\n" + "\n".join(tail))
    metrics = read_metrics(db, dataset.name)
    with duckdb.connect(str(db), read_only=True) as conn:
        documents = conn.execute("select count(*) from documents").fetchone()[0]
        quarantined = conn.execute("select count(*) from quarantined_documents").fetchone()[0]
        chunks = dict(conn.execute("select strategy_id, count(*) from chunks group by all").fetchall())
    return {
        "dataset": dataset.name,
        "split": dataset.split,
        "db": str(db),
        "workdir": str(work),
        "n_queries": max((m["n_queries"] for m in metrics), default=0),
        "documents": documents,
        "quarantined": quarantined,
        "chunks": chunks,
        "seconds": round(time.monotonic() - started, 1),
        "metrics": metrics,
    }


def metrics_pivot(metrics: Sequence[dict]) -> list[dict]:
    """One row per (strategy_id, model_id, mode) with a column per `metric@k`."""
    rows: dict[tuple, dict] = {}
    for m in metrics:
        key = (m["strategy_id"], m["model_id"], m["mode"])
        row = rows.setdefault(key, {"strategy_id": key[0], "model_id": key[1], "mode": key[2],
                                    "n_queries": m["n_queries"]})
        row[f"{m['metric']}@{m['k']}"] = m["value"]
    return list(rows.values())


def format_metrics_table(result: dict) -> str:
    """A plain-text table of a `run_beir_eval` result."""
    header = (
        f"{result['dataset']} ({result['split']}): {result['n_queries']:,} queries, "
        f"{result['documents']:,} documents, chunks: "
        + ", ".join(f"{s} {n:,}" for s, n in sorted(result["chunks"].items()))
    )
    rows = metrics_pivot(result["metrics"])
    if not rows:
        return header + "\nno metrics (no query could be scored)"
    columns = ["strategy_id", "mode", *METRIC_COLUMNS]
    cells = [
        [r["strategy_id"], r["mode"], *(f"{r.get(c, math.nan):.3f}" for c in METRIC_COLUMNS)]
        for r in rows
    ]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) if i < 2 else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths)))

    model = ", ".join(sorted({r["model_id"] for r in rows}))
    return "\n".join([header, f"model: {model}", line(columns), line(["-" * w for w in widths]),
                      *(line(c) for c in cells)])
