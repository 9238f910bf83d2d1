"""The embedding journal: vectors paid for through an API, durable as soon as each response arrives.

One SQLite file per model id under `$DOCVEC_CACHE_DIR/embedding_journal/` (python_udfs.embedding
.backends.cache_root). Each response's vectors are committed in one transaction (WAL,
synchronous=FULL) before the next response is handled, so a build killed at any moment (even by
SIGKILL) loses at most the responses in flight. A build reads the journal first and sends only
the texts it lacks; the vectors then reach the `embeddings` table from the journal.

Rows whose text is no longer waiting for a vector (it reached `embeddings`, or no chunk has it)
are pruned by the next build that saw the whole list of pending texts (`prune_except_marked`).
SQLite rather than DuckDB: the build's DuckDB warehouse is open in the same process, and a small
SQLite transaction per response is cheap and safe with concurrent readers.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .backends import cache_root

JOURNAL_DIR = "embedding_journal"
# Seconds a writer waits for another process's transaction on the same journal.
BUSY_TIMEOUT_SECONDS = 30.0

_SCHEMA = """
create table if not exists vectors (
    text_sha256 text primary key,
    dimension integer not null,
    vector blob not null,
    received_at real not null
);
create temp table if not exists pending (text_sha256 text primary key);
"""


def journal_path(model_id: str, root: Path | None = None) -> Path:
    """The journal file of `model_id`: a readable slug of it plus a hash (ids may hold '/', ':')."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id)[:80]
    digest = hashlib.sha256(model_id.encode()).hexdigest()[:12]
    return (root or cache_root()) / JOURNAL_DIR / f"{slug}-{digest}.sqlite3"


class Journal:
    """The vectors of one model id received but maybe not yet in the warehouse."""

    def __init__(self, path: Path, dimension: int | None):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.dimension = dimension
        # The embeddings model fills the journal in dbt's thread and DuckDB reads the output stream
        # (journal_batches) in one of its own: one connection, used by one thread at a time.
        self._conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False)
        self._conn.execute("pragma journal_mode=wal")
        self._conn.execute("pragma synchronous=full")
        self._conn.executescript(_SCHEMA)

    @classmethod
    def for_model(cls, model_id: str, dimension: int | None) -> Journal:
        return cls(journal_path(model_id), dimension)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, hashes: Sequence[str], vectors: np.ndarray) -> None:
        """Commit the vectors of one response (one transaction)."""
        if len(hashes) != len(vectors):
            raise ValueError(f"{len(hashes)} hashes for {len(vectors)} vectors")
        now = time.time()
        rows = [
            (h, int(v.shape[0]), np.ascontiguousarray(v, dtype="<f4").tobytes(), now) for h, v in zip(hashes, vectors)
        ]
        with self._transaction():
            self._conn.executemany("insert or replace into vectors values (?, ?, ?, ?)", rows)

    def known(self, hashes: Sequence[str]) -> set[str]:
        """Which of `hashes` have a vector here."""
        rows = self._conn.execute(
            "select text_sha256 from vectors where text_sha256 in (select value from json_each(?))",
            [json.dumps(list(hashes))],
        )
        return {r[0] for r in rows}

    def vectors(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """The vectors of those of `hashes` that are here (checked against `dimension`)."""
        rows = self._conn.execute(
            "select text_sha256, dimension, vector from vectors where text_sha256 in (select value from json_each(?))",
            [json.dumps(list(hashes))],
        )
        out = {}
        for text_sha256, dimension, blob in rows:
            if (self.dimension is not None and dimension != self.dimension) or len(blob) != 4 * dimension:
                raise ValueError(
                    f"embedding journal {self.path}: the vector of {text_sha256} has {dimension} dimensions "
                    f"({len(blob)} bytes), expected {self.dimension}; delete the file to start over"
                )
            out[text_sha256] = np.frombuffer(blob, dtype="<f4")
        return out

    def count(self) -> int:
        return int(self._conn.execute("select count(*) from vectors").fetchone()[0])

    def mark_pending(self, hashes: Sequence[str]) -> None:
        """Remember (for this connection) that these texts still wait for a vector."""
        self._conn.executemany("insert or ignore into temp.pending values (?)", [(h,) for h in hashes])

    def prune_except_marked(self) -> int:
        """Delete the vectors of texts not marked pending (they reached the warehouse, or no chunk
        has them any more); call only after marking every pending text. Returns the rows deleted."""
        with self._transaction():
            cursor = self._conn.execute(
                "delete from vectors where text_sha256 not in (select text_sha256 from temp.pending)"
            )
        return int(cursor.rowcount)

    def _transaction(self) -> _Transaction:
        return _Transaction(self._conn)


class _Transaction:
    """`begin immediate` ... `commit` (rollback on error) on an autocommit connection."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("begin immediate")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.conn.execute("rollback" if exc_type is not None else "commit")
