"""Listing the landing folder: every entry is listed, problems become errors, never exceptions,
and the walk never reads outside the landing folder, a secret location or (by default) a hidden path.

Real temporary folders with real symbolic links; the "outside" of a test is a sibling folder of
its landing folder, so that nothing outside the test's own temporary folder is ever touched.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from python_udfs.landing import (
    DEFAULT_SECRET_PATH_GLOBS,
    EXCLUDED_HIDDEN,
    EXCLUDED_SECRET,
    OUTSIDE_SOURCE,
    SKIP_REASONS,
    list_files,
    list_files_udf,
    read_file,
)

from conftest import PROJECT_ROOT

SECRET = "TOP-SECRET-CONTENT"


def by_path(root: Path, **options: Any) -> dict[str, dict[str, Any]]:
    return {row["source_path"]: row for row in list_files(str(root), **options)}


def never_read(row: dict[str, Any]) -> bool:
    """A listed entry that staging will not read: a skip reason and an error, no size."""
    return row["skip_reason"] in SKIP_REASONS and bool(row["error"]) and row["size"] == 0


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    root.mkdir()
    (root / "guide.md").write_text("# Guide\n")
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.md").write_text(SECRET)
    (folder / "sub").mkdir()
    (folder / "sub" / "deep.md").write_text(SECRET)
    return folder


# -- what was there before confinement: links, dangling links, errors ----------------------------


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
    assert all(row["skip_reason"] is None for row in rows.values())
    assert [r["source_path"] for r in list_files(str(tmp_path))] == sorted(rows)


def test_linked_folder_cycles_are_walked_once(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "x.md").write_text("x")
    os.symlink("..", tmp_path / "docs" / "up")
    rows = by_path(tmp_path)
    assert list(rows) == ["docs/x.md"]


def test_a_loop_of_file_links_is_an_error_not_a_hang(landing: Path) -> None:
    os.symlink("b.md", landing / "a.md")
    os.symlink("a.md", landing / "b.md")
    rows = by_path(landing)
    for name in ("a.md", "b.md"):
        assert rows[name]["skip_reason"] is None
        assert "Too many levels of symbolic links" in rows[name]["error"]


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
    assert missing is not None
    assert missing["content"] is None and "FileNotFoundError" in missing["error"]


def test_missing_landing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        list_files(str(tmp_path / "nowhere"))


# -- confinement: links whose real target is outside the landing folder ---------------------------


def test_link_to_a_file_outside_is_listed_not_read(landing: Path, outside: Path) -> None:
    os.symlink(outside / "secret.md", landing / "passwd.md")
    row = by_path(landing)["passwd.md"]
    assert row["skip_reason"] == OUTSIDE_SOURCE and never_read(row)
    assert row["is_symlink"] and "'passwd.md'" in row["error"] and "outside the landing folder" in row["error"]
    assert SECRET not in json.dumps(row, default=str)
    assert row["real_source_path"] == "../outside/secret.md"


def test_relative_link_climbing_out_is_outside(landing: Path, outside: Path) -> None:
    (landing / "docs").mkdir()
    os.symlink("../../outside/secret.md", landing / "docs" / "up.md")
    assert by_path(landing)["docs/up.md"]["skip_reason"] == OUTSIDE_SOURCE


def test_link_to_a_folder_outside_is_one_row_and_not_walked(landing: Path, outside: Path) -> None:
    os.symlink(outside, landing / "outside")
    rows = by_path(landing)
    assert set(rows) == {"guide.md", "outside"}
    assert rows["outside"]["skip_reason"] == OUTSIDE_SOURCE and never_read(rows["outside"])
    assert "nothing below it is listed" in rows["outside"]["error"]


def test_link_inside_a_linked_folder_that_points_outside_is_caught(landing: Path, outside: Path) -> None:
    (landing / "real").mkdir()
    os.symlink(outside / "secret.md", landing / "real" / "escape.md")
    os.symlink("real", landing / "alias")
    rows = by_path(landing)
    assert rows["real/escape.md"]["skip_reason"] == OUTSIDE_SOURCE
    assert not any(path.startswith("alias/") for path in rows), "the real folder is walked under its real path"


def test_dangling_link_outside_is_outside_not_dangling(landing: Path, tmp_path: Path) -> None:
    os.symlink(tmp_path / "gone.md", landing / "gone.md")
    assert by_path(landing)["gone.md"]["skip_reason"] == OUTSIDE_SOURCE


def test_links_inside_are_followed_and_name_their_real_target(landing: Path) -> None:
    (landing / "docs").mkdir()
    (landing / "docs" / "a.md").write_text("# A\n")
    os.symlink("docs/a.md", landing / "link.md")
    os.symlink("docs", landing / "alias")
    rows = by_path(landing)
    assert set(rows) == {"guide.md", "docs/a.md", "link.md"}, "a linked folder inside is walked once, by its real path"
    assert rows["link.md"]["error"] is None and rows["link.md"]["size"] == 4
    assert rows["link.md"]["real_source_path"] == "docs/a.md"
    assert all(rows[path]["real_source_path"] == path for path in ("guide.md", "docs/a.md"))


def test_a_linked_folder_inside_is_walked_when_its_target_is_not_listed_otherwise(landing: Path, outside: Path) -> None:
    os.symlink(outside, landing / "shared")
    rows = by_path(landing, allowed_roots=[str(outside)])
    assert rows["shared/secret.md"]["error"] is None and rows["shared/secret.md"]["skip_reason"] is None
    assert rows["shared/sub/deep.md"]["real_source_path"] == "../outside/sub/deep.md"


def test_allowed_root_admits_only_that_folder(landing: Path, outside: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.md").write_text(SECRET)
    os.symlink(outside / "secret.md", landing / "allowed.md")
    os.symlink(other / "x.md", landing / "still_outside.md")
    rows = by_path(landing, allowed_roots=[str(outside)])
    assert rows["allowed.md"]["skip_reason"] is None and rows["allowed.md"]["error"] is None
    assert rows["still_outside.md"]["skip_reason"] == OUTSIDE_SOURCE
    # A prefix of the name is not a parent folder: /tmp/.../outside does not admit /tmp/.../outside2.
    sibling = tmp_path / "outside2"
    sibling.mkdir()
    (sibling / "y.md").write_text(SECRET)
    os.symlink(sibling / "y.md", landing / "prefix.md")
    assert by_path(landing, allowed_roots=[str(outside)])["prefix.md"]["skip_reason"] == OUTSIDE_SOURCE


def test_landing_folder_given_through_a_link_is_its_real_folder(landing: Path, tmp_path: Path) -> None:
    os.symlink(landing, tmp_path / "via")
    rows = by_path(tmp_path / "via")
    assert rows["guide.md"]["error"] is None and rows["guide.md"]["skip_reason"] is None


# -- hidden paths and secret locations ------------------------------------------------------------


def test_hidden_files_and_folders_are_listed_not_read_by_default(landing: Path) -> None:
    (landing / ".notes.md").write_text(SECRET)
    (landing / ".drafts").mkdir()
    (landing / ".drafts" / "a.md").write_text(SECRET)
    (landing / ".drafts" / "b.md").write_text(SECRET)
    rows = by_path(landing)
    assert set(rows) == {"guide.md", ".notes.md", ".drafts"}, "a hidden folder is one row"
    assert rows[".notes.md"]["skip_reason"] == EXCLUDED_HIDDEN and never_read(rows[".notes.md"])
    assert rows[".drafts"]["skip_reason"] == EXCLUDED_HIDDEN and "2 entries" in rows[".drafts"]["error"]
    assert "include_hidden is false" in rows[".notes.md"]["error"]


def test_include_hidden_reads_hidden_paths(landing: Path) -> None:
    (landing / ".notes.md").write_text("notes")
    (landing / ".drafts").mkdir()
    (landing / ".drafts" / "a.md").write_text("a")
    rows = by_path(landing, include_hidden=True)
    assert rows[".notes.md"]["error"] is None and rows[".drafts/a.md"]["error"] is None


def test_link_to_a_hidden_target_is_hidden(landing: Path) -> None:
    (landing / ".private").mkdir()
    (landing / ".private" / "p.md").write_text(SECRET)
    os.symlink(".private/p.md", landing / "public.md")
    os.symlink(".private", landing / "folder")
    rows = by_path(landing)
    assert rows["public.md"]["skip_reason"] == EXCLUDED_HIDDEN and never_read(rows["public.md"])
    assert rows["folder"]["skip_reason"] == EXCLUDED_HIDDEN


@pytest.mark.parametrize(
    "relative",
    [
        ".env.txt",
        ".env",
        ".git/NOTES.md",
        ".ssh/id_rsa.txt",
        ".aws/credentials.txt",
        "keys/server.pem",
        "keys/SERVER.KEY",
        "keys/id_ed25519.md",
        "deploy/id_rsa",
        "home/.npmrc",
        "home/.netrc",
        "infra/prod.tfstate",
    ],
)
def test_secret_locations_are_never_read_even_with_include_hidden(landing: Path, relative: str) -> None:
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SECRET)
    rows = by_path(landing, include_hidden=True)
    top = next(p for p in rows if relative == p or relative.startswith(p + "/"))
    assert rows[top]["skip_reason"] == EXCLUDED_SECRET and never_read(rows[top]), rows[top]
    assert "secret_path_globs" in rows[top]["error"]
    assert not any(p.startswith(top + "/") for p in rows), "a secret folder is not walked"


def test_ordinary_names_are_not_secret(landing: Path) -> None:
    for name in ("id_card_policy.md", "keyboard.md", "environment.md", "pem_notes.txt", "gitlab.md"):
        (landing / name).write_text("ordinary")
    rows = by_path(landing)
    assert all(row["skip_reason"] is None for row in rows.values()), rows


def test_link_to_a_secret_target_is_secret(landing: Path) -> None:
    (landing / "keys").mkdir()
    (landing / "keys" / "server.pem").write_text(SECRET)
    os.symlink("keys/server.pem", landing / "cert.md")
    assert by_path(landing)["cert.md"]["skip_reason"] == EXCLUDED_SECRET


def test_secret_globs_can_be_replaced(landing: Path) -> None:
    (landing / "keys").mkdir()
    (landing / "keys" / "server.pem").write_text("cert")
    (landing / "internal.md").write_text(SECRET)
    rows = by_path(landing, secret_globs=["internal*"])
    assert rows["keys/server.pem"]["skip_reason"] is None
    assert rows["internal.md"]["skip_reason"] == EXCLUDED_SECRET


def test_outside_beats_secret_and_hidden(landing: Path, outside: Path) -> None:
    os.symlink(outside / "secret.md", landing / ".env.txt")
    assert by_path(landing)[".env.txt"]["skip_reason"] == OUTSIDE_SOURCE


# -- the UDF entry point and the vars --------------------------------------------------------------


def test_udf_takes_the_list_vars_as_json(landing: Path, outside: Path) -> None:
    os.symlink(outside / "secret.md", landing / "allowed.md")
    (landing / ".notes.md").write_text("n")
    rows = {row["source_path"]: row for row in list_files_udf(str(landing), True, "null", json.dumps([str(outside)]))}
    assert rows["allowed.md"]["skip_reason"] is None and rows[".notes.md"]["skip_reason"] is None
    rows = {row["source_path"]: row for row in list_files_udf(str(landing), None, '"*.md"', None)}
    assert {row["skip_reason"] for row in rows.values()} == {EXCLUDED_SECRET, OUTSIDE_SOURCE}
    with pytest.raises(ValueError, match="secret_path_globs must be a list of strings"):
        list_files_udf(str(landing), False, "[1]", "[]")


def test_dbt_vars_default_to_the_documented_values() -> None:
    variables = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]
    assert tuple(variables["secret_path_globs"]) == DEFAULT_SECRET_PATH_GLOBS
    assert variables["include_hidden"] is False
    assert variables["source_allowed_roots"] == []


def test_every_skip_reason_is_an_accepted_quarantine_reason() -> None:
    marts = yaml.safe_load((PROJECT_ROOT / "models" / "marts" / "_marts__models.yml").read_text(encoding="utf-8"))
    model = next(m for m in marts["models"] if m["name"] == "quarantined_documents")
    column = next(c for c in model["columns"] if c["name"] == "reason")
    accepted = next(t["accepted_values"]["arguments"]["values"] for t in column["data_tests"] if "accepted_values" in t)
    assert set(SKIP_REASONS) <= set(accepted)
