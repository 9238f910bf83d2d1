"""The ranking SQL that the application's search (`docvec.search`) and the dbt Python model
`retrieval_runs` (through `python_udfs.evaluation`) share, so that a strategy's evaluation ranks
its chunks exactly the way `search_index` is served.

Modes: `vector` (cosine similarity of the query vector with each chunk's embedding), `keyword`
(BM25 of DuckDB's fts extension) and `hybrid` (reciprocal rank fusion of both). The caller's
access groups and the other filters sit in the WHERE clause of each ranking, before any ordering
or cut. Every value (query text, vector, groups, filters) is a bound parameter, never spliced.

`RANKING_VERSION` names the ranking's output: `retrieval_runs` reuses its stored rankings only
while it is unchanged. Bump it whenever the rankings change (this module, or the ranking part of
`python_udfs.evaluation`); tests/python/test_ranking_version.py fails until you do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .fts_text import FUNCTION_NAME as FTS_TEXT_FUNCTION
from .fts_text import fts_text, re2_class_body

RANKING_VERSION = "1"
# The one source of the search modes and the hybrid defaults. SQL and YAML that must repeat them
# (dbt_project.yml vars hybrid_*, accepted_values tests, macros/search.sql, the metric models) are
# kept equal by tests/python/test_constants_parity.py.
MODES = ("vector", "keyword", "hybrid")
DEFAULT_MODE = "hybrid"
DEFAULT_VECTOR_WEIGHT = 1.0  # hybrid: weight of the vector ranking (var hybrid_vector_weight)
DEFAULT_KEYWORD_WEIGHT = 1.0  # hybrid: weight of the BM25 ranking (var hybrid_keyword_weight)
DEFAULT_WEIGHTS: tuple[float, float] = (DEFAULT_VECTOR_WEIGHT, DEFAULT_KEYWORD_WEIGHT)
DEFAULT_RRF_K = 60  # var hybrid_rrf_k
DEFAULT_CANDIDATES = 100  # hybrid: chunks taken from each ranked list before fusion (at least k); var hybrid_candidates
RANKING_ORDER = "score desc, chunk_id"  # ties broken by chunk_id, in every mode and path

# The BM25 index (DuckDB fts) of a chunk table: its key, the indexed column and the index options.
# The index covers one column, FTS_TEXT_COLUMN = `fts_text_sql()`: FTS_SOURCE_COLUMNS joined by
# spaces, CJK and Thai runs as bigrams (python_udfs.fts_text; English text unchanged, so its BM25
# scores are those of indexing the three columns). `ignore` is fts's default, `(\\.|[^a-z])+`,
# that also keeps the bigrams' characters. `create_fts_index_sql` builds the statement;
# macros/create_search_indexes.sql repeats it and models/marts/search_index.sql the column (a dbt
# post-hook cannot call Python), kept equal by the parity test.
FTS_ID_COLUMN = "chunk_id"
FTS_SOURCE_COLUMNS = ("chunk_text", "title", "section")
FTS_TEXT_COLUMN = "fts_text"
FTS_COLUMNS = (FTS_TEXT_COLUMN,)
FTS_OPTIONS: tuple[tuple[str, str], ...] = (
    ("stemmer", "'porter'"),
    ("stopwords", "'english'"),
    ("ignore", "'(\\\\.|[^a-z" + re2_class_body() + "])+'"),
    ("strip_accents", "1"),
    ("lower", "1"),
    ("overwrite", "1"),
)


def vector_parameter(vector: Sequence[float]) -> str:
    """A query vector as the text of a DuckDB list, bound as a VARCHAR parameter and cast to
    FLOAT[n] in SQL: the same float32 values as binding the list itself, about ten times faster
    (DuckDB converts a bound Python list element by element)."""
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


def keyword_parameter(query: str) -> str:
    """A query text as the keyword ranking binds it: through `fts_text`, as the index's text was."""
    return fts_text(query) or ""


def fts_text_sql() -> str:
    """The SQL of a chunk table's FTS_TEXT_COLUMN, from its FTS_SOURCE_COLUMNS (NULLs skipped)."""
    return f"{FTS_TEXT_FUNCTION}(concat_ws(' ', {', '.join(FTS_SOURCE_COLUMNS)}))"


def with_fts_text_sql(select_sql: str) -> str:
    """The rows of `select_sql` with their FTS_TEXT_COLUMN added, ready for `create_fts_index_sql`
    (the connection needs the UDF: python_udfs.fts_text.ensure_registered)."""
    return f"select *, {fts_text_sql()} as {FTS_TEXT_COLUMN} from ({select_sql})"


def fts_schema(table: str) -> str:
    """The schema DuckDB fts creates for the index of `table` (in schema main)."""
    return f"fts_main_{table}"


def sql_string(value: str) -> str:
    """`value` as a SQL string literal (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def create_fts_index_sql(table: str) -> str:
    """The `pragma create_fts_index` statement of the BM25 index over FTS_COLUMNS of `table`
    (keyed by FTS_ID_COLUMN, with FTS_OPTIONS; an existing index is replaced)."""
    columns = ", ".join(sql_string(name) for name in (table, FTS_ID_COLUMN, *FTS_COLUMNS))
    options = ", ".join(f"{name} = {value}" for name, value in FTS_OPTIONS)
    return f"pragma create_fts_index({columns}, {options})"


def score_sql(mode: str, table: str, dimension: int | None = None) -> str:
    """The score of one chunk in a ranking by `mode` ('vector' or 'keyword'): one `?` parameter,
    the query vector (`vector_parameter`) or the query text (`keyword_parameter`). Higher is better; NULL = no match."""
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
    return f"select * from (select {columns}, {score} as score from {table} where {where}) where score is not null"


def filter_where(
    groups: Sequence[str],
    path_prefix: str | None = None,
    file_type: str | None = None,
    metadata: Sequence[tuple[str, str]] = (),
    strategy_id: str | None = None,
    model_id: str | None = None,
) -> tuple[str, list[Any]]:
    """The WHERE clause (and its parameters) of a ranking: the caller's access groups, then the
    optional filters on the path prefix, file type, metadata keys, chunking strategy and model."""
    if not groups:
        raise ValueError("access groups are required: a caller with no group may read nothing")
    clauses = ["list_has_any(access_groups, ?::varchar[])"]
    params: list[Any] = [list(groups)]
    if path_prefix:
        clauses.append("starts_with(source_path, ?)")
        params.append(path_prefix)
    if file_type:
        clauses.append("file_type = ?")
        params.append(file_type)
    for key, value in metadata:
        clauses.append("json_extract_string(metadata, ?) = ?")
        params.extend(["$." + json_key(key), value])
    for column, wanted in (("strategy_id", strategy_id), ("model_id", model_id)):
        if wanted is not None:
            clauses.append(f"{column} = ?")
            params.append(wanted)
    return " and ".join(clauses), params


def json_key(key: str) -> str:
    """A metadata key as one quoted JSON path step, whatever characters it holds."""
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[tuple]], weights: Sequence[float], rrf_k: int = DEFAULT_RRF_K
) -> list[tuple[tuple, float]]:
    """Fuse ranked lists of rows (chunk_id first): score = sum of weight / (rrf_k + rank) over
    the lists a row appears in; ties broken by chunk_id."""
    fused: dict[str, float] = {}
    rows: dict[str, tuple] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, row in enumerate(ranking, start=1):
            fused[row[0]] = fused.get(row[0], 0.0) + weight / (rrf_k + rank)
            rows.setdefault(row[0], row)
    order = sorted(fused, key=lambda chunk_id: (-fused[chunk_id], chunk_id))
    return [(rows[chunk_id], fused[chunk_id]) for chunk_id in order]
