"""The LanceDB publish target: the serving rows in one LanceDB table, synced incrementally.

Storage. Option `uri` is the LanceDB folder (a relative path is used as given), option `table`
the table (default `search_index`). The table holds every column of rows.SERVING_COLUMNS plus
`row_checksum` (rows.row_checksum of the row as published): `embedding` as
fixed_size_list<float32>[dim], `access_groups` as list<string>, `metadata` as JSON text, integers
as int64, text as string. An application reads it with
`lancedb.connect(uri).open_table("search_index")`.

Sync. The diff is taken against the stored `row_checksum` column (only `chunk_id` and
`row_checksum` are read): new chunk ids are inserted, changed checksums updated, ids missing
from the candidate deleted, all by one `merge_insert` on chunk_id (source = the new and changed
rows only; deletions by `when_not_matched_by_source_delete("chunk_id IN (...)")`): one new table
version, committed atomically (a process killed mid-sync leaves the previous version). A sync
that changes nothing writes no version. A first sync, or a candidate whose column types differ
from the table's (a new embedding dimension), writes the whole table as one version. Measured
on 2 cores: 300 rows x 384 dims, first sync 0.09 s, 1% change 0.04 s (3 rows written), no-op
0.01 s; 20,000 x 384, first sync ~10 s (building the HNSW index), 1% change 0.2 s (200 rows).

Stamp. The publication is recorded as a LanceDB tag on the table version the sync ends on:
`docvec-publish-<version>-<payload>`, payload = lowercase base32 (no padding) of the JSON
`[publish_id, published_at]`. A tag is not a table version, so a no-op sync adds none. `stamp()`
reads only a tag on the *current* version: when the data moved on without a stamp (a sync killed
after its commit, a foreign write), it returns None and the next sync records the stamp again.
Older docvec tags are deleted, so that LanceDB's pruning of old versions is never blocked.

Indexes. Full-text: a native inverted index on `fts_text` (English stemming, stop words, lower
case, ASCII folding, no token length limit). Vector: IVF_HNSW_SQ (cosine) once the table has
VECTOR_INDEX_MIN_ROWS rows; smaller tables are searched flat (exact). Rows written after an
index was built are still found by both searches (LanceDB scans unindexed fragments); a sync
that leaves unindexed rows calls `optimize()`, which adds them to the indexes as a delta (0.12 s
for 210 new rows of 20,000, against ~7 s to rebuild the vector index), rewrites a fragment once
10% of its rows are deleted, and prunes versions older than LanceDB's default of 7 days.

Search. Filters are a LanceDB SQL prefilter (applied before the top-k cut); every user value is
a quoted string literal (quotes doubled; LanceDB's SQL takes backslashes literally). LanceDB's
SQL has no function for JSON text, so a metadata filter is evaluated here, like DuckDB's
`json_extract_string(metadata, '$."key"') = value` (a non-string value compares by its compact
JSON text), over the rows the other filters permit; their chunk ids join the prefilter. The ANN
path re-ranks REFINE_FACTOR x limit index candidates by their exact cosine (so scores are exact),
and falls back to an exact scan when it finds fewer than `limit` of more permitted rows. Results
are ordered by score, ties by chunk_id.
"""

from __future__ import annotations

import base64
import json
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, ClassVar

import lancedb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from lancedb.index import FTS, HnswSq

from docvec.publishing.rows import CHECKSUM_COLUMNS, KEY_COLUMN, SERVING_COLUMNS, SERVING_TABLE, table_checksums
from docvec.publishing.targets.base import PublicationStamp, PublishTarget, SyncCounts, TargetError
from docvec.searching import SearchFilters, SearchResult, check_query_vector
from python_udfs.ranking import FTS_TEXT_COLUMN, keyword_parameter

CHECKSUM_COLUMN = "row_checksum"
INTEGER_COLUMNS = ("chunk_index", "start_char", "end_char", "n_tokens")
VECTOR_COLUMN = "embedding"
STORED_CHECKSUM_COLUMNS = (KEY_COLUMN, "text_sha256", "model_id", "access_groups", VECTOR_COLUMN)
RESULT_COLUMNS = ("chunk_id", "source_path", "title", "section", "start_char", "end_char", "chunk_text", "document_id")
STAMP_TAG_PREFIX = "docvec-publish-"
MAX_TAG_LENGTH = 240  # a tag is a file name: <name>.json
VECTOR_INDEX_MIN_ROWS = 256  # below: flat (exact) search, no ANN index
ROWS_PER_PARTITION = 500_000  # IVF partitions of the HNSW index (LanceDB recommends few)
REFINE_FACTOR = 4  # ANN candidates per result, re-ranked by exact cosine (like searching.DEFAULT_OVERSAMPLE)
MIN_EF = 300  # HNSW search breadth (recall@10 0.77 at 40, 0.997 at 320 on 20,000 clustered vectors)
TIE_MARGIN = 8  # extra rows fetched so that ties at the cut are broken by chunk_id
FTS_CONFIG = FTS(
    with_position=False,
    base_tokenizer="simple",
    language="English",
    max_token_length=None,
    lower_case=True,
    stem=True,
    remove_stop_words=True,
    ascii_folding=True,
)
# Opt in to LanceDB's coming default (index statistics without IVF centroids), which also
# silences the warning list_indices() prints otherwise.
os.environ.setdefault("LANCE_INCLUDE_VECTOR_CENTROIDS", "false")
_LANCE_ERRORS = (OSError, RuntimeError, ValueError, pa.ArrowException)


class LanceDBTarget(PublishTarget):
    """A LanceDB table (options `uri`, `table`) holding the serving rows; see the module docstring."""

    kind: ClassVar[str] = "lancedb"

    def __init__(self, name: str, options: Mapping[str, Any]) -> None:
        super().__init__(name, options)
        uri, table = self.options.get("uri"), self.options.get("table", SERVING_TABLE)
        if not isinstance(uri, str) or not uri:
            raise ValueError(f"publish target {name!r} (lancedb) needs option `uri`: the LanceDB folder")
        if not isinstance(table, str) or not table:
            raise ValueError(f"publish target {name!r} (lancedb): option `table` must be a table name")
        self.uri, self.table_name = uri, table
        self._db: Any = None

    # ---------------------------------------------------------------------------------------
    # Publishing
    # ---------------------------------------------------------------------------------------

    def sync(self, candidate: pa.Table, checksums: Mapping[str, str], stamp: PublicationStamp) -> SyncCounts:
        data = serving_rows(candidate, checksums)
        tag = stamp_tag(stamp)
        with self._errors("sync"):
            table = self._open()
            if table is not None and _column_types(table.schema) == _column_types(data.schema):
                counts = _merge(table, data, recompute=self.recompute_checksums)
            else:
                counts = self._replace(table, data)
                table = self._open()
            _maintain_indexes(table)
            _record_stamp(table, tag)
        return counts

    def _replace(self, table: Any, data: pa.Table) -> SyncCounts:
        """Write `data` as the whole table (first sync, or new column types): one version."""
        before = set(_scan(table, (KEY_COLUMN,)).column(KEY_COLUMN).to_pylist()) if table is not None else set()
        after = set(data.column(KEY_COLUMN).to_pylist())
        mode = "create" if table is None else "overwrite"
        self._connect().create_table(self.table_name, data, mode=mode)
        return SyncCounts(inserted=len(after - before), updated=len(after & before), deleted=len(before - after))

    def stored_checksums(self) -> dict[str, str]:
        with self._errors("read checksums"):
            table = self._open()
            if table is None:
                return {}
            return table_checksums(_scan(table, STORED_CHECKSUM_COLUMNS))

    def stamp(self) -> PublicationStamp | None:
        with self._errors("read stamp"):
            table = self._open()
            if table is None:
                return None
            version = table.version
            found = [parse_stamp_tag(name) for name, tag in table.tags.list().items() if tag["version"] == version]
            stamps = [stamp for stamp in found if stamp is not None]
            return max(stamps, key=lambda stamp: stamp.version) if stamps else None

    def close(self) -> None:
        self._db = None

    # ---------------------------------------------------------------------------------------
    # Searching
    # ---------------------------------------------------------------------------------------

    def vector_ranking(
        self, vector: Sequence[float], filters: SearchFilters, limit: int, *, exact: bool = False
    ) -> list[SearchResult]:
        check_query_vector(vector)
        _check_limit(limit)
        query, base_where = np.asarray(vector, dtype=np.float32), filters_sql(filters)
        with self._errors("vector search"):
            table = self._require_table()
            dimension = table.schema.field(VECTOR_COLUMN).type.list_size
        if len(query) != dimension:
            raise ValueError(f"the query vector has {len(query)} dimensions, the target's embeddings {dimension}")
        with self._errors("vector search"):
            where = permitted_where(table, base_where, filters.metadata)
            if where is None:
                return []

            def search(fetch: int, ann: bool) -> pa.Table:
                builder = table.search(query, vector_column_name=VECTOR_COLUMN, query_type="vector")
                builder = builder.distance_type("cosine").where(where, prefilter=True)
                if ann:
                    builder = builder.refine_factor(REFINE_FACTOR).ef(max(MIN_EF, fetch * REFINE_FACTOR))
                else:
                    builder = builder.bypass_vector_index()
                return builder.select([*RESULT_COLUMNS, "_distance"]).limit(fetch).to_arrow()

            # Without an index (a small table) LanceDB searches flat whatever `ann` says.
            results = _ranked(lambda fetch: search(fetch, not exact), limit, _vector_scores)
            if not exact and len(results) < limit and table.count_rows(where) > len(results):
                results = _ranked(lambda fetch: search(fetch, False), limit, _vector_scores)
            return results

    def keyword_ranking(self, query: str, filters: SearchFilters, limit: int) -> list[SearchResult]:
        _check_limit(limit)
        text, base_where = keyword_parameter(query), filters_sql(filters)
        if not text.strip():
            return []
        with self._errors("keyword search"):
            table = self._require_table()
            where = permitted_where(table, base_where, filters.metadata)
            if where is None:
                return []

            def search(fetch: int) -> pa.Table:
                builder = table.search(text, query_type="fts", fts_columns=FTS_TEXT_COLUMN).where(where, prefilter=True)
                return builder.select([*RESULT_COLUMNS, "_score"]).limit(fetch).to_arrow()

            return _ranked(search, limit, lambda found: found.column("_score").to_pylist())

    # ---------------------------------------------------------------------------------------
    # Connection and errors
    # ---------------------------------------------------------------------------------------

    def _connect(self) -> Any:
        if self._db is None:
            # Consistency interval 0: every read sees the latest version, whoever wrote it.
            self._db = lancedb.connect(self.uri, read_consistency_interval=timedelta(0))
        return self._db

    def _open(self) -> Any:
        """The table, or None when it does not exist (or a first sync died before its commit)."""
        try:
            return self._connect().open_table(self.table_name)
        except ValueError as error:
            if "not found" in str(error) or "does not exist" in str(error):
                return None
            raise

    def _require_table(self) -> Any:
        table = self._open()
        if table is None:
            raise TargetError(
                f"lancedb target {self.name!r} ({self.uri!r}) holds no table {self.table_name!r}: publish to it first"
            )
        return table

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Raise LanceDB and IO errors as TargetError naming the target, its uri and the action."""
        try:
            yield
        except TargetError:
            raise
        except _LANCE_ERRORS as error:
            message = str(error).strip().splitlines()[0][:500] if str(error).strip() else type(error).__name__
            raise TargetError(f"lancedb target {self.name!r} ({self.uri!r}): {action} failed: {message}") from error


# -------------------------------------------------------------------------------------------
# Rows and the incremental merge
# -------------------------------------------------------------------------------------------


def serving_rows(candidate: pa.Table, checksums: Mapping[str, str]) -> pa.Table:
    """The candidate as the table stores it: SERVING_COLUMNS with normalised types, then
    CHECKSUM_COLUMN from `checksums` (ValueError for a missing column, id or checksum, or a duplicate id)."""
    missing = [name for name in SERVING_COLUMNS if name not in candidate.column_names]
    if missing:
        raise ValueError(f"the candidate lacks the serving columns {missing}")
    columns = [_stored_column(name, candidate.column(name)) for name in SERVING_COLUMNS]
    ids = candidate.column(KEY_COLUMN).to_pylist()
    if None in ids or len(set(ids)) != len(ids):
        raise ValueError("the candidate's chunk_id must be unique and not null")
    lacking = [chunk_id for chunk_id in ids if chunk_id not in checksums]
    if lacking:
        raise ValueError(f"no checksum for {len(lacking)} candidate rows, e.g. {lacking[0]!r}")
    columns.append(pa.array([checksums[chunk_id] for chunk_id in ids], pa.string()))
    return pa.table(columns, names=[*SERVING_COLUMNS, CHECKSUM_COLUMN])


def _stored_column(name: str, column: pa.ChunkedArray) -> pa.ChunkedArray:
    """One candidate column cast to its stored type: INTEGER_COLUMNS int64, `access_groups`
    list<string>, `embedding` fixed_size_list<float32>[dim], every other column string."""
    if isinstance(column.type, pa.ExtensionType):  # e.g. DuckDB's JSON as arrow.json
        column = pa.chunked_array([chunk.storage for chunk in column.chunks], column.type.storage_type)
    if name == VECTOR_COLUMN:
        return column.cast(pa.list_(pa.float32(), _dimension(column)))
    if name == "access_groups":
        return column.cast(pa.list_(pa.string()))
    return column.cast(pa.int64() if name in INTEGER_COLUMNS else pa.string())


def _dimension(column: pa.ChunkedArray) -> int:
    if pa.types.is_fixed_size_list(column.type):
        return int(column.type.list_size)
    lengths = pc.unique(pc.list_value_length(column)).to_pylist()
    if len(lengths) != 1 or not lengths[0]:
        raise ValueError(f"the candidate's embeddings must all have one dimension, found {sorted(map(str, lengths))}")
    return int(lengths[0])


def _column_types(schema: pa.Schema) -> list[tuple[str, pa.DataType]]:
    return [(field.name, field.type) for field in schema]


def _merge(table: Any, data: pa.Table, *, recompute: bool = False) -> SyncCounts:
    """Insert new ids, update changed checksums, delete missing ids: one merge_insert, one version.
    `recompute`: diff against checksums recomputed from the stored rows (repairs tampering)."""
    stored = (
        table_checksums(_scan(table, (KEY_COLUMN, *CHECKSUM_COLUMNS))) if recompute else _stored_checksum_column(table)
    )
    ids = data.column(KEY_COLUMN).to_pylist()
    wanted = dict(zip(ids, data.column(CHECKSUM_COLUMN).to_pylist()))
    inserted = [chunk_id for chunk_id in ids if chunk_id not in stored]
    updated = [chunk_id for chunk_id in ids if chunk_id in stored and stored[chunk_id] != wanted[chunk_id]]
    deleted = [chunk_id for chunk_id in stored if chunk_id not in wanted]
    if inserted or updated or deleted:
        source = data.filter(pc.is_in(data.column(KEY_COLUMN), pa.array(inserted + updated, pa.string())))
        builder = table.merge_insert(KEY_COLUMN).when_matched_update_all().when_not_matched_insert_all()
        if deleted:
            builder = builder.when_not_matched_by_source_delete(_in_list(KEY_COLUMN, deleted))
        builder.execute(source)
    return SyncCounts(inserted=len(inserted), updated=len(updated), deleted=len(deleted))


def _stored_checksum_column(table: Any) -> dict[str, str]:
    stored = _scan(table, (KEY_COLUMN, CHECKSUM_COLUMN))
    return dict(zip(stored.column(KEY_COLUMN).to_pylist(), stored.column(CHECKSUM_COLUMN).to_pylist()))


def _scan(table: Any, columns: Sequence[str], where: str | None = None) -> pa.Table:
    """`columns` of every row of `table` (that passes `where`)."""
    builder = table.search().select(list(columns))
    if where is not None:
        builder = builder.where(where)
    return builder.limit(None).to_arrow()


def _has_index(table: Any, column: str) -> bool:
    return any(column in index.columns for index in table.list_indices())


def _maintain_indexes(table: Any) -> None:
    """Create the FTS index, and the vector index from VECTOR_INDEX_MIN_ROWS rows; add unindexed rows."""
    rows = table.count_rows()
    if not _has_index(table, FTS_TEXT_COLUMN):
        table.create_index(FTS_TEXT_COLUMN, config=FTS_CONFIG)
    if rows >= VECTOR_INDEX_MIN_ROWS and not _has_index(table, VECTOR_COLUMN):
        partitions = max(1, math.ceil(rows / ROWS_PER_PARTITION))
        table.create_index(VECTOR_COLUMN, config=HnswSq(distance_type="cosine", num_partitions=partitions))
    if any(index.num_unindexed_rows for index in table.list_indices()):
        table.optimize()


# -------------------------------------------------------------------------------------------
# The publication stamp (a tag)
# -------------------------------------------------------------------------------------------


def stamp_tag(stamp: PublicationStamp) -> str:
    """The tag name that records `stamp` (ValueError when its ids make it too long for a tag)."""
    payload = json.dumps([stamp.publish_id, stamp.published_at], ensure_ascii=False).encode("utf-8")
    encoded = base64.b32encode(payload).decode("ascii").rstrip("=").lower()
    name = f"{STAMP_TAG_PREFIX}{int(stamp.version)}-{encoded}"
    if len(name) > MAX_TAG_LENGTH:
        raise ValueError(f"the publish id and time are too long for a LanceDB tag ({len(name)} > {MAX_TAG_LENGTH})")
    return name


def parse_stamp_tag(name: str) -> PublicationStamp | None:
    """The stamp a tag records, or None for any other tag."""
    if not name.startswith(STAMP_TAG_PREFIX):
        return None
    version, _, encoded = name[len(STAMP_TAG_PREFIX) :].partition("-")
    try:
        padded = encoded.upper() + "=" * (-len(encoded) % 8)
        publish_id, published_at = json.loads(base64.b32decode(padded).decode("utf-8"))
        return PublicationStamp(str(publish_id), int(version), str(published_at))
    except (ValueError, TypeError):
        return None


def _record_stamp(table: Any, tag: str) -> None:
    """Point `tag` at the current version and delete the other docvec stamp tags."""
    version = table.version
    tags = table.tags.list()
    if tag not in tags:
        table.tags.create(tag, version)
    elif tags[tag]["version"] != version:
        table.tags.update(tag, version)
    for name in tags:
        if name != tag and name.startswith(STAMP_TAG_PREFIX):
            table.tags.delete(name)


# -------------------------------------------------------------------------------------------
# Filters and rankings
# -------------------------------------------------------------------------------------------


def sql_literal(value: str) -> str:
    """`value` as a LanceDB SQL string literal (single quotes doubled; backslashes are literal)."""
    return "'" + str(value).replace("'", "''") + "'"


def _in_list(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(sql_literal(value) for value in values)})"


def filters_sql(filters: SearchFilters) -> str:
    """The prefilter of `filters` without the metadata keys (LanceDB SQL, every value quoted)."""
    if not filters.groups:
        raise ValueError("access groups are required: a caller with no group may read nothing")
    groups = ", ".join(sql_literal(group) for group in filters.groups)
    clauses = [f"array_has_any(access_groups, [{groups}])"]
    if filters.path_prefix:
        clauses.append(f"starts_with(source_path, {sql_literal(filters.path_prefix)})")
    if filters.file_type:
        clauses.append(f"file_type = {sql_literal(filters.file_type)}")
    return " AND ".join(clauses)


def permitted_where(table: Any, where: str, metadata: Sequence[tuple[str, str]]) -> str | None:
    """The prefilter `where` (filters_sql) with the `metadata` key = value filters on `table`, as
    the chunk ids they permit (None when no row passes)."""
    if not metadata:
        return where
    rows = _scan(table, (KEY_COLUMN, "metadata"), where)
    ids = [
        chunk_id
        for chunk_id, text in zip(rows.column(KEY_COLUMN).to_pylist(), rows.column("metadata").to_pylist())
        if metadata_matches(text, metadata)
    ]
    return f"{where} AND {_in_list(KEY_COLUMN, ids)}" if ids else None


def metadata_matches(text: str | None, pairs: Sequence[tuple[str, str]]) -> bool:
    """Whether the JSON object `text` has every key = value of `pairs`, as DuckDB's
    `json_extract_string(metadata, '$."key"') = value` decides (NULL or invalid JSON: no)."""
    try:
        document = json.loads(text) if text else None
    except ValueError:
        return False
    if not isinstance(document, dict):
        return False
    for key, value in pairs:
        found = document.get(key)
        if found is None:
            return False
        if (found if isinstance(found, str) else json.dumps(found, separators=(",", ":"), ensure_ascii=False)) != value:
            return False
    return True


def _vector_scores(found: pa.Table) -> list[float]:
    return [1.0 - float(distance) for distance in found.column("_distance").to_pylist()]


def _ranked(
    search: Callable[[int], pa.Table], limit: int, scores: Callable[[pa.Table], list[float]]
) -> list[SearchResult]:
    """The best `limit` rows of `search(fetch)` by score then chunk_id, fetching more while the
    rows past the cut tie with the last one kept."""
    fetch = limit + TIE_MARGIN
    while True:
        found = search(fetch)
        results = sorted(_results(found, scores(found)), key=lambda result: (-result.score, result.chunk_id))
        if len(results) < fetch or len(results) <= limit or results[-1].score != results[limit - 1].score:
            return results[:limit]
        fetch *= 2


def _results(found: pa.Table, scores: list[float]) -> list[SearchResult]:
    columns = [found.column(name).to_pylist() for name in RESULT_COLUMNS]
    return [
        SearchResult(chunk_id, score, path, title, section, start, end, text, document)
        for (chunk_id, path, title, section, start, end, text, document), score in zip(zip(*columns), scores)
    ]


def _check_limit(limit: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be an integer >= 1, got {limit!r}")
