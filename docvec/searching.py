"""Search over `search_index`: vector, keyword (BM25) and hybrid (reciprocal rank fusion).

The public functions are exported by the package: `from docvec import search, connect,
SearchFilters, SearchResult`. This module is called `searching`, not `search`, so that
`docvec.search` is the function, never a submodule shadowing it.

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

The ranking SQL itself (`scored_sql`, `score_sql`, `RANKING_ORDER`, the filters' WHERE clause,
reciprocal rank fusion) is `python_udfs.ranking`, shared with the dbt model `retrieval_runs`,
which ranks other chunking strategies' chunks the same way.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import duckdb

from python_udfs.duckdb_helpers import scalar
from python_udfs.ranking import (
    DEFAULT_CANDIDATES,
    DEFAULT_MODE,
    DEFAULT_RRF_K,
    DEFAULT_WEIGHTS,
    MODES,
    RANKING_ORDER,
    filter_where,
    keyword_parameter,
    reciprocal_rank_fusion,
    score_sql,
    scored_sql,
    vector_parameter,
)
from python_udfs.warehouse_access import WarehouseUnavailable, explain_open_error, path_problem

SEARCH_TABLE = "search_index"
DEFAULT_OVERSAMPLE = 4  # HNSW candidates per result wanted, before the filters
DB_PATH_ENV = "DOCVEC_DB_PATH"
DEFAULT_DB_PATH = "docvec.duckdb"
# The query backend when no vectors say which (an empty search_index).
DEFAULT_QUERY_BACKEND = "torch"
# --backend of `docvec search`, `docvec serve` and `docvec mcp`.
BACKEND_HELP = (
    "query embedding backend: torch, onnx, onnx-int8 or openai (default: the backend that embedded the "
    "vectors searched, read from their model_id; a different one is refused)"
)
# Bounds of the search arguments: beyond them a request is a mistake, not a search.
MAX_RESULTS = 10_000  # k and candidates
MAX_RRF_K = 1_000_000
MAX_OVERSAMPLE = 100

# DuckDB 1.5.5's vss HNSW index scans abort the process ("free(): invalid size") when several
# threads of one process run them at once (found by bench.service_bench: docvec serve with 8
# concurrent vector searches). Until that is fixed upstream, one indexed scan at a time per process;
# exact scans, BM25 and everything else still run concurrently.
_HNSW_SCAN = threading.Lock()

_COLUMNS = "chunk_id, source_path, title, section, start_char, end_char, chunk_text, document_id"
_FILTER_COLUMNS = "access_groups, file_type, metadata, strategy_id, model_id"


@dataclass(frozen=True)
class SearchResult:
    """One ranked chunk: where it comes from (path, offsets, section) and its text."""

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
        """The result as a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class SearchFilters:
    """Who asks and what they want to see; every field is bound as a query parameter."""

    groups: tuple[str, ...] = ("public",)
    path_prefix: str | None = None
    file_type: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()
    # Where a publication holds several chunking strategies or models: only this one's chunks.
    strategy_id: str | None = None
    model_id: str | None = None

    def where(self) -> tuple[str, list[Any]]:
        """The WHERE clause of a ranking and its parameters (groups first)."""
        return filter_where(
            self.groups, self.path_prefix, self.file_type, self.metadata, self.strategy_id, self.model_id
        )


# --------------------------------------------------------------------------------------------
# Connecting and the vector index
# --------------------------------------------------------------------------------------------


def default_db_path() -> str:
    """The warehouse file: env DOCVEC_DB_PATH, else docvec.duckdb in the current folder."""
    return os.environ.get(DB_PATH_ENV, DEFAULT_DB_PATH)


class WarehouseNotBuilt(RuntimeError):
    """The warehouse has no `search_index` table: it was never built (or not to the end)."""


def published_path() -> str:
    """The file of the current publication of the serving store (env DOCVEC_SERVING_PATH, else
    beside the warehouse: docvec.serving.duckdb); FileNotFoundError when nothing is published."""
    from docvec.publishing.store import ServingStore, serving_path_for

    serving = serving_path_for()
    current = ServingStore(serving).current_path()
    if current is None:
        raise FileNotFoundError(
            f"nothing is published at {serving!r} yet: `make build` (dbt build) publishes search_index once every "
            "test passes; to search the build warehouse itself, give its path (--db docvec.duckdb)"
        )
    return current


def connect(db_path: str | None = None) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file read-only with the vss and fts extensions loaded from their pip packages:
    by default the current publication of the serving store (`published_path`), which builds and
    publishes never lock; else `db_path` (a publication, the serving link, or a build warehouse).

    A file that cannot be opened raises FileNotFoundError (no file, nothing published) or
    WarehouseUnavailable (a RuntimeError) with one line that says why and what to do: a folder or
    an empty file, a lock another process holds, damage, a write-ahead log that needs recovery."""
    from python_udfs.plugin import load_extensions

    path = db_path or published_path()
    if os.path.islink(path):
        # the serving link: open the publication itself, so that a process which opens the link
        # again after a new publication gets the new file, not DuckDB's cached instance of the old one
        path = os.path.realpath(path)
    problem = path_problem(path)
    if problem is not None:
        raise WarehouseUnavailable(problem)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no docvec warehouse at {path!r}: run `make build` (or `dbt build`) first")
    try:
        conn = duckdb.connect(path, read_only=True)
    except duckdb.Error as error:
        raise WarehouseUnavailable(explain_open_error(path, error, retry="search again")) from error
    try:
        load_extensions(conn, ("vss", "fts"))
    except BaseException:
        conn.close()
        raise
    return conn


def require_search_index(conn: duckdb.DuckDBPyConnection) -> None:
    """Raise WarehouseNotBuilt, with what to do, when the warehouse has no `search_index` table."""
    found = scalar(
        conn,
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = 'main' and table_name = ?",
        [SEARCH_TABLE],
    )
    if not found:
        path = scalar(
            conn,
            "select coalesce(max(path), current_database()) from duckdb_databases() "
            "where database_name = current_database()",
        )
        raise WarehouseNotBuilt(
            f"the warehouse {path!r} has no {SEARCH_TABLE} table: build it first (`make build` or `dbt build`)"
        )


def check_search_arguments(
    k: int,
    mode: str = DEFAULT_MODE,
    weights: Sequence[float] = DEFAULT_WEIGHTS,
    rrf_k: int = DEFAULT_RRF_K,
    candidates: int = DEFAULT_CANDIDATES,
    oversample: int = DEFAULT_OVERSAMPLE,
) -> None:
    """Raise ValueError, naming the argument, for a search request that cannot be meant."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
    _check_integer("k", k, 1, MAX_RESULTS)
    _check_integer("candidates", candidates, 1, MAX_RESULTS)
    _check_integer("rrf_k", rrf_k, 0, MAX_RRF_K)
    _check_integer("oversample", oversample, 1, MAX_OVERSAMPLE)
    if len(weights) != 2:
        raise ValueError(f"weights must be two numbers (vector, keyword), got {len(weights)}")
    for name, weight in zip(("vector weight", "keyword weight"), weights):
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight) or weight < 0:
            raise ValueError(f"the {name} must be a finite number >= 0, got {weight!r}")
    if not any(weights):
        raise ValueError("the vector and keyword weights are both 0: at least one must be > 0")


def check_search_request(
    query: object,
    vector: Sequence[float] | None,
    k: int,
    mode: str = DEFAULT_MODE,
    weights: Sequence[float] = DEFAULT_WEIGHTS,
    rrf_k: int = DEFAULT_RRF_K,
    candidates: int = DEFAULT_CANDIDATES,
    oversample: int = DEFAULT_OVERSAMPLE,
) -> None:
    """Raise ValueError for a search request that cannot be meant: its arguments, an empty query,
    a query vector given without a direction (docvec.search and search_target alike)."""
    check_search_arguments(k, mode, weights, rrf_k, candidates, oversample)
    if not isinstance(query, str) or not query.strip():
        raise ValueError("the query is empty")
    if vector is not None:
        check_query_vector(vector)


def _check_integer(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low:,} to {high:,}, got {value!r}")


def check_query_vector(vector: Sequence[float]) -> None:
    """Raise ValueError for a query vector that has no direction: empty, non-finite or all zeros
    (its cosine similarity with every chunk is undefined)."""
    if len(vector) == 0:
        raise ValueError("the query vector is empty")
    if not all(isinstance(x, int | float) and math.isfinite(x) for x in vector):
        raise ValueError("the query vector has non-finite elements")
    if not any(vector):
        raise ValueError("the query vector is all zeros: its cosine similarity is undefined")


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


# --------------------------------------------------------------------------------------------
# Rankings of search_index
# --------------------------------------------------------------------------------------------


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


def exact_vector_ranking(
    conn: duckdb.DuckDBPyConnection, vector: Sequence[float], filters: SearchFilters, limit: int
) -> list[tuple]:
    """The `limit` permitted chunks most similar to `vector`, by a full scan of the permitted rows."""
    sql, params = vector_sql(vector, filters, limit, indexed=False)
    return conn.execute(sql, params).fetchall()


def indexed_vector_ranking(
    conn: duckdb.DuckDBPyConnection,
    vector: Sequence[float],
    filters: SearchFilters,
    limit: int,
    oversample: int = DEFAULT_OVERSAMPLE,
) -> list[tuple] | None:
    """Like `exact_vector_ranking`, through the HNSW index: the permitted chunks among the
    `limit * oversample` nearest of all rows, ranked by exact similarity; None when fewer than
    `limit` permitted chunks are among them (the caller then ranks exactly)."""
    sql, params = vector_sql(vector, filters, limit, indexed=True, oversample=oversample)
    with _HNSW_SCAN:
        rows = _without_late_materialization(conn, sql, params)
    return rows if len(rows) >= limit else None


def _without_late_materialization(conn: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[tuple]:
    """Run `sql` with DuckDB's late materialization off, then restore the connection's setting.

    For a small LIMIT, DuckDB ranks rowids first and fetches the other columns with a semi-join
    that scans the whole table: ~100 ms at 100k chunks, against ~4 ms when the HNSW index scan
    fetches its candidate rows itself (bench.latency_bench)."""
    previous = scalar(conn, "select current_setting('late_materialization_max_rows')")
    conn.execute("set late_materialization_max_rows = 0")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.execute(f"set late_materialization_max_rows = {int(previous)}")


def _vector_ranking(
    conn: duckdb.DuckDBPyConnection,
    vector: Sequence[float],
    filters: SearchFilters,
    limit: int,
    *,
    exact: bool,
    oversample: int,
) -> list[tuple]:
    if not exact and vector_index_name(conn) is not None:
        rows = indexed_vector_ranking(conn, vector, filters, limit, oversample)
        if rows is not None:
            return rows
    return exact_vector_ranking(conn, vector, filters, limit)


def keyword_ranking(conn: duckdb.DuckDBPyConnection, query: str, filters: SearchFilters, limit: int) -> list[tuple]:
    """The `limit` permitted chunks with the best BM25 score for `query` (fts over chunk_text,
    title and section); chunks that match no query term are not ranked."""
    where, params = filters.where()
    sql = scored_sql(SEARCH_TABLE, _COLUMNS, score_sql("keyword", SEARCH_TABLE), where)
    return conn.execute(
        f"{sql} order by {RANKING_ORDER} limit ?", [keyword_parameter(query), *params, limit]
    ).fetchall()


def _to_result(row: tuple, score: float) -> SearchResult:
    chunk_id, source_path, title, section, start_char, end_char, chunk_text, document_id = row[:8]
    return SearchResult(
        chunk_id, float(score), source_path, title, section, start_char, end_char, chunk_text, document_id
    )


def query_backend(model_id: str | None, backend: str | None = None) -> str:
    """The embedding backend of a query compared with the vectors stored under `model_id`.

    None (the default everywhere a query is embedded) means the backend that produced those
    vectors: `backend_of_model_id(model_id)` (`<id>` torch, `<id>@onnx`, `<id>@onnx-int8`,
    `openai:<id>`). An explicit `backend` must be that one: vectors of different backends are
    never compared (ValueError). Without a model id (an empty index): `backend`, else torch."""
    from python_udfs.embedding.backends import backend_of_model_id, check_backend

    if backend is not None:
        check_backend(backend)
    if model_id is None:
        return backend or DEFAULT_QUERY_BACKEND
    stored = backend_of_model_id(model_id)
    if backend is not None and backend != stored:
        raise ValueError(
            f"the vectors searched are those of model {model_id!r}, embedded by backend {stored!r}: "
            f"a query embedded by backend {backend!r} cannot be compared with them "
            "(leave the backend out to use the vectors' own)"
        )
    return stored


def searched_model_id(conn: duckdb.DuckDBPyConnection, filters: SearchFilters) -> str | None:
    """The model whose vectors a search with `filters` compares: the `model_id` filter, else the
    only model_id of `search_index` (None when it is empty); ValueError naming them when it
    holds several and the filter chooses none."""
    if filters.model_id is not None:
        return filters.model_id
    found = [row[0] for row in conn.execute(f"select distinct model_id from {SEARCH_TABLE} order by 1").fetchall()]
    if len(found) > 1:
        raise ValueError(
            f"{SEARCH_TABLE} holds the vectors of several models ({', '.join(map(str, found))}): "
            "choose one with the model_id filter"
        )
    return found[0] if found else None


def embed_query(
    query: str, model_path: str | None = None, backend: str | None = None, *, model_id: str | None = None
) -> list[float]:
    """The query's vector from the serving model (what `docvec_embed_query` returns in SQL), by
    `query_backend(model_id, backend)`: the backend of the vectors of `model_id` it is compared with."""
    from python_udfs.embedding import embed_texts, load_model

    return embed_texts(load_model(model_path, query_backend(model_id, backend)), [query])[0].tolist()


def search(
    conn: duckdb.DuckDBPyConnection,
    query: str,
    *,
    k: int = 10,
    mode: str = DEFAULT_MODE,
    filters: SearchFilters = SearchFilters(),
    model_path: str | None = None,
    backend: str | None = None,
    weights: tuple[float, float] = DEFAULT_WEIGHTS,
    rrf_k: int = DEFAULT_RRF_K,
    candidates: int = DEFAULT_CANDIDATES,
    exact: bool = False,
    oversample: int = DEFAULT_OVERSAMPLE,
    vector: Sequence[float] | None = None,
) -> list[SearchResult]:
    """Top `k` chunks of `search_index` for `query` that the caller's groups may read.

    `mode` is `vector`, `keyword` or `hybrid` (reciprocal rank fusion of both with `weights`
    and `rrf_k`, each list `candidates` deep). `exact` ranks vectors by a full scan instead of
    the HNSW index; `vector` is the query's embedding when the caller already has it (else the
    serving model embeds `query` with `backend`, by default the one that embedded the vectors
    searched: see `query_backend`).
    """
    check_search_request(query, vector, k, mode, weights, rrf_k, candidates, oversample)
    require_search_index(conn)
    pool = max(k, candidates)
    if mode == "keyword":
        return [_to_result(row, row[-1]) for row in keyword_ranking(conn, query, filters, k)]
    if vector is None:
        vector = embed_query(query, model_path, backend, model_id=searched_model_id(conn, filters))
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
