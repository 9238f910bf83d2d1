"""Why a DuckDB warehouse file cannot be opened, in one line that says what to do.

Shared by the dbt-duckdb plugin (a `dbt build` that cannot open its warehouse) and the
application (`docvec search`), so that both explain a lock held by another process, a damaged
file or a folder given as the database the same way, naming the other process when DuckDB does.
"""

from __future__ import annotations

import os
import re
from typing import Any

import duckdb

# DuckDB's words for a lock another process holds ("Could not set lock on file ...: Conflicting
# lock is held in <program> (PID <n>)"). Never the bare word "lock": "in block at ..." is damage.
LOCK_MARKERS = ("could not set lock on file", "conflicting lock is held")
_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")
# DuckDB's words for a file that is damaged or not a database at all.
CORRUPTION_MARKERS = (
    "corrupt database file",
    "not a valid duckdb database file",
    "could not read enough bytes",
    "checksum",
)
WAL_REPLAY_MARKER = "failure while replaying wal"
# A database path that is no local file (in-memory, MotherDuck "md:", a URL): nothing to check.
_NOT_A_FILE = re.compile(r"^(:memory:|[A-Za-z][A-Za-z0-9+.-]+:)")


class WarehouseUnavailable(RuntimeError):
    """The warehouse file cannot be opened; the message is one line that says what to do."""


def is_lock_conflict(error: BaseException) -> bool:
    """True when `error` is DuckDB refusing a file whose lock another process holds."""
    text = str(error).lower()
    return any(marker in text for marker in LOCK_MARKERS)


def lock_holder(error: BaseException) -> str:
    """The other process as DuckDB names it ("PID 123, /usr/bin/python3"), else "another process"."""
    found = _HOLDER.search(str(error))
    if found is None:
        return "another process"
    return f"PID {found['pid']}, {found['program']}"


def first_line(error: BaseException) -> str:
    """DuckDB's message on one line (its errors span several: the SQL, a caret), at most 300 characters."""
    text = " ".join(str(error).split())
    return text if len(text) <= 300 else text[:297] + "..."


def path_problem(path: str) -> str | None:
    """What is wrong with `path` before DuckDB sees it (a folder, an empty file), or None."""
    if os.path.isdir(path):
        return f"{path!r} is a folder, not a DuckDB warehouse file: give the .duckdb file itself"
    if os.path.isfile(path) and os.path.getsize(path) == 0:
        return f"{path!r} is an empty file (0 bytes), not a docvec warehouse: delete it or give another file"
    return None


def explain_known_error(path: str, error: BaseException, *, retry: str) -> str | None:
    """One line for a DuckDB error on the warehouse at `path` that has a known cause (a lock
    another process holds, a write-ahead log to recover, damage), else None; `retry` is what to
    run again once it is fixed."""
    text = str(error).lower()
    if is_lock_conflict(error):
        return (
            f"the warehouse {path!r} is locked by another process ({lock_holder(error)}): a running `dbt build` "
            f"or an application holding it open; wait for it to finish or stop it, then {retry}"
        )
    if WAL_REPLAY_MARKER in text:
        return (
            f"the warehouse {path!r} has changes in its write-ahead log ({path}.wal) that a read-only open cannot "
            f"recover (a build was stopped before it closed the file): run `dbt build` once to recover it, then {retry}"
        )
    if any(marker in text for marker in CORRUPTION_MARKERS):
        return (
            f"the warehouse {path!r} is damaged (truncated or corrupted: {first_line(error)}): restore it from a "
            "copy, or move it aside and run `dbt build` to build a new one"
        )
    return None


def explain_open_error(path: str, error: BaseException, *, retry: str) -> str:
    """One line for a failure to open the warehouse at `path`; `retry` is what to run again."""
    problem = path_problem(path)
    if problem is not None:
        return problem
    known = explain_known_error(path, error, retry=retry)
    return known if known is not None else f"cannot open the warehouse {path!r}: {first_line(error)}"


def check_openable(path: str, config: dict[str, Any] | None = None) -> None:
    """Open `path` read-write once, as `dbt build` will, and close it; raise WarehouseUnavailable
    with `explain_open_error`'s line when DuckDB refuses (another process holds its lock, the
    file is damaged or a folder). A file that does not exist yet is left for DuckDB to create."""
    if _NOT_A_FILE.match(path) or not os.path.exists(path):
        return
    problem = path_problem(path)
    if problem is not None:
        raise WarehouseUnavailable(problem)
    try:
        duckdb.connect(path, read_only=False, config=dict(config or {})).close()
    except duckdb.Error as error:
        raise WarehouseUnavailable(explain_open_error(path, error, retry="run `dbt build` again")) from error
