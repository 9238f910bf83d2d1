"""The SQL of the PostgreSQL + pgvector target (tables, indexes, rankings, filters) and the
binary adapters that move float32 vectors in and out of pgvector bit-exactly.

Every identifier is composed with psycopg.sql (quoted), every value is a bound parameter.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np
import psycopg
import pyarrow as pa
from psycopg import sql
from psycopg.abc import Buffer
from psycopg.adapt import Dumper, Loader
from psycopg.pq import Format
from psycopg.types import TypeInfo

from docvec.publishing.rows import KEY_COLUMN, SERVING_COLUMNS
from docvec.searching import SearchFilters

CHECKSUM_COLUMN = "row_checksum"
FTS_COLUMN = "fts"
TEXT_SEARCH_CONFIG = "english"
STAGE_TABLE = "docvec_publish_stage"
INTEGER_COLUMNS = frozenset({"chunk_index", "start_char", "end_char", "n_tokens"})
RESULT_COLUMNS = ("chunk_id", "source_path", "title", "section", "start_char", "end_char", "chunk_text", "document_id")
# Planner settings, local to a ranking's transaction: the indexed path may only scan the HNSW
# index (never a sequential or GIN bitmap scan plus a sort), the exact path never scans it.
INDEXED_SETTINGS = {"enable_seqscan": "off", "enable_bitmapscan": "off"}
EXACT_SETTINGS = {"enable_indexscan": "off"}
# (index name suffix, access method, indexed expression) of the search indexes on the table.
INDEXES = (
    ("_embedding_hnsw", "hnsw", "embedding vector_cosine_ops"),
    ("_access_groups_gin", "gin", "access_groups"),
    ("_fts_gin", "gin", FTS_COLUMN),
)


# --------------------------------------------------------------------------------------------
# Vectors: pgvector's binary form (uint16 dim, uint16 0, float4 big-endian) <-> float32 arrays
# --------------------------------------------------------------------------------------------


class VectorDumper(Dumper):
    """A float vector as pgvector's binary form; `register_vector_adapters` sets its oid."""

    format = Format.BINARY

    def dump(self, obj: Any) -> Buffer:
        values = np.asarray(obj, dtype=">f4")
        return struct.pack(">HH", values.size, 0) + values.tobytes()


class VectorLoader(Loader):
    """pgvector's binary form as a float32 array (copied: the result's buffer is not ours)."""

    format = Format.BINARY

    def load(self, data: Buffer) -> np.ndarray:
        (dimension,) = struct.unpack_from(">H", data)
        return np.frombuffer(data, dtype=">f4", count=dimension, offset=4).astype("<f4")


def register_vector_adapters(conn: psycopg.Connection) -> int | None:
    """Register the binary vector dumper (by oid, for COPY) and loader on `conn`; the oid of
    type `vector`, or None when the extension is not installed."""
    info = TypeInfo.fetch(conn, "vector")
    if info is None:
        return None
    conn.adapters.register_dumper(None, type("OidVectorDumper", (VectorDumper,), {"oid": info.oid}))
    conn.adapters.register_loader(info.oid, VectorLoader)
    return info.oid


def candidate_vectors(column: pa.ChunkedArray) -> np.ndarray | list[np.ndarray]:
    """The rows of an embedding column as float32 (one 2-D array for a fixed-size list)."""
    combined = column.combine_chunks()
    if pa.types.is_fixed_size_list(combined.type) and combined.null_count == 0:
        flat = combined.flatten().to_numpy(zero_copy_only=False).astype("<f4", copy=False)
        return flat.reshape(-1, combined.type.list_size)
    return [np.asarray(v if v is not None else [], dtype="<f4") for v in combined.to_pylist()]


def candidate_dimension(candidate: pa.Table) -> int | None:
    """The candidate's vector width: its fixed-size list type, else its first row; None when unknown."""
    kind = candidate.schema.field("embedding").type
    if pa.types.is_fixed_size_list(kind):
        return int(kind.list_size)
    first = candidate.column("embedding").to_pylist()[:1]
    return len(first[0]) if first and first[0] is not None else None


def stage_rows(rows: pa.Table, checksums: list[str]) -> list[tuple[Any, ...]]:
    """The rows of `rows` in stage-table column order (SERVING_COLUMNS, then the checksum)."""
    values: list[Any] = []
    for column in SERVING_COLUMNS:
        if column == "embedding":
            values.append(candidate_vectors(rows.column(column)))
        elif column == "metadata":
            values.append([_json_text(v) for v in rows.column(column).to_pylist()])
        else:
            values.append(rows.column(column).to_pylist())
    return list(zip(*values, checksums))


def _json_text(value: Any) -> str | None:
    return value if value is None or isinstance(value, str) else json.dumps(value, ensure_ascii=False)


# --------------------------------------------------------------------------------------------
# Tables and indexes
# --------------------------------------------------------------------------------------------


def column_type(column: str, dimension: int, *, stage: bool = False) -> sql.Composable:
    """The Postgres type of a serving column (the stage table takes metadata as JSON text)."""
    if column == "embedding":
        return sql.SQL("vector") if stage else sql.SQL("vector({})").format(sql.Literal(int(dimension)))
    if column == "metadata":
        return sql.SQL("text" if stage else "jsonb")
    if column == "access_groups":
        return sql.SQL("text[]")
    return sql.SQL("integer" if column in INTEGER_COLUMNS else "text")


def copy_types(vector_oid: int) -> list[int | str]:
    """The types of the stage table's columns in the binary COPY."""
    kinds: dict[str, int | str] = {"embedding": vector_oid, "access_groups": "text[]"}
    return [kinds.get(c, "int4" if c in INTEGER_COLUMNS else "text") for c in SERVING_COLUMNS] + ["text"]


def create_table_sql(table: sql.Identifier, dimension: int) -> sql.Composed:
    columns = [sql.SQL("{} {}").format(sql.Identifier(c), column_type(c, dimension)) for c in SERVING_COLUMNS]
    return sql.SQL(
        "create table if not exists {table} ({columns}, {checksum} text, "
        "{fts} tsvector generated always as (to_tsvector({config}, coalesce(fts_text, ''))) stored, "
        "primary key ({key}))"
    ).format(
        table=table,
        columns=sql.SQL(", ").join(columns),
        checksum=sql.Identifier(CHECKSUM_COLUMN),
        fts=sql.Identifier(FTS_COLUMN),
        config=sql.Literal(TEXT_SEARCH_CONFIG),
        key=sql.Identifier(KEY_COLUMN),
    )


def create_publication_sql(table: sql.Identifier) -> sql.Composed:
    return sql.SQL(
        "create table if not exists {} (singleton boolean primary key default true check (singleton), "
        "publish_id text not null, version bigint not null, published_at text not null, row_count bigint not null)"
    ).format(table)


def write_stamp_sql(table: sql.Identifier) -> sql.Composed:
    """Upsert of the one publication row; parameters publish_id, version, published_at, row_count."""
    return sql.SQL(
        "insert into {} (singleton, publish_id, version, published_at, row_count) values (true, %s, %s, %s, %s) "
        "on conflict (singleton) do update set publish_id = excluded.publish_id, version = excluded.version, "
        "published_at = excluded.published_at, row_count = excluded.row_count"
    ).format(table)


def create_index_sqls(schema: str, table: str) -> list[sql.Composed]:
    return [
        sql.SQL("create index if not exists {} on {} using {} ({})").format(
            sql.Identifier(table + suffix), sql.Identifier(schema, table), sql.SQL(method), sql.SQL(expression)
        )
        for suffix, method, expression in INDEXES
    ]


def create_stage_sql(dimension: int) -> sql.Composed:
    columns = [
        sql.SQL("{} {}").format(sql.Identifier(c), column_type(c, dimension, stage=True)) for c in SERVING_COLUMNS
    ]
    return sql.SQL("create temporary table {} ({}, {} text) on commit drop").format(
        sql.Identifier(STAGE_TABLE), sql.SQL(", ").join(columns), sql.Identifier(CHECKSUM_COLUMN)
    )


def copy_stage_sql() -> sql.Composed:
    columns = sql.SQL(", ").join(map(sql.Identifier, [*SERVING_COLUMNS, CHECKSUM_COLUMN]))
    return sql.SQL("copy {} ({}) from stdin (format binary)").format(sql.Identifier(STAGE_TABLE), columns)


def upsert_from_stage_sql(table: sql.Identifier) -> sql.Composed:
    columns = [*SERVING_COLUMNS, CHECKSUM_COLUMN]
    selected = [sql.SQL("metadata::jsonb") if c == "metadata" else sql.Identifier(c) for c in columns]
    updates = [sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c)) for c in columns if c != KEY_COLUMN]
    return sql.SQL("insert into {} ({}) select {} from {} on conflict ({}) do update set {}").format(
        table,
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(selected),
        sql.Identifier(STAGE_TABLE),
        sql.Identifier(KEY_COLUMN),
        sql.SQL(", ").join(updates),
    )


# --------------------------------------------------------------------------------------------
# Rankings (result columns, then the score; best first, ties by chunk_id)
# --------------------------------------------------------------------------------------------


def filter_sql(filters: SearchFilters) -> tuple[sql.Composed, list[Any]]:
    """The WHERE clause of a ranking and its parameters: the filters of searching.SearchFilters
    (groups overlap, path prefix, file type, metadata key = value)."""
    if not filters.groups:
        raise ValueError("access groups are required: a caller with no group may read nothing")
    clauses = [sql.SQL("access_groups && %s::text[]")]
    params: list[Any] = [list(filters.groups)]
    if filters.path_prefix:
        clauses.append(sql.SQL("starts_with(source_path, %s)"))
        params.append(filters.path_prefix)
    if filters.file_type:
        clauses.append(sql.SQL("file_type = %s"))
        params.append(filters.file_type)
    for key, value in filters.metadata:
        clauses.append(sql.SQL("metadata ->> %s = %s"))
        params.extend([key, value])
    return sql.SQL(" and ").join(clauses), params


def _result_columns() -> sql.Composed:
    return sql.SQL(", ").join(map(sql.Identifier, RESULT_COLUMNS))


def exact_vector_sql(table: sql.Identifier, where: sql.Composed) -> sql.Composed:
    """Parameters: the query vector (pgvector text), the filters', the limit."""
    return sql.SQL(
        "select {columns}, 1 - (embedding <=> %s::vector) as score from {table} where {where} "
        "order by score desc, chunk_id limit %s"
    ).format(columns=_result_columns(), table=table, where=where)


def indexed_vector_sql(table: sql.Identifier, where: sql.Composed) -> sql.Composed:
    """The HNSW path: the nearest permitted candidates the index scan yields, ranked. Parameters:
    the query vector, the filters', the query vector again, the candidates, the limit."""
    return sql.SQL(
        "with candidates as materialized (select {columns}, embedding <=> %s::vector as distance from {table} "
        "where {where} order by embedding <=> %s::vector limit %s) "
        "select {columns}, 1 - distance as score from candidates order by score desc, chunk_id limit %s"
    ).format(columns=_result_columns(), table=table, where=where)


def keyword_sql(table: sql.Identifier, where: sql.Composed) -> sql.Composed:
    """Full-text ranking (ts_rank_cd) of the rows matching any query term (plainto_tsquery's ANDs
    made ORs, as BM25 ranks any match). Parameters: the query text, the filters', the limit."""
    return sql.SQL(
        "with query as (select replace(plainto_tsquery({config}, %s)::text, ' & ', ' | ')::tsquery as q) "
        "select {columns}, ts_rank_cd({fts}, query.q) as score from {table}, query "
        "where {fts} @@ query.q and {where} order by score desc, chunk_id limit %s"
    ).format(
        config=sql.Literal(TEXT_SEARCH_CONFIG),
        columns=_result_columns(),
        fts=sql.Identifier(FTS_COLUMN),
        table=table,
        where=where,
    )
