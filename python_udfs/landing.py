"""Listing and reading the landing folder, so that every file is accounted for.

DuckDB's `read_blob` glob skips symbolic links without a word and fails the whole query on one
unreadable file. These functions list every entry below the landing folder instead — regular
files, links to files (by their own path; their target's bytes are read), dangling links,
unreadable files — and turn every problem into an `error` on that file's row, which staging
quarantines, so that nothing is silently missing and one bad file never stops a build.
"""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from typing import Any

LIST_RETURN = (
    "STRUCT(file_path VARCHAR, source_path VARCHAR, size BIGINT, last_modified TIMESTAMPTZ, "
    "is_symlink BOOLEAN, error VARCHAR)[]"
)
READ_RETURN = "STRUCT(content BLOB, error VARCHAR)"


def _entry(root: str, path: str) -> dict[str, Any]:
    relative = os.path.relpath(path, root).replace(os.sep, "/")
    row: dict[str, Any] = {
        "file_path": path, "source_path": relative, "size": 0,
        "last_modified": None, "is_symlink": os.path.islink(path), "error": None,
    }
    try:
        info = os.stat(path)  # follows a link to its target
    except FileNotFoundError:
        row["error"] = f"dangling symbolic link to {os.readlink(path)!r}" if row["is_symlink"] else "file vanished"
        return row
    except OSError as error:
        row["error"] = f"{type(error).__name__}: {error.strerror or error}"
        return row
    if not stat.S_ISREG(info.st_mode):
        row["error"] = "not a regular file (device, socket or pipe)"
        return row
    row["size"] = info.st_size
    row["last_modified"] = datetime.fromtimestamp(info.st_mtime, tz=UTC)
    if not os.access(path, os.R_OK):
        row["error"] = "PermissionError: the file is not readable by this process"
    return row


def list_files(root: str | None) -> list[dict[str, Any]]:
    """Every file-like entry below `root`, sorted by path; folders reached through links once."""
    if not root:
        raise ValueError("the landing folder (source_path) is empty")
    if not os.path.isdir(root):
        raise FileNotFoundError(f"landing folder {root!r} does not exist or is not a folder")
    rows: list[dict[str, Any]] = []
    seen_dirs: set[str] = set()

    def on_error(error: OSError) -> None:
        path = error.filename or root
        rows.append({
            "file_path": path, "source_path": os.path.relpath(path, root).replace(os.sep, "/"), "size": 0,
            "last_modified": None, "is_symlink": os.path.islink(path),
            "error": f"folder cannot be listed: {type(error).__name__}: {error.strerror or error}",
        })

    for folder, dirs, files in os.walk(root, followlinks=True, onerror=on_error):
        real = os.path.realpath(folder)
        if real in seen_dirs:  # a link back up the tree: do not walk it twice
            dirs[:] = []
            continue
        seen_dirs.add(real)
        dirs.sort()
        for name in sorted(files):  # dangling links are listed here too
            rows.append(_entry(root, os.path.join(folder, name)))
    rows.sort(key=lambda r: r["source_path"])
    return rows


def read_file(path: str | None, max_bytes: int | None) -> dict[str, Any] | None:
    """The bytes of one file, or why they could not be read; nothing read above `max_bytes`."""
    if path is None:
        return None
    try:
        with open(path, "rb") as handle:
            content = handle.read((max_bytes or 0) + 1 if max_bytes else -1)
    except OSError as error:
        return {"content": None, "error": f"{type(error).__name__}: {error.strerror or error}"}
    if max_bytes and len(content) > max_bytes:
        return {"content": None, "error": None}
    return {"content": content, "error": None}
