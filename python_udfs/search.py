"""Search over `search_index`: vector, keyword (BM25) and hybrid (reciprocal rank fusion).

Access groups are applied in the same SQL statement as the ranking, before the top-k cut, so a
chunk the caller may not read can neither be returned nor push a readable chunk out of the
results. The query text, groups and filters are always bound as parameters, never spliced into
SQL.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

import duckdb

MODES = ("vector", "keyword", "hybrid")
FTS_SCHEMA = "fts_main_search_index"
DEFAULT_RRF_K = 60


@dataclass(frozen=True)
class SearchResult:
    chunk_id: str
    score: float
    source_path: str
    title: str | None
    section: str | None
    start_char: int
    end_char: int
    chunk_text: str
    document_id: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SearchFilters:
    """Who asks and what they want to see; every field is bound as a query parameter."""

    groups: tuple[str, ...] = ("public",)
    path_prefix: str | None = None
    file_type: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()

    def where(self) -> tuple[str, list[Any]]:
        if not self.groups:
            raise ValueError("access groups are required: a caller with no group may read nothing")
        clauses = ["list_has_any(access_groups, ?::varchar[])"]
        params: list[Any] = [list(self.groups)]
        if self.path_prefix:
            clauses.append("starts_with(source_path, ?)")
            params.append(self.path_prefix)
        if self.file_type:
            clauses.append("file_type = ?")
            params.append(self.file_type)
        for key, value in self.metadata:
            clauses.append("json_extract_string(metadata, ?) = ?")
            params.extend(["$." + _json_key(key), value])
        return " and ".join(clauses), params


def _json_key(key: str) -> str:
    # A metadata key becomes one quoted JSON path step, whatever characters it holds.
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def default_db_path() -> str:
    return os.environ.get("DOCVEC_DB_PATH", "docvec.duckdb")


def connect(db_path: str | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-only with the fts extension loaded from its pip package."""
    from .plugin import load_extensions

    path = db_path or default_db_path()
    if not os.path.exists(path):
        raise FileNotFoundError(f"no docvec warehouse at {path!r}: run `make build` (or `dbt build`) first")
    try:
        conn = duckdb.connect(path, read_only=True)
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise RuntimeError(
                f"the warehouse {path!r} is locked by another process (a running `dbt build`?): "
                "wait for it to finish and try again"
            ) from error
        raise
    load_extensions(conn, ("fts",))
    return conn


_COLUMNS = "chunk_id, source_path, title, section, start_char, end_char, chunk_text, document_id"


def _vector_ranking(conn, vector: list[float], filters: SearchFilters, limit: int) -> list[tuple]:
    where, params = filters.where()
    dimension = len(vector)
    sql = f"""
        select {_COLUMNS},
               array_cosine_similarity(embedding, ?::float[{dimension}]) as score
        from search_index
        where {where}
        order by score desc, chunk_id
        limit ?
    """
    return conn.execute(sql, [vector, *params, limit]).fetchall()


def _keyword_ranking(conn, query: str, filters: SearchFilters, limit: int) -> list[tuple]:
    where, params = filters.where()
    sql = f"""
        with scored as (
            select {_COLUMNS}, access_groups, file_type, metadata,
                   {FTS_SCHEMA}.match_bm25(chunk_id, ?) as score
            from search_index
        )
        select {_COLUMNS}, score
        from scored
        where score is not null and {where}
        order by score desc, chunk_id
        limit ?
    """
    return conn.execute(sql, [query, *params, limit]).fetchall()


def _to_result(row: tuple, score: float) -> SearchResult:
    chunk_id, source_path, title, section, start_char, end_char, chunk_text, document_id = row[:8]
    return SearchResult(chunk_id, float(score), source_path, title, section, start_char, end_char, chunk_text, document_id)


def reciprocal_rank_fusion(
    rankings: list[list[tuple]], weights: list[float], rrf_k: int = DEFAULT_RRF_K
) -> list[tuple[tuple, float]]:
    """Fuse ranked lists: score = sum of weight / (rrf_k + rank) over the lists a row appears in."""
    fused: dict[str, float] = {}
    rows: dict[str, tuple] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, row in enumerate(ranking, start=1):
            fused[row[0]] = fused.get(row[0], 0.0) + weight / (rrf_k + rank)
            rows.setdefault(row[0], row)
    order = sorted(fused, key=lambda chunk_id: (-fused[chunk_id], chunk_id))
    return [(rows[chunk_id], fused[chunk_id]) for chunk_id in order]


def search(
    conn: duckdb.DuckDBPyConnection,
    query: str,
    *,
    k: int = 10,
    mode: str = "hybrid",
    filters: SearchFilters = SearchFilters(),
    model_path: str | None = None,
    backend: str = "torch",
    weights: tuple[float, float] = (1.0, 1.0),
    rrf_k: int = DEFAULT_RRF_K,
    candidates: int = 100,
) -> list[SearchResult]:
    """Top `k` chunks of `search_index` for `query` that the caller's groups may read."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
    if k < 1:
        raise ValueError("k must be at least 1")
    if not isinstance(query, str) or not query.strip():
        raise ValueError("the query is empty")
    pool = max(k, candidates)
    if mode == "keyword":
        return [_to_result(row, row[-1]) for row in _keyword_ranking(conn, query, filters, k)]
    from .embedding import embed_texts, load_model

    vector = embed_texts(load_model(model_path, backend), [query])[0].tolist()
    if mode == "vector":
        return [_to_result(row, row[-1]) for row in _vector_ranking(conn, vector, filters, k)]
    fused = reciprocal_rank_fusion(
        [_vector_ranking(conn, vector, filters, pool), _keyword_ranking(conn, query, filters, pool)],
        list(weights),
        rrf_k,
    )
    return [_to_result(row, score) for row, score in fused[:k]]
