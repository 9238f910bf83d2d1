"""The publication a running service reads, picked up again when `docvec publish` moves the link.

Every request leases the current publication for its whole life: all its queries (a hybrid
search runs two rankings, a document fetch several reads) go to one publication file through
one DuckDB cursor of its own, so a request never mixes two publications. A request that checks
the serving link and finds it moved makes the service open the new file (one thread opens it,
the others keep being served by the old one meanwhile); the old file's connection is closed
when its last lease ends. Opening a publication costs ~250 ms (loading vss and fts), which is
why the connection is kept across requests and only reopened when the link changes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from docvec.publishing.store import PUBLICATION_TABLE, SERVING_TABLE, connect_publication


class NotReady(RuntimeError):
    """Nothing is published at the serving path (or the publication cannot be opened)."""


@dataclass
class Loaded:
    """One open publication file and what the service needs to know about it."""

    path: str
    version: int
    published_at: datetime
    row_count: int
    strategies: tuple[str, ...]
    models: tuple[str, ...]
    conn: duckdb.DuckDBPyConnection
    leases: int = 0
    retired: bool = False
    opened_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def age_seconds(self, now: datetime | None = None) -> float:
        """Seconds since this publication was published."""
        return max(0.0, ((now or datetime.now(UTC)) - self.published_at).total_seconds())


def open_loaded(path: str, duckdb_threads: int | None = None) -> Loaded:
    """Open the publication file `path` read-only and read its docvec_publication row; with
    `duckdb_threads`, DuckDB's worker threads for it (see ServiceSettings.duckdb_threads)."""
    conn = connect_publication(path)
    try:
        if duckdb_threads:
            conn.execute(f"set threads = {int(duckdb_threads)}")
        row = conn.execute(f"select version, published_at, row_count from {PUBLICATION_TABLE}").fetchone()
        if row is None:
            raise NotReady(f"{path!r} has no {PUBLICATION_TABLE} row: not a docvec publication")
        strategies = tuple(
            r[0] for r in conn.execute(f"select distinct strategy_id from {SERVING_TABLE} order by 1").fetchall()
        )
        models = tuple(
            r[0] for r in conn.execute(f"select distinct model_id from {SERVING_TABLE} order by 1").fetchall()
        )
    except BaseException:
        conn.close()
        raise
    version, published_at, row_count = row
    if published_at.tzinfo is None:
        published_at = published_at.replace(tzinfo=UTC)
    return Loaded(path, int(version), published_at, int(row_count), strategies, models, conn)


class LivePublication:
    """The current publication of the serving link `serving_path`, reopened when the link moves."""

    def __init__(self, serving_path: str, duckdb_threads: int | None = None) -> None:
        self.serving_path = serving_path
        self.duckdb_threads = duckdb_threads
        self._lock = threading.Lock()  # guards _current and the lease counts
        self._opening = threading.Lock()  # one thread opens a new publication at a time
        self._current: Loaded | None = None
        self.reloads = 0

    def _target(self) -> str | None:
        """The file the serving link points to now, or None when nothing is published."""
        if not os.path.lexists(self.serving_path):
            return None
        target = os.path.realpath(self.serving_path)
        return target if os.path.isfile(target) else None

    def refresh(self) -> Loaded | None:
        """Open the publication the link points to if it is not the one loaded; the loaded one."""
        target = self._target()
        current = self._current
        if target is None or (current is not None and current.path == target):
            return current
        if not self._opening.acquire(blocking=current is None):
            return current  # another thread is opening the new file: serve the old one meanwhile
        try:
            current = self._current
            if current is not None and current.path == target:
                return current
            try:
                loaded = open_loaded(target, self.duckdb_threads)
            except (duckdb.Error, OSError, NotReady):
                return current  # a file that cannot be opened (yet): keep serving what is loaded
            with self._lock:
                old, self._current = self._current, loaded
                self.reloads += old is not None
                if old is not None:
                    old.retired = True
                    if old.leases == 0:
                        old.conn.close()
            return loaded
        finally:
            self._opening.release()

    def current(self) -> Loaded | None:
        """The loaded publication after a refresh (None: nothing published or not openable)."""
        return self.refresh()

    @contextmanager
    def lease(self) -> Iterator[tuple[Loaded, duckdb.DuckDBPyConnection]]:
        """The current publication and a cursor of its own, for one request."""
        self.refresh()
        with self._lock:
            loaded = self._current
            if loaded is None:
                raise NotReady(f"nothing is published at {self.serving_path!r} yet")
            loaded.leases += 1
            cursor = loaded.conn.cursor()
        try:
            yield loaded, cursor
        finally:
            cursor.close()
            with self._lock:
                loaded.leases -= 1
                if loaded.retired and loaded.leases == 0:
                    loaded.conn.close()

    def close(self) -> None:
        """Close the loaded publication (at shutdown)."""
        with self._lock:
            if self._current is not None:
                self._current.retired = True
                if self._current.leases == 0:
                    self._current.conn.close()
                self._current = None
