"""A warehouse file that a failed configuration check leaves behind is removed, if the build made it.

dbt-duckdb opens (and so creates) the DuckDB file before the on-run-start hook can check anything:
dbt creates the schemas and reads the catalog first. The plugin notes, just before the first
connection, whether the file existed; when the configuration check fails, the hook calls
`discard`, which deletes the file and its write-ahead log only if this process created it and it
holds no table or view. DuckDB keeps the open file handles, so the rest of dbt's run and the
final close write nowhere visible (POSIX semantics of an unlinked file).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

IN_MEMORY = ":memory:"
REMOTE_PREFIXES = ("md:", "motherduck:")
WAL_SUFFIX = ".wal"


@dataclass
class NewWarehouse:
    """Whether this process created the warehouse file at `path` (set by the first `note`)."""

    path: str | None = None
    created: bool = False

    def note(self, path: str) -> None:
        """Before a connection opens `path`: remember, the first time, whether the file is new."""
        if self.path is not None:
            return
        self.path = path
        local = bool(path) and path != IN_MEMORY and not path.startswith(REMOTE_PREFIXES)
        self.created = local and not os.path.exists(path)

    def discard(self, n_relations: int | None) -> bool:
        """Delete the file and its WAL when this process created it and it holds no relation.

        `n_relations`: the tables and views in the warehouse, counted by the caller. Returns
        whether the file was deleted.
        """
        if not self.created or self.path is None or n_relations != 0:
            return False
        for path in (self.path, self.path + WAL_SUFFIX):
            try:
                os.unlink(path)
            except FileNotFoundError:
                continue
            except OSError:  # e.g. a file that is open cannot be deleted on Windows
                return False
        self.created = False
        return True
