"""Retrieval evaluation inside dbt: metric math and every chunking strategy ranked like search.

Two parts, both run by the `retrieval_runs` Python model (and its SQL sibling `retrieval_metrics`):

* **Metric math** (`document_ranking`, `recall_at_k`, `reciprocal_rank_at_k`, `ndcg_at_k`,
  `query_metrics`): the reference implementation of what the SQL model `retrieval_metrics`
  computes. Metrics are document-level: a document ranks at its best chunk, and relevance is
  binary (a document is relevant to a question or not).
* **Ranking** (`rank_strategy`): ranks the chunks of one chunking strategy for a list of questions
  the way `docvec.search` ranks `search_index`, with the shared SQL of `python_udfs.ranking` —
  exact cosine similarity in DuckDB (`vector`), BM25 from DuckDB's `fts` extension over
  chunk_text, title and section with the same index settings (`keyword`), and reciprocal rank
  fusion of both (`hybrid`) — with the asker's access groups applied before ranking. Strategies
  that are not served can so be compared with the one that is. A change to what these rankings
  return must bump `python_udfs.ranking.RANKING_VERSION`.

The BEIR import and the `docvec eval` runner are application code: `docvec.evaluation`.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import duckdb

from .duckdb_helpers import scalar
from .fts_text import ensure_registered
from .ranking import (
    DEFAULT_CANDIDATES,
    DEFAULT_KEYWORD_WEIGHT,
    DEFAULT_RRF_K,
    DEFAULT_VECTOR_WEIGHT,
    MODES,
    RANKING_ORDER,
    create_fts_index_sql,
    filter_where,
    fts_schema,
    keyword_parameter,
    reciprocal_rank_fusion,
    score_sql,
    scored_sql,
    vector_parameter,
    with_fts_text_sql,
)

# (metric, k) pairs of `retrieval_metrics`; the depth of every ranking is the largest k. The SQL
# model retrieval_query_metrics and the accepted_values tests repeat them
# (tests/python/test_constants_parity.py keeps them equal).
METRICS: tuple[tuple[str, int], ...] = (
    ("recall", 1),
    ("recall", 5),
    ("recall", 10),
    ("recall", 100),
    ("mrr", 10),
    ("ndcg", 10),
)
DEPTH = max(k for _, k in METRICS)

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
# Ranking one strategy's chunks like docvec.search ranks search_index
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """A golden question: its text, the asker's access groups and its embedding."""

    question_id: str
    text: str
    groups: tuple[str, ...] = ("public",)
    vector: tuple[float, ...] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class RankingSettings:
    """How deep rankings go and how hybrid fuses them (vars hybrid_* of dbt_project.yml)."""

    depth: int = DEPTH  # documents each ranking must cover (the largest k of the metrics)
    candidates: int = DEFAULT_CANDIDATES  # least chunks taken from each list before fusion
    vector_weight: float = DEFAULT_VECTOR_WEIGHT
    keyword_weight: float = DEFAULT_KEYWORD_WEIGHT
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
    """One chunk of a ranking, at its rank (1 = best)."""

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

    def __init__(
        self, conn: duckdb.DuckDBPyConnection, select_sql: str, params: Sequence[object] = (), *, name: str
    ) -> None:
        self.conn = conn
        self.table = name
        self.fts_schema = fts_schema(name)
        ensure_registered(conn)  # the fts_text column's UDF, on a connection the plugin did not configure
        conn.execute(f"create or replace temp table {self.table} as {with_fts_text_sql(select_sql)}", list(params))
        self.n_chunks = scalar(conn, f"select count(*) from {self.table}")
        self.dimension: int | None = None
        self._indexed = False
        if self.n_chunks:
            self.dimension = scalar(conn, f"select len(embedding) from {self.table} limit 1")
            # The same index as macros/create_search_indexes.sql builds on search_index.
            conn.execute(create_fts_index_sql(self.table))
            self._indexed = True

    def close(self) -> None:
        """Drop the BM25 index and the temporary table."""
        if self._indexed:
            self.conn.execute(f"pragma drop_fts_index('{self.table}')")
            self._indexed = False
        self.conn.execute(f"drop table if exists {self.table}")

    def __enter__(self) -> StrategyCorpus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ranked(
        self, mode: str, score_param: object, groups: Sequence[str], limit_docs: int, least: int
    ) -> list[tuple]:
        # The shared ranking SQL (python_udfs.ranking: scored_sql, score_sql, RANKING_ORDER), the
        # access groups applied before ranking; cut where `limit_docs` distinct documents are
        # covered (and >= least chunks).
        if not groups:
            return []  # an asker with no group may read nothing
        where, where_params = filter_where(tuple(groups))
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

    def vector_ranking(self, vector: Sequence[float], groups: Sequence[str], depth: int, least: int = 0) -> list[tuple]:
        """(chunk_id, document_id, score) by cosine similarity, covering `depth` documents."""
        if not self.n_chunks:
            return []
        return self._ranked("vector", vector_parameter(vector), groups, depth, least)

    def keyword_ranking(self, query: str, groups: Sequence[str], depth: int, least: int = 0) -> list[tuple]:
        """(chunk_id, document_id, score) by BM25, covering `depth` documents."""
        if not self.n_chunks:
            return []
        return self._ranked("keyword", keyword_parameter(query), groups, depth, least)

    def rank(self, question: Question, modes: Sequence[str], settings: RankingSettings) -> dict[str, list[RankedChunk]]:
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
        vector = self.vector_ranking(question.vector or (), groups, depth, pool) if needs_vector else []
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
    "dataset",
    "question_id",
    "strategy_id",
    "model_id",
    "mode",
    "rank",
    "chunk_id",
    "document_id",
    "score",
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
                yield (
                    dataset,
                    question.question_id,
                    strategy_id,
                    model_id,
                    mode,
                    hit.rank,
                    hit.chunk_id,
                    hit.document_id,
                    hit.score,
                )
