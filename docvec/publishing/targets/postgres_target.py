"""PostgreSQL + pgvector publish target: the serving rows in one table, synced incrementally.

The table holds every rows.SERVING_COLUMNS column (`embedding vector(dim)`, `access_groups
text[]`, `metadata jsonb`), the row's checksum and a generated `fts` tsvector, with an HNSW
(`vector_cosine_ops`) index on the vector and GIN indexes on the groups and `fts`. A one-row
`<table>_publication` table holds the publication stamp. A sync is one transaction (a client
killed at any point leaves the previous state): the changed and new rows are COPYed (binary,
float32 bit-exact) into a temporary table and upserted, the absent ones deleted, the stamp set.
The SQL is `postgres_sql`.

Options: `dsn_env` (the NAME of the environment variable holding a libpq conninfo or URI;
unset, libpq's own PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE apply), `schema`, `table`,
`recompute_checksums` (a sync diffs against checksums recomputed from the stored data instead
of the `row_checksum` column, so that it also rewrites rows changed behind its back). Errors are
TargetError naming the target, its host or socket and its database; never the DSN or password.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

import psycopg
import pyarrow as pa
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from docvec.publishing.rows import KEY_COLUMN, SERVING_COLUMNS, row_checksum
from docvec.publishing.targets import postgres_sql as q
from docvec.publishing.targets.base import PublicationStamp, PublishTarget, SyncCounts, TargetError
from docvec.searching import MAX_RESULTS, SearchFilters, SearchResult, check_query_vector
from python_udfs.ranking import keyword_parameter, vector_parameter

DEFAULT_DSN_ENV = "DOCVEC_PG_DSN"
DEFAULT_SCHEMA = "public"
DEFAULT_TABLE = "docvec_search_index"
PUBLICATION_SUFFIX = "_publication"
CONNECT_TIMEOUT_S = 10  # unless the DSN or PGCONNECT_TIMEOUT says otherwise
APPLICATION_NAME = "docvec"
OVERSAMPLE = 4  # indexed path: HNSW candidates per result wanted, before the filters
EF_SEARCH_RANGE = (40, 1000)  # pgvector's default and maximum hnsw.ef_search
_T = TypeVar("_T")


class PostgresTarget(PublishTarget):
    """One PostgreSQL database with pgvector holding a copy of the serving index."""

    kind = "postgres"

    def __init__(self, name: str, options: Mapping[str, Any]) -> None:
        super().__init__(name, options)
        self.dsn_env = str(self.options.get("dsn_env") or DEFAULT_DSN_ENV)
        self.schema = str(self.options.get("schema") or DEFAULT_SCHEMA)
        self.table = str(self.options.get("table") or DEFAULT_TABLE)
        self.recompute_checksums = bool(self.options.get("recompute_checksums", False))
        self._conn: psycopg.Connection | None = None
        self._vector_oid: int | None = None

    def qualified(self, suffix: str = "") -> sql.Identifier:
        """The schema-qualified, quoted name of the table (or of `<table><suffix>`)."""
        return sql.Identifier(self.schema, self.table + suffix)

    # ---------------------------------------------------------------------------------------
    # Connecting, and errors without secrets
    # ---------------------------------------------------------------------------------------

    def _dsn(self) -> str:
        return os.environ.get(self.dsn_env, "")

    def _secrets(self) -> list[str]:
        """Every text no message may hold: the DSN and the passwords, raw and URL-encoded, longest first."""
        dsn = self._dsn()
        found = [dsn, os.environ.get("PGPASSWORD", "")]
        try:
            found.append(str(conninfo_to_dict(dsn).get("password") or ""))
        except psycopg.Error:
            pass
        found += [quote(secret, safe="") for secret in found]
        return sorted({secret for secret in found if secret}, key=len, reverse=True)

    def _scrub(self, text: str) -> str:
        for secret in self._secrets():
            text = text.replace(secret, "***")
        return " ".join(text.split())

    def _location(self) -> str:
        """Where the target is, without credentials: its host or socket folder, port and database."""
        try:
            params = conninfo_to_dict(self._dsn())
        except psycopg.Error:
            return f"an invalid connection string in ${self.dsn_env}"
        host = str(params.get("host") or os.environ.get("PGHOST") or "the default socket")
        port = params.get("port") or os.environ.get("PGPORT")
        where = f"socket {host}" if host.startswith("/") else f"host {host}"
        database = params.get("dbname") or os.environ.get("PGDATABASE") or params.get("user") or "(default)"
        return f"{where}{f':{port}' if port else ''}, database {database}"

    def _error(self, action: str, reason: str) -> TargetError:
        return TargetError(f"postgres target {self.name!r} ({self._location()}): {action} failed: {reason}")

    def _guarded(self, action: str, work: Callable[[], _T]) -> _T:
        """`work()`; a psycopg error becomes a scrubbed TargetError raised outside the handler, so
        that the original (which may quote the connection string) is neither cause nor context."""
        try:
            return work()
        except psycopg.Error as error:
            failure = self._error(action, self._scrub(str(error)) or type(error).__name__)
        raise failure

    def _connection(self) -> psycopg.Connection:
        """The open connection (autocommit: every unit of work is an explicit transaction)."""
        if self._conn is not None and not self._conn.closed and not self._conn.broken:
            return self._conn
        dsn = self._dsn()
        extra: dict[str, Any] = {"autocommit": True}
        try:
            params = conninfo_to_dict(dsn)
        except psycopg.Error:
            failure = self._error("connect", f"${self.dsn_env} is not a valid libpq conninfo or URI")
        else:
            if "connect_timeout" not in params and "PGCONNECT_TIMEOUT" not in os.environ:
                extra["connect_timeout"] = CONNECT_TIMEOUT_S
            if "application_name" not in params and "PGAPPNAME" not in os.environ:
                extra["application_name"] = APPLICATION_NAME
            try:
                self._conn = psycopg.connect(dsn, **extra)
                self._vector_oid = None
                return self._conn
            except psycopg.Error as error:
                failure = self._error("connect", self._scrub(str(error)) or type(error).__name__)
        raise failure

    def _vector_adapters(self, conn: psycopg.Connection) -> int | None:
        if self._vector_oid is None:
            self._vector_oid = q.register_vector_adapters(conn)
        return self._vector_oid

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # ---------------------------------------------------------------------------------------
    # Sync
    # ---------------------------------------------------------------------------------------

    def sync(self, candidate: pa.Table, checksums: Mapping[str, str], stamp: PublicationStamp) -> SyncCounts:
        missing = [column for column in SERVING_COLUMNS if column not in candidate.column_names]
        if missing:
            raise ValueError(f"the candidate lacks the serving columns {', '.join(missing)}")
        ids = candidate.column(KEY_COLUMN).to_pylist()
        if len(set(ids)) != len(ids) or None in ids:
            raise ValueError(f"the candidate's {KEY_COLUMN} values are not unique and non-null")
        unchecked = [chunk_id for chunk_id in ids if chunk_id not in checksums]
        if unchecked:
            raise ValueError(f"{len(unchecked)} candidate rows have no checksum (first: {unchecked[0]!r})")
        return self._guarded("sync", lambda: self._sync(candidate, ids, checksums, stamp))

    def _sync(
        self, candidate: pa.Table, ids: list[str], checksums: Mapping[str, str], stamp: PublicationStamp
    ) -> SyncCounts:
        conn = self._connection()
        with conn.transaction():
            previous = self._stored_dimension(conn)
            dimension = q.candidate_dimension(candidate) or previous
            if dimension is None:
                raise ValueError("an empty candidate without a fixed-size embedding type cannot create the table")
            dropped = 0
            if previous not in (None, dimension):  # another model's vectors: start the table over
                dropped = len(self._stored_column(conn))
                conn.execute(sql.SQL("drop table {}").format(self.qualified()))
            conn.execute("create extension if not exists vector")
            conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(self.schema)))
            conn.execute(q.create_table_sql(self.qualified(), dimension))
            conn.execute(q.create_publication_sql(self.qualified(PUBLICATION_SUFFIX)))
            # One sync at a time; readers go on reading the committed rows.
            conn.execute(sql.SQL("lock table {} in share row exclusive mode").format(self.qualified()))
            stored = self._recomputed(conn) if self.recompute_checksums else self._stored_column(conn)
            wanted = set(ids)
            deleted = [chunk_id for chunk_id in stored if chunk_id not in wanted]
            positions = [n for n, chunk_id in enumerate(ids) if stored.get(chunk_id) != checksums[chunk_id]]
            inserted = sum(1 for n in positions if ids[n] not in stored)
            if deleted:
                delete = sql.SQL("delete from {} where chunk_id = any(%s::text[])").format(self.qualified())
                conn.execute(delete, [deleted])
            if positions:
                self._upsert(conn, candidate.take(positions), [checksums[ids[n]] for n in positions], dimension)
            for statement in q.create_index_sqls(self.schema, self.table):  # built after a first load
                conn.execute(statement)
            if deleted or positions:  # fresh statistics, so that the planner picks the HNSW index
                conn.execute(sql.SQL("analyze {}").format(self.qualified()))
            row = [stamp.publish_id, stamp.version, stamp.published_at, len(ids)]
            conn.execute(q.write_stamp_sql(self.qualified(PUBLICATION_SUFFIX)), row)
        return SyncCounts(inserted, len(positions) - inserted, len(deleted) + dropped)

    def _stored_dimension(self, conn: psycopg.Connection) -> int | None:
        row = conn.execute(
            "select atttypmod from pg_attribute where attrelid = to_regclass(%s) and attname = 'embedding'",
            [self.qualified().as_string(conn)],
        ).fetchone()
        return int(row[0]) if row else None

    def _stored_column(self, conn: psycopg.Connection) -> dict[str, str | None]:
        query = sql.SQL("select chunk_id, {} from {}").format(sql.Identifier(q.CHECKSUM_COLUMN), self.qualified())
        return dict(conn.execute(query).fetchall())

    def _upsert(self, conn: psycopg.Connection, rows: pa.Table, checksums: list[str], dimension: int) -> None:
        """COPY `rows` (binary) into a temporary table, then insert or update them by chunk_id."""
        vector_oid = self._vector_adapters(conn)
        if vector_oid is None:
            raise TargetError(f"postgres target {self.name!r}: the vector extension is missing after creating it")
        conn.execute(q.create_stage_sql(dimension))
        with conn.cursor() as cursor, cursor.copy(q.copy_stage_sql()) as copy:
            copy.set_types(q.copy_types(vector_oid))
            for row in q.stage_rows(rows, checksums):
                copy.write_row(row)
        conn.execute(q.upsert_from_stage_sql(self.qualified()))

    # ---------------------------------------------------------------------------------------
    # What the target holds
    # ---------------------------------------------------------------------------------------

    def _exists(self, conn: psycopg.Connection, suffix: str = "") -> bool:
        qualified = self.qualified(suffix).as_string(conn)
        return conn.execute("select to_regclass(%s) is not null", [qualified]).fetchone() == (True,)

    def stored_checksums(self) -> dict[str, str]:
        def work() -> dict[str, str]:
            conn = self._connection()
            with conn.transaction():
                return self._recomputed(conn) if self._exists(conn) else {}

        return self._guarded("reading the stored rows", work)

    def _recomputed(self, conn: psycopg.Connection) -> dict[str, str]:
        """chunk_id -> rows.row_checksum of the stored text hash, model, groups and float32 vector."""
        self._vector_adapters(conn)
        query = sql.SQL("select chunk_id, text_sha256, model_id, access_groups, embedding from {}")
        with conn.cursor(binary=True) as cursor:
            cursor.execute(query.format(self.qualified()))
            return {row[0]: row_checksum(row[1], row[2], row[3], row[4]) for row in cursor}

    def stamp(self) -> PublicationStamp | None:
        def work() -> PublicationStamp | None:
            conn = self._connection()
            with conn.transaction():
                if not self._exists(conn, PUBLICATION_SUFFIX):
                    return None
                query = sql.SQL("select publish_id, version, published_at from {}")
                row = conn.execute(query.format(self.qualified(PUBLICATION_SUFFIX))).fetchone()
            return PublicationStamp(row[0], int(row[1]), row[2]) if row else None

        return self._guarded("reading the publication stamp", work)

    # ---------------------------------------------------------------------------------------
    # Rankings
    # ---------------------------------------------------------------------------------------

    def vector_ranking(
        self, vector: Sequence[float], filters: SearchFilters, limit: int, *, exact: bool = False
    ) -> list[SearchResult]:
        check_query_vector(vector)
        _check_limit(limit)
        where, params = q.filter_sql(filters)
        text = vector_parameter(vector)
        candidates = limit * OVERSAMPLE
        ef_search = min(max(candidates, EF_SEARCH_RANGE[0]), EF_SEARCH_RANGE[1])

        def work() -> list[SearchResult]:
            if not exact:
                # pgvector 0.6 applies the WHERE clause to the ef_search rows its HNSW scan yields:
                # with fewer than `limit` survivors, the permitted rows are ranked exactly instead.
                rows = self._ranked(
                    q.indexed_vector_sql(self.qualified(), where),
                    [text, *params, text, candidates, limit],
                    {**q.INDEXED_SETTINGS, "hnsw.ef_search": str(ef_search)},
                )
                if len(rows) >= limit:
                    return rows
            exact_sql = q.exact_vector_sql(self.qualified(), where)
            return self._ranked(exact_sql, [text, *params, limit], q.EXACT_SETTINGS)

        return self._guarded("vector ranking", work)

    def keyword_ranking(self, query: str, filters: SearchFilters, limit: int) -> list[SearchResult]:
        _check_limit(limit)
        where, params = q.filter_sql(filters)
        text = keyword_parameter(query)
        if not text.strip():
            return []
        keyword_sql = q.keyword_sql(self.qualified(), where)
        return self._guarded("keyword ranking", lambda: self._ranked(keyword_sql, [text, *params, limit], {}))

    def _ranked(self, query: sql.Composed, params: list[Any], settings: Mapping[str, str]) -> list[SearchResult]:
        """Run a ranking query in its own transaction, with `settings` local to it."""
        conn = self._connection()
        with conn.transaction():
            if not self._exists(conn):
                raise TargetError(f"postgres target {self.name!r} ({self._location()}) was never published to")
            for name, value in settings.items():
                conn.execute("select set_config(%s, %s, true)", [name, value])
            rows = conn.execute(query, params).fetchall()
        return [SearchResult(row[0], float(row[8]), *row[1:8]) for row in rows]


def _check_limit(limit: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_RESULTS:
        raise ValueError(f"limit must be an integer from 1 to {MAX_RESULTS:,}, got {limit!r}")
