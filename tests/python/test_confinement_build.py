"""Confinement in a real `dbt build`: nothing outside the landing folder, no secret and no hidden file
is read, and every one of them is still accounted for in quarantined_documents.

The landing folder holds one ordinary document next to what a careless or hostile user might leave
there: links to the system's password and host name files, a link to a folder outside the landing
zone, a `.env.txt`, a `.git/` folder and a hidden note. None of their contents may reach any
table of the warehouse, and the keyword search of the public finds none of them. The build runs
with `access_mode: open` (a document no rule covers is public), the setting under which the
issue's tester saw /etc/passwd become a public document: confinement alone must keep it out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from python_udfs.plugin import register_udfs

from conftest import DbtProject

pytestmark = pytest.mark.integration

DOCVEC = str(Path(sys.executable).with_name("docvec"))
PASSWD_MARKER = "root:x:0:0"
# Unique words of the files that must never be read (none of them occurs in the ordinary document).
MARKERS = {
    "outside": "ZEPHYRQUILL outside the landing zone",
    ".env.txt": "API_TOKEN=GLIMMERWOLF",
    ".git/NOTES.md": "SNARKLEBERRY commit notes",
    ".notes.md": "WOBBLEFINCH hidden note",
}
# Where each entry ends: quarantined_documents.source_path -> reason.
EXPECTED_QUARANTINE = {
    "passwd.md": "outside_source",
    "hostname.md": "outside_source",
    "outside": "outside_source",
    ".env.txt": "excluded_secret",
    ".git": "excluded_secret",
    ".notes.md": "excluded_hidden",
}


@dataclass
class ConfinedBuild:
    project: DbtProject
    forbidden: list[str]


def hostname_marker() -> list[str]:
    """The host name file's text, when it is long enough not to be found by chance."""
    try:
        name = Path("/etc/hostname").read_text(encoding="utf-8").strip()
    except OSError:
        return []
    return [name] if len(name) >= 8 else []


def write_landing(root: Path, outside: Path) -> None:
    (outside / "leak.md").parent.mkdir(parents=True, exist_ok=True)
    (outside / "leak.md").write_text(f"# Outside\n\n{MARKERS['outside']}.\n")
    root.mkdir()
    (root / "guide.md").write_text("# Pond guide\n\nThe heron counts the carp in the pond at dawn.\n")
    os.symlink("/etc/passwd", root / "passwd.md")
    os.symlink("/etc/hostname", root / "hostname.md")
    os.symlink(outside, root / "outside")
    (root / ".env.txt").write_text(f"{MARKERS['.env.txt']}\n")
    (root / ".git").mkdir()
    (root / ".git" / "NOTES.md").write_text(f"# Notes\n\n{MARKERS['.git/NOTES.md']}.\n")
    (root / ".notes.md").write_text(f"# Note\n\n{MARKERS['.notes.md']}.\n")


@pytest.fixture(scope="module")
def confined(make_project: Callable[..., DbtProject], tmp_path_factory: pytest.TempPathFactory) -> ConfinedBuild:
    base = tmp_path_factory.mktemp("confinement")
    write_landing(base / "landing", base / "elsewhere")
    project = make_project("confined", source=base / "landing", copy=False)
    project.dbt("build", "--vars", "{access_mode: open}")
    return ConfinedBuild(project, [PASSWD_MARKER, *MARKERS.values(), *hostname_marker()])


def test_no_table_holds_a_forbidden_text(confined: ConfinedBuild) -> None:
    """Every value of every table and view of the warehouse (text, JSON, bytes) is free of them.

    Views are queried too (staging and the intermediate views list and parse the landing folder
    again), so the docvec UDFs are registered on the connection as dbt's plugin does.
    """
    leaks: list[tuple[str, str]] = []
    with confined.project.connect() as conn:
        register_udfs(conn)
        rows = conn.execute("select table_schema, table_name from information_schema.tables order by all").fetchall()
        names = [f'"{schema}"."{name}"' for schema, name in rows]
        assert {'"main"."search_index"', '"main"."chunks"', '"main"."documents"'} <= set(names), names
        for name in names:
            for row in conn.execute(f"select * from {name}").fetchall():
                for value in row:
                    if isinstance(value, bytes):
                        text = value.decode("utf-8", "replace")
                    elif isinstance(value, str | dict | list):
                        text = value if isinstance(value, str) else json.dumps(value, default=str)
                    else:
                        continue
                    leaks += [(name, marker) for marker in confined.forbidden if marker in text]
    assert not leaks, sorted(set(leaks))


def test_the_ordinary_document_is_served(confined: ConfinedBuild) -> None:
    with confined.project.connect() as conn:
        register_udfs(conn)  # staging is a view over the docvec_list_files UDF
        rows = conn.execute("select source_path, real_source_path, skip_reason from stg_landing__documents").fetchall()
    assert ("guide.md", "guide.md", None) in rows
    assert {path for path, _, reason in rows if reason} == set(EXPECTED_QUARANTINE)
    served = confined.project.query("select distinct source_path from search_index")
    assert served == [("guide.md",)]


def test_every_confined_entry_is_quarantined_with_its_reason(confined: ConfinedBuild) -> None:
    rows = confined.project.query("select source_path, reason, detail, content_sha256 from quarantined_documents")
    got = {path: reason for path, reason, _, _ in rows}
    assert got == EXPECTED_QUARANTINE
    for path, reason, detail, sha in rows:
        assert sha is None, f"{path} was read"
        assert repr(path) in detail, detail
        if reason == "outside_source":
            assert "outside the landing folder" in detail, detail


def public_keyword_search(project: DbtProject, query: str) -> list[dict]:
    """`docvec search QUERY --mode keyword --groups public` on the build: its JSON results."""
    result = subprocess.run(
        [DOCVEC, "search", query, "--mode", "keyword", "--groups", "public", "--format", "json"]
        + ["--db", str(project.db_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env=project.env(),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results: list[dict] = json.loads(result.stdout)
    return results


def test_keyword_search_of_the_public_finds_no_password_file(confined: ConfinedBuild) -> None:
    control = public_keyword_search(confined.project, "heron carp pond")
    assert [r["source_path"] for r in control] == ["guide.md"], "the public search works on this build"
    for query in (PASSWD_MARKER, "GLIMMERWOLF", "ZEPHYRQUILL", "SNARKLEBERRY", "WOBBLEFINCH"):
        assert public_keyword_search(confined.project, query) == [], query


def test_every_file_is_accounted_for(confined: ConfinedBuild) -> None:
    """The build's own reconciliation test ran and passed, and pipeline_runs counts the skipped entries."""
    results = json.loads((confined.project.workdir / "target" / "run_results.json").read_text(encoding="utf-8"))
    statuses = {r["unique_id"].split(".")[-1]: r["status"] for r in results["results"]}
    assert statuses.get("assert_every_file_is_accounted_for") == "pass", statuses
    ((files_seen, quarantined),) = confined.project.query(
        "select files_seen, quarantined from pipeline_runs order by started_at desc limit 1"
    )
    assert (files_seen, quarantined) == (1 + len(EXPECTED_QUARANTINE), len(EXPECTED_QUARANTINE))
