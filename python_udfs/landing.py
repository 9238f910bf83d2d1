"""Listing and reading the landing folder, so that every file is accounted for and nothing leaks.

DuckDB's `read_blob` glob skips symbolic links without a word and fails the whole query on one
unreadable file. `list_files` lists every entry below the landing folder instead — regular files,
links, dangling links, unreadable files — and turns every problem into an `error` on that entry's
row, which staging quarantines, so that nothing is silently missing and one bad file never stops
a build.

Confinement: the walk never leaves the landing folder. An entry whose real target
(`os.path.realpath`) lies outside it, and outside every extra allowed root, is listed but never
read or walked, with `skip_reason` 'outside_source'. Secret locations (`secret_path_globs`) and,
unless `include_hidden`, hidden files and folders (a path component starting with '.') are listed
the same way, as 'excluded_secret' and 'excluded_hidden'; a skipped folder is one row and is not
walked. A skipped entry's `error` says why it was not read, so staging never reads its bytes and
downstream quarantines it. Links inside the landing folder are followed, each real folder once.
"""

from __future__ import annotations

import fnmatch
import json
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# The docvec_list_files UDF (list_files_udf) takes the landing folder, include_hidden, and
# secret_path_globs and source_allowed_roots as JSON text (a list of strings, a string or null).
LIST_RETURN = (
    "STRUCT(file_path VARCHAR, source_path VARCHAR, real_source_path VARCHAR, size BIGINT, "
    "last_modified TIMESTAMPTZ, is_symlink BOOLEAN, skip_reason VARCHAR, error VARCHAR)[]"
)
READ_RETURN = "STRUCT(content BLOB, error VARCHAR)"

OUTSIDE_SOURCE = "outside_source"
EXCLUDED_SECRET = "excluded_secret"
EXCLUDED_HIDDEN = "excluded_hidden"
# Quarantine reasons the walk itself gives, in precedence order (all come before 'unreadable').
SKIP_REASONS = (OUTSIDE_SOURCE, EXCLUDED_SECRET, EXCLUDED_HIDDEN)

# Names (of a file or of any folder above it) that hold credentials or history, matched
# case-insensitively with fnmatch; skipped even with include_hidden. dbt_project.yml's
# `secret_path_globs` var repeats this list (a test keeps the two equal).
DEFAULT_SECRET_PATH_GLOBS = (
    # version control internals: history keeps every secret ever committed
    ".git",
    ".hg",
    ".svn",
    # credential folders: SSH, GnuPG, cloud and cluster CLIs
    ".ssh",
    ".gnupg",
    ".aws",
    ".azure",
    ".kube",
    ".docker",
    # environment files (.env, .env.local, .env.txt, .envrc)
    ".env*",
    # package-registry, network and database credentials
    ".npmrc",
    ".pypirc",
    ".netrc",
    "_netrc",
    ".pgpass",
    ".git-credentials",
    ".htpasswd",
    # private keys and keystores (also when given a document extension)
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    # Terraform state holds every secret of the infrastructure it describes
    "*.tfstate",
    "*.tfstate.*",
)
# A skipped folder's detail counts the entries below it, up to this many.
COUNT_LIMIT = 10_000


@dataclass(frozen=True)
class Skip:
    """Why an entry is listed but not read: a reason from SKIP_REASONS and a detail."""

    reason: str
    detail: str


@dataclass(frozen=True)
class Confinement:
    """Where the walk may go (`roots`: real paths, the landing folder first) and what it leaves unread."""

    roots: tuple[str, ...]
    include_hidden: bool
    secret_globs: tuple[str, ...]

    def home(self, real: str) -> str | None:
        """The allowed root that holds the real path `real`; None when it is outside all of them."""
        for root in self.roots:
            if real == root or real.startswith(root.rstrip(os.sep) + os.sep):
                return root
        return None

    def secret_glob(self, name: str) -> str | None:
        """The first secret glob that the file or folder name `name` matches, case-insensitively."""
        lowered = name.lower()
        return next((glob for glob in self.secret_globs if fnmatch.fnmatchcase(lowered, glob.lower())), None)

    def skip(self, relative: str, real: str, is_link: bool) -> Skip | None:
        """Why the entry at `relative` (real path `real`) must not be read; None when it may be."""
        home = self.home(real)
        if home is None:
            what = "symbolic link" if is_link else "entry"
            return Skip(
                OUTSIDE_SOURCE,
                f"{what} {relative!r} points to {real!r}, outside the landing folder: not read "
                "(source_allowed_roots can allow that folder)",
            )
        names = relative.split("/")
        if real != home:  # a link is judged by its target's path too
            names += os.path.relpath(real, home).split(os.sep)
        for name in names:
            glob = self.secret_glob(name)
            if glob is not None:
                return Skip(
                    EXCLUDED_SECRET,
                    f"{relative!r} is a secret location ({name!r} matches secret_path_globs {glob!r}): not read",
                )
        if not self.include_hidden:
            for name in names:
                if name.startswith("."):
                    return Skip(
                        EXCLUDED_HIDDEN,
                        f"{relative!r} is hidden ({name!r} starts with '.') and include_hidden is false: not read",
                    )
        return None


def _relative(path: str, start: str) -> str:
    return os.path.relpath(path, start).replace(os.sep, "/")


def _row(root: str, real_root: str, path: str, real: str) -> dict[str, Any]:
    """An entry's row before it is judged: paths, whether it is a link, nothing read yet."""
    return {
        "file_path": path,
        "source_path": _relative(path, root),
        "real_source_path": _relative(real, real_root),
        "size": 0,
        "last_modified": None,
        "is_symlink": os.path.islink(path),
        "skip_reason": None,
        "error": None,
    }


def _count_entries(folder: str) -> str:
    """How many entries (files and links) lie below a folder, links not followed, capped: '3 entries'."""
    count = 0
    for top, dirs, files in os.walk(folder):
        count += len(files) + sum(os.path.islink(os.path.join(top, name)) for name in dirs)
        if count >= COUNT_LIMIT:
            return f"at least {COUNT_LIMIT} entries"
    return "1 entry" if count == 1 else f"{count} entries"


def _skipped(row: dict[str, Any], skip: Skip) -> dict[str, Any]:
    """The row of an entry that is not read: its reason, its detail as `error`, its own mtime."""
    path = row["file_path"]
    detail = skip.detail
    if os.path.isdir(path):  # metadata only: nothing below an outside folder is looked at
        below = "nothing below it is listed" if skip.reason == OUTSIDE_SOURCE else f"{_count_entries(path)} left out"
        detail += f"; it is a folder and is not walked ({below})"
    try:
        row["last_modified"] = datetime.fromtimestamp(os.lstat(path).st_mtime, tz=UTC)
    except OSError:
        pass
    row.update(skip_reason=skip.reason, error=detail)
    return row


def _read_metadata(row: dict[str, Any]) -> dict[str, Any]:
    """Size, mtime and readability of a file that may be read; problems become its `error`."""
    path = row["file_path"]
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


class _Walk:
    """One walk of the landing folder: real folders first, then linked folders, each real folder once."""

    def __init__(self, root: str, confinement: Confinement) -> None:
        self.root = root
        self.real_root = confinement.roots[0]
        self.confinement = confinement
        self.rows: list[dict[str, Any]] = []
        self.walked: set[str] = set()
        self.folders: list[str] = [root]
        self.linked: list[str] = []

    def run(self) -> list[dict[str, Any]]:
        while self.folders or self.linked:
            if self.folders:
                folder = self.folders.pop()
            else:
                self.linked.sort()
                folder = self.linked.pop(0)
            real = os.path.realpath(folder)
            if real in self.walked:  # a link back up the tree, or a folder already walked
                continue
            self.walked.add(real)
            self.list_folder(folder)
        self.rows.sort(key=lambda row: row["source_path"])
        return self.rows

    def list_folder(self, folder: str) -> None:
        try:
            with os.scandir(folder) as entries:
                names = sorted(entry.name for entry in entries)
        except OSError as error:
            row = _row(self.root, self.real_root, folder, os.path.realpath(folder))
            row["error"] = f"folder cannot be listed: {type(error).__name__}: {error.strerror or error}"
            self.rows.append(row)
            return
        for name in names:
            self.visit(os.path.join(folder, name))

    def visit(self, path: str) -> None:
        real = os.path.realpath(path)
        row = _row(self.root, self.real_root, path, real)
        skip = self.confinement.skip(row["source_path"], real, row["is_symlink"])
        if skip is not None:
            self.rows.append(_skipped(row, skip))
        elif os.path.isdir(path):
            (self.linked if row["is_symlink"] else self.folders).append(path)
        else:  # files, links to files, dangling links, devices
            self.rows.append(_read_metadata(row))


def list_files(
    root: str | None,
    include_hidden: bool = False,
    secret_globs: Iterable[str] | None = None,
    allowed_roots: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """Every entry below `root`, sorted by path, confined to `root` and `allowed_roots`.

    `secret_globs` None means DEFAULT_SECRET_PATH_GLOBS. See the module docstring for what is
    listed but not read.
    """
    if not root:
        raise ValueError("the landing folder (source_path) is empty")
    if not os.path.isdir(root):
        raise FileNotFoundError(f"landing folder {root!r} does not exist or is not a folder")
    extra = tuple(os.path.realpath(path) for path in (allowed_roots or ()) if path)
    confinement = Confinement(
        roots=(os.path.realpath(root), *extra),
        include_hidden=bool(include_hidden),
        secret_globs=tuple(DEFAULT_SECRET_PATH_GLOBS if secret_globs is None else secret_globs),
    )
    return _Walk(root, confinement).run()


def _json_strings(text: str | None, var: str) -> tuple[str, ...] | None:
    """A var passed as JSON text: a list of strings, or one string; None for null."""
    value = None if text is None else json.loads(text)
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise ValueError(f"var {var} must be a list of strings, got {text!r}")


def list_files_udf(
    root: str | None, include_hidden: bool | None, secret_globs_json: str | None, allowed_roots_json: str | None
) -> list[dict[str, Any]]:
    """The docvec_list_files UDF: `list_files` with its two list vars given as JSON text."""
    return list_files(
        root,
        include_hidden=bool(include_hidden),
        secret_globs=_json_strings(secret_globs_json, "secret_path_globs"),
        allowed_roots=_json_strings(allowed_roots_json, "source_allowed_roots"),
    )


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
