"""Listing the landing folder: every entry is listed, problems become errors, never exceptions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from python_udfs.landing import list_files, read_file


def by_path(root: Path) -> dict[str, dict]:
    return {row["source_path"]: row for row in list_files(str(root))}


def test_lists_regular_files_links_and_dangling_links(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.md").write_text("one")
    (tmp_path / "two.txt").write_text("two!")
    os.symlink("a/one.md", tmp_path / "link.md")
    os.symlink("missing.txt", tmp_path / "dangling.txt")
    rows = by_path(tmp_path)
    assert set(rows) == {"a/one.md", "two.txt", "link.md", "dangling.txt"}
    assert rows["two.txt"]["size"] == 4 and rows["two.txt"]["error"] is None
    assert rows["link.md"]["is_symlink"] and rows["link.md"]["error"] is None and rows["link.md"]["size"] == 3
    assert "dangling symbolic link" in rows["dangling.txt"]["error"]
    assert [r["source_path"] for r in list_files(str(tmp_path))] == sorted(rows)


def test_linked_folder_cycles_are_walked_once(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "x.md").write_text("x")
    os.symlink("..", tmp_path / "docs" / "up")
    rows = by_path(tmp_path)
    assert list(rows) == ["docs/x.md"]


def test_unreadable_file_is_an_error_not_an_exception(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "locked.txt").write_text("secret")
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda path, mode: False if str(path).endswith("locked.txt") else real_access(path, mode)
    )
    assert "not readable" in by_path(tmp_path)["locked.txt"]["error"]


def test_read_file_respects_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 10)
    assert read_file(str(path), 10) == {"content": b"x" * 10, "error": None}
    assert read_file(str(path), 9) == {"content": None, "error": None}
    missing = read_file(str(tmp_path / "nope"), 10)
    assert missing["content"] is None and "FileNotFoundError" in missing["error"]


def test_missing_landing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        list_files(str(tmp_path / "nowhere"))
