"""Search over `search_index`: vector, keyword (BM25) and hybrid (reciprocal rank fusion).

Access groups are applied in the same SQL statement as the ranking, before the top-k cut, so a
chunk the caller may not read can neither be returned nor push a readable chunk out of the
results. The query text, its vector, groups and filters are always bound as parameters, never
spliced into SQL.

Vector ranking uses the HNSW index (DuckDB vss) that the build creates on `search_index` when it
is there. vss does not push a WHERE clause into its index scan (it filters the index's top rows
afterwards), so the indexed path takes the `oversample` x k nearest chunks over all rows as
candidates, applies the access groups and other filters to them, and ranks the survivors; when
fewer than k permitted chunks survive, it ranks the permitted chunks exactly instead. Either way
no chunk outside the caller's groups is returned, and the result equals the exact filtered
ranking whenever the index finds the true nearest neighbours. `exact=True` always ranks exactly.

The ranking SQL (`scored_sql`, `score_sql`, `RANKING_ORDER`) is shared with
`python_udfs.evaluation`, which ranks other chunking strategies' chunks the same way.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import duckdb

MODES = ("vector", "keyword", "hybrid")
SEARCH_TABLE = "search_index"
FTS_SCHEMA = "fts_main_search_index"
DEFAULT_RRF_K = 60
DEFAULT_OVERSAMPLE = 4  # HNSW candidates per result wanted, before the filters
RANKING_ORDER = "score desc, chunk_id"  # ties broken by chunk_id, in every mode and path


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


# --------------------------------------------------------------------------------------------
# Ranking SQL shared with python_udfs.evaluation
# --------------------------------------------------------------------------------------------


def vector_parameter(vector: Sequence[float]) -> str:
    """A query vector as the text of a DuckDB list, bound as a VARCHAR parameter and cast to
    FLOAT[n] in SQL: the same float32 values as binding the list itself, about ten times faster
    (DuckDB converts a bound Python list element by element)."""
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


def fts_schema(table: str) -> str:
    """The schema DuckDB fts creates for the index of `table` (in schema main)."""
    return f"fts_main_{table}"


def score_sql(mode: str, table: str, dimension: int | None = None) -> str:
    """The score of one chunk in a ranking by `mode` ('vector' or 'keyword'): one `?` parameter,
    the query vector (`vector_parameter`) or the query text. Higher is better; NULL = no match."""
    if mode == "vector":
        if not dimension:
            raise ValueError("a vector score needs the embedding dimension")
        return f"array_cosine_similarity(embedding, ?::float[{int(dimension)}])"
    if mode == "keyword":
        return f"{fts_schema(table)}.match_bm25(chunk_id, ?)"
    raise ValueError(f"no single score for mode {mode!r}")


def scored_sql(table: str, columns: str, score: str, where: str) -> str:
    """The rows of `table` that pass `where`, with `score` — filters applied before any ranking;
    rows without a score (no BM25 match) are left out. Rank them by RANKING_ORDER."""
    return (
        f"select * from (select {columns}, {score} as score from {table} where {where}) "
        "where score is not null"
    )


# --------------------------------------------------------------------------------------------
# Connecting and the vector index
# --------------------------------------------------------------------------------------------


def default_db_path() -> str:
    return os.environ.get("DOCVEC_DB_PATH", "docvec.duckdb")


def connect(db_path: str | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-only with the vss and fts extensions loaded from their pip packages."""
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
    load_extensions(conn, ("vss", "fts"))
    return conn


def vector_index_name(conn: duckdb.DuckDBPyConnection, table: str = SEARCH_TABLE) -> str | None:
    """The HNSW index on `table` (schema main), if the build created one and vss is loaded."""
    row = conn.execute(
        """
        select index_name from duckdb_indexes()
        where schema_name = 'main' and table_name = ? and upper(sql) like '%USING HNSW%'
          and exists (select 1 from duckdb_extensions() where extension_name = 'vss' and loaded)
        order by index_name
        limit 1
        """,
        [table],
    ).fetchone()
    return row[0] if row else None


_COLUMNS = "chunk_id, source_path, title, section, start_char, end_char, chunk_text, document_id"
_FILTER_COLUMNS = "access_groups, file_type, metadata"


def vector_sql(
    vector: Sequence[float], filters: SearchFilters, limit: int, *, indexed: bool, oversample: int = DEFAULT_OVERSAMPLE
) -> tuple[str, list[Any]]:
    """The vector ranking query and its parameters: the `limit` permitted chunks most similar to
    `vector`, by a full scan of the permitted rows (`indexed=False`), or (`indexed=True`) among
    the `limit * oversample` nearest chunks of all rows, which vss finds with its HNSW index."""
    where, params = filters.where()
    dimension = len(vector)
    text = vector_parameter(vector)
    score = score_sql("vector", SEARCH_TABLE, dimension)
    if not indexed:
        sql = scored_sql(SEARCH_TABLE, _COLUMNS, score, where)
        return f"{sql} order by {RANKING_ORDER} limit ?", [text, *params, limit]
    candidates = max(limit, limit * max(1, int(oversample)))
    # The LIMIT is an integer literal: vss only replaces `order by distance limit <constant>` by
    # its index scan. The filters sit outside the candidates query, so they can only run on the
    # candidates (vss would apply them to the index's top rows anyway, not before its search).
    sql = f"""
        with candidates as (
            select {_COLUMNS}, {_FILTER_COLUMNS}, {score} as score
            from {SEARCH_TABLE}
            order by array_cosine_distance(embedding, ?::float[{dimension}])
            limit {int(candidates)}
        )
        select {_COLUMNS}, score
        from candidates
        where {where}
        order by {RANKING_ORDER}
        limit ?
    """
    return sql, [text, text, *params, limit]


def exact_vector_ranking(conn, vector: Sequence[float], filters: SearchFilters, limit: int) -> list[tuple]:
    """The `limit` permitted chunks most similar to `vector`, by a full scan of the permitted rows."""
    sql, params = vector_sql(vector, filters, limit, indexed=False)
    return conn.execute(sql, params).fetchall()


def indexed_vector_ranking(
    conn, vector: Sequence[float], filters: SearchFilters, limit: int, oversample: int = DEFAULT_OVERSAMPLE
) -> list[tuple] | None:
    """Like `exact_vector_ranking`, through the HNSW index: the permitted chunks among the
    `limit * oversample` nearest of all rows, ranked by exact similarity; None when fewer than
    `limit` permitted chunks are among them (the caller then ranks exactly)."""
    sql, params = vector_sql(vector, filters, limit, indexed=True, oversample=oversample)
    rows = _without_late_materialization(conn, sql, params)
    return rows if len(rows) >= limit else None


def _without_late_materialization(conn, sql: str, params: list[Any]) -> list[tuple]:
    """Run `sql` with DuckDB's late materialization off, then restore the connection's setting.

    For a small LIMIT, DuckDB ranks rowids first and fetches the other columns with a semi-join
    that scans the whole table: ~100 ms at 100k chunks, against ~4 ms when the HNSW index scan
    fetches its candidate rows itself (bench.latency_bench)."""
    previous = conn.execute("select current_setting('late_materialization_max_rows')").fetchone()[0]
    conn.execute("set late_materialization_max_rows = 0")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.execute(f"set late_materialization_max_rows = {int(previous)}")


def _vector_ranking(
    conn, vector: Sequence[float], filters: SearchFilters, limit: int, *, exact: bool, oversample: int
) -> list[tuple]:
    if not exact and vector_index_name(conn) is not None:
        rows = indexed_vector_ranking(conn, vector, filters, limit, oversample)
        if rows is not None:
            return rows
    return exact_vector_ranking(conn, vector, filters, limit)


def keyword_ranking(conn, query: str, filters: SearchFilters, limit: int) -> list[tuple]:
    """The `limit` permitted chunks with the best BM25 score for `query` (fts over chunk_text,
    title and section); chunks that match no query term are not ranked."""
    where, params = filters.where()
    sql = scored_sql(SEARCH_TABLE, _COLUMNS, score_sql("keyword", SEARCH_TABLE), where)
    return conn.execute(f"{sql} order by {RANKING_ORDER} limit ?", [query, *params, limit]).fetchall()


def _to_result(row: tuple, score: float) -> SearchResult:
    chunk_id, source_path, title, section, start_char, end_char, chunk_text, document_id = row[:8]
    return SearchResult(
        chunk_id, float(score), source_path, title, section, start_char, end_char, chunk_text, document_id
    )


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


def embed_query(query: str, model_path: str | None = None, backend: str = "torch") -> list[float]:
    """The query's vector from the serving model (what `docvec_embed_query` returns in SQL)."""
    from .embedding import embed_texts, load_model

    return embed_texts(load_model(model_path, backend), [query])[0].tolist()


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
    exact: bool = False,
    oversample: int = DEFAULT_OVERSAMPLE,
    vector: Sequence[float] | None = None,
) -> list[SearchResult]:
    """Top `k` chunks of `search_index` for `query` that the caller's groups may read.

    `exact` ranks vectors by a full scan instead of the HNSW index; `vector` is the query's
    embedding when the caller already has it (else the serving model embeds `query`).
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
    if k < 1:
        raise ValueError("k must be at least 1")
    if not isinstance(query, str) or not query.strip():
        raise ValueError("the query is empty")
    pool = max(k, candidates)
    if mode == "keyword":
        return [_to_result(row, row[-1]) for row in keyword_ranking(conn, query, filters, k)]
    if vector is None:
        vector = embed_query(query, model_path, backend)
    elif not all(math.isfinite(x) for x in vector):
        raise ValueError("the query vector has non-finite elements")
    if mode == "vector":
        ranked = _vector_ranking(conn, vector, filters, k, exact=exact, oversample=oversample)
        return [_to_result(row, row[-1]) for row in ranked]
    fused = reciprocal_rank_fusion(
        [
            _vector_ranking(conn, vector, filters, pool, exact=exact, oversample=oversample),
            keyword_ranking(conn, query, filters, pool),
        ],
        list(weights),
        rrf_k,
    )
    return [_to_result(row, score) for row, score in fused[:k]]
