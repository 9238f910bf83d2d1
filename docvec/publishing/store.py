"""The embedded serving store: read-only DuckDB publications, swapped in atomically.

Layout, for the serving path `S` (env DOCVEC_SERVING_PATH, else beside the warehouse:
`docvec.duckdb` -> `docvec.serving.duckdb`):

    S                         a symbolic link to the current publication (what readers open)
    S.versions/v000007.duckdb one file per publication: search_index with its BM25 and HNSW
                              indexes, and a one-row table docvec_publication (version, digest, ...)
    S.versions/.incoming-*    a publication being written (never read; removed when stale)
    S.versions/publish_runs.jsonl   one JSON line per publish, hold-back, rollback and target
    S.versions/.lock          held (flock) by whoever publishes or rolls back

A publication file is written whole beside the live one, indexed, checkpointed (no write-ahead
log is left for a reader to replay), fsynced, renamed to its final name, and only then does the
link move, by one rename(2): a reader that opens S sees the old or the new publication, never a
mix, and one that already has a file open keeps reading it (an unlinked file stays readable). A
publication file is never opened for writing again. The last `keep` publications stay for
`docvec publish --rollback`.
"""

from __future__ import annotations

import fcntl
import glob
import json
import os
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import duckdb

from docvec.publishing import failpoints
from docvec.searching import DB_PATH_ENV, DEFAULT_DB_PATH
from python_udfs.ranking import create_fts_index_sql

SERVING_PATH_ENV = "DOCVEC_SERVING_PATH"
SERVING_SUFFIX = ".serving.duckdb"
VERSIONS_SUFFIX = ".versions"
LOG_NAME = "publish_runs.jsonl"
PUBLICATION_TABLE = "docvec_publication"
SERVING_TABLE = "search_index"
DEFAULT_KEEP = 3
_VERSION_FILE = re.compile(r"^v(?P<version>\d{6,})\.duckdb$")
INCOMING_PREFIX = ".incoming-"
LINK_INFIX = ".link-"  # S.link-<pid>-<id>: the new link, before it is renamed over S
# What a publication's content digest covers: every column of every row, in chunk_id order.
DIGEST_SQL = (
    f"select coalesce(md5(string_agg(md5(s::varchar), '' order by s.chunk_id)), md5('')), count(*) "
    f"from {SERVING_TABLE} s"
)


class PublishError(RuntimeError):
    """A publication could not be written, checked or swapped in; the message says which step."""


def serving_path_for(warehouse_path: str | None = None) -> str:
    """The serving store's path: env DOCVEC_SERVING_PATH, else beside the warehouse
    (`x.duckdb` -> `x.serving.duckdb`; the warehouse is env DOCVEC_DB_PATH, else docvec.duckdb).
    macros/serving_path.sql derives the same path in dbt."""
    configured = os.environ.get(SERVING_PATH_ENV)
    if configured:
        return configured
    warehouse = warehouse_path or os.environ.get(DB_PATH_ENV) or DEFAULT_DB_PATH
    base = warehouse[: -len(".duckdb")] if warehouse.endswith(".duckdb") else warehouse
    return base + SERVING_SUFFIX


@dataclass(frozen=True)
class Publication:
    """One publication file and what its docvec_publication row says about it."""

    version: int
    path: str
    publish_id: str
    published_at: str
    digest: str
    row_count: int
    meta: Mapping[str, Any] = field(default_factory=dict)


def connect_publication(path: str) -> duckdb.DuckDBPyConnection:
    """A publication file opened read-only with vss and fts loaded."""
    from python_udfs.plugin import load_extensions

    conn = duckdb.connect(path, read_only=True)
    try:
        load_extensions(conn, ("vss", "fts"))
    except BaseException:
        conn.close()
        raise
    return conn


def content_digest(conn: duckdb.DuckDBPyConnection) -> tuple[str, int]:
    """The digest and row count of `search_index` on `conn` (DIGEST_SQL)."""
    row = conn.execute(DIGEST_SQL).fetchone()
    assert row is not None
    return str(row[0]), int(row[1])


def recompute_digest(path: str) -> tuple[str, int]:
    """The content digest and row count of a publication file, recomputed from its rows."""
    conn = connect_publication(path)
    try:
        return content_digest(conn)
    finally:
        conn.close()


def read_publication(path: str) -> Publication:
    """The docvec_publication row of a publication file (opened read-only)."""
    conn = connect_publication(path)
    try:
        row = conn.execute(
            f"select version, publish_id, published_at, digest, row_count, meta from {PUBLICATION_TABLE}"
        ).fetchone()
    finally:
        conn.close()
    if row is None:
        raise PublishError(f"{path!r} has no {PUBLICATION_TABLE} row: not a docvec publication")
    version, publish_id, published_at, digest, row_count, meta = row
    return Publication(
        int(version), path, str(publish_id), str(published_at), str(digest), int(row_count), json.loads(meta)
    )


class ServingStore:
    """The publications of one serving path (see the module docstring)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.versions_dir = path + VERSIONS_SUFFIX
        self.log_path = os.path.join(self.versions_dir, LOG_NAME)

    # -- reading ------------------------------------------------------------------------------

    def current_path(self) -> str | None:
        """The file the serving link points to, or None when nothing was published yet."""
        if not os.path.lexists(self.path):
            return None
        if not os.path.islink(self.path):
            raise PublishError(f"{self.path!r} is not a docvec serving link (a regular file is in the way)")
        target = os.path.realpath(self.path)
        return target if os.path.isfile(target) else None

    def current(self) -> Publication | None:
        """The current publication, or None."""
        path = self.current_path()
        return read_publication(path) if path else None

    def version_paths(self) -> dict[int, str]:
        """version -> file of every publication kept."""
        found: dict[int, str] = {}
        for path in glob.glob(os.path.join(glob.escape(self.versions_dir), "v*.duckdb")):
            matched = _VERSION_FILE.match(os.path.basename(path))
            if matched:
                found[int(matched["version"])] = path
        return dict(sorted(found.items()))

    def next_version(self) -> int:
        versions = self.version_paths()
        return (max(versions) + 1) if versions else 1

    # -- writing ------------------------------------------------------------------------------

    def ensure(self) -> None:
        os.makedirs(self.versions_dir, exist_ok=True)
        if not os.path.exists(self.log_path):
            with open(self.log_path, "a", encoding="utf-8"):
                pass

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's publish lock (one publisher or rollback at a time; readers never wait)."""
        self.ensure()
        with open(os.path.join(self.versions_dir, ".lock"), "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def new_incoming_path(self) -> str:
        """A fresh path for a publication being written (the dbt hook copies search_index there)."""
        self.ensure()
        self.remove_stale_incoming()
        return os.path.join(self.versions_dir, f"{INCOMING_PREFIX}{os.getpid()}-{uuid.uuid4().hex}.duckdb")

    def copy_candidate(self, warehouse_path: str) -> tuple[str, str, int]:
        """Copy `search_index` of a warehouse file (opened read-only) into a new incoming file, as
        the dbt hook does from inside the build; (incoming path, content digest, rows). For
        benchmarks and crash tests: it does not audit, so hand its result only to `publish`
        for a candidate whose tests passed."""
        incoming = self.new_incoming_path()
        conn = duckdb.connect(incoming)
        try:
            conn.execute(f"attach '{warehouse_path.replace(chr(39), chr(39) * 2)}' as docvec_warehouse (read_only)")
            conn.execute(
                f"create table {SERVING_TABLE} as select * from docvec_warehouse.main.{SERVING_TABLE} order by chunk_id"
            )
            conn.execute("detach docvec_warehouse")
            digest, rows = content_digest(conn)
            conn.execute("checkpoint")
        finally:
            conn.close()
        return incoming, digest, rows

    def remove_stale_incoming(self) -> None:
        """Delete what a killed publisher left half-written: incoming files and new links of
        processes no longer alive."""
        leftovers = [
            (path, os.path.basename(path)[len(INCOMING_PREFIX) :])
            for path in glob.glob(os.path.join(glob.escape(self.versions_dir), INCOMING_PREFIX + "*"))
        ]
        leftovers += [
            (path, path[len(self.path + LINK_INFIX) :]) for path in glob.glob(glob.escape(self.path) + LINK_INFIX + "*")
        ]
        for path, rest in leftovers:
            pid_text = rest.split("-", 1)[0]
            if pid_text.isdigit() and (int(pid_text) == os.getpid() or _alive(int(pid_text))):
                continue
            _remove(path)

    def finalize(
        self,
        incoming: str,
        version: int,
        publish_id: str,
        published_at: str,
        meta: Mapping[str, Any],
        index: IndexSettings,
    ) -> Publication:
        """Index the copied search_index of `incoming`, record docvec_publication, checkpoint,
        fsync and rename it to its version file. Raises PublishError if any step fails (the
        incoming file is then removed; nothing half-written is ever named as a version)."""
        from python_udfs.plugin import load_extensions

        final = os.path.join(self.versions_dir, f"v{version:06d}.duckdb")
        try:
            conn = duckdb.connect(incoming)
            try:
                load_extensions(conn, ("vss", "fts"))
                digest, row_count = content_digest(conn)
                conn.execute(create_fts_index_sql(SERVING_TABLE))
                failpoints.reach("publish.indexed_fts")
                if index.hnsw:
                    conn.execute("set hnsw_enable_experimental_persistence = true")
                    conn.execute(
                        f"create index {SERVING_TABLE}_hnsw on {SERVING_TABLE} using hnsw (embedding) with "
                        f"(metric = 'cosine', m = {int(index.m)}, ef_construction = {int(index.ef_construction)}, "
                        f"ef_search = {int(index.ef_search)})"
                    )
                conn.execute(
                    f"create table {PUBLICATION_TABLE} as select ?::integer as version, ? as publish_id, "
                    "?::timestamptz as published_at, ? as digest, ?::bigint as row_count, ?::json as meta",
                    [version, publish_id, published_at, digest, row_count, json.dumps(dict(meta), sort_keys=True)],
                )
                conn.execute("checkpoint")
            finally:
                conn.close()
            if os.path.exists(incoming + ".wal"):
                raise PublishError(f"the checkpoint of {incoming!r} left a write-ahead log: not published")
            failpoints.reach("publish.checkpointed")
            _fsync_file(incoming)
            os.rename(incoming, final)
            _fsync_dir(self.versions_dir)
        except (duckdb.Error, OSError) as error:
            _remove(incoming)
            _remove(incoming + ".wal")
            raise PublishError(
                f"writing publication v{version} failed: {' '.join(str(error).split())[:300]}"
            ) from error
        except BaseException:
            _remove(incoming)
            _remove(incoming + ".wal")
            raise
        return read_publication(final)

    def activate(self, publication: Publication) -> None:
        """Point the serving link at `publication`, atomically (rename of a new link over the old)."""
        link_dir = os.path.dirname(os.path.abspath(self.path))
        target = os.path.relpath(publication.path, link_dir)
        temporary = f"{self.path}{LINK_INFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        os.symlink(target, temporary)
        failpoints.reach("publish.before_swap")
        os.replace(temporary, self.path)
        _fsync_dir(link_dir)

    def prune(self, keep: int) -> list[int]:
        """Delete all but the newest `keep` publications (never the current one); the versions deleted."""
        current = self.current_path()
        versions = self.version_paths()
        doomed = [v for v in list(versions)[: max(0, len(versions) - max(1, keep))] if versions[v] != current]
        for version in doomed:
            _remove(versions[version])
        return doomed

    def previous(self) -> Publication | None:
        """The newest kept publication older than the current one (what a rollback goes to)."""
        current = self.current()
        older = [path for version, path in self.version_paths().items() if current is None or version < current.version]
        return read_publication(older[-1]) if older else None

    # -- the publish log ----------------------------------------------------------------------

    def append_log(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Append publish_runs records (one JSON line each), fsynced."""
        self.ensure()
        with open(self.log_path, "a", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(dict(record), ensure_ascii=False, sort_keys=True, default=str) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def read_log(self) -> list[dict[str, Any]]:
        """Every publish_runs record, oldest first (a torn last line from a crash is skipped)."""
        if not os.path.exists(self.log_path):
            return []
        records = []
        with open(self.log_path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return records


@dataclass(frozen=True)
class IndexSettings:
    """The indexes a publication gets (vars search_vector_index, hnsw_*)."""

    hnsw: bool = True
    m: int = 16
    ef_construction: int = 128
    ef_search: int = 64


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def _fsync_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
