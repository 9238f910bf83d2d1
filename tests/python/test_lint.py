"""Linters, run by `make test`: ruff (lint and format), mypy, sqlfluff (dbt templater, DuckDB dialect)
and dbt-score.

Their configuration: [tool.ruff], [tool.mypy] and [tool.dbt-score] in pyproject.toml, .sqlfluff and
.sqlfluffignore, dbt_score_rules/ (our own dbt-score rule and filter).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import PROJECT_ROOT, DbtProject

BIN = Path(sys.executable).parent


def run(command: list[str], env: dict[str, str] | None = None, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_ruff() -> None:
    result = run([str(BIN / "ruff"), "check", "--no-cache", "--output-format", "concise", "."])
    assert result.returncode == 0, f"ruff check . found problems:\n{result.stdout}{result.stderr}"


def test_ruff_format() -> None:
    result = run([str(BIN / "ruff"), "format", "--check", "--no-cache", "."])
    assert result.returncode == 0, f"ruff format --check . (run `ruff format .`):\n{result.stdout}{result.stderr}"


def test_mypy() -> None:
    """Both rooms, python_udfs/ and docvec/, type-check clean ([tool.mypy] lists the files)."""
    result = run([str(BIN / "mypy"), "--no-incremental"])
    assert result.returncode == 0, f"mypy found problems:\n{result.stdout[-6000:]}{result.stderr[-2000:]}"


def test_sqlfluff(parsed_manifest: tuple[DbtProject, Path]) -> None:
    """sqlfluff's dbt templater compiles the project: a temporary DuckDB file, target and log folder."""
    project, _ = parsed_manifest
    env = project.env(
        DBT_TARGET_PATH=str(project.workdir / "sqlfluff-target"), DBT_LOG_PATH=str(project.workdir / "sqlfluff-logs")
    )
    result = run([str(BIN / "sqlfluff"), "lint", "models", "tests", "--format", "json", "--nofail"], env=env)
    assert result.returncode == 0, result.stderr[-4000:]
    files = json.loads(result.stdout)
    linted = {f["filepath"] for f in files}
    assert "models/marts/search_index.sql" in linted, f"sqlfluff did not lint the models: {sorted(linted)}"
    violations = [
        f"{f['filepath']}:{v['start_line_no']}:{v['start_line_pos']} {v['code']} {v['description']}"
        for f in files
        for v in f["violations"]
    ]
    assert not violations, "sqlfluff lint models tests:\n" + "\n".join(violations)


def dbt_score(manifest: Path) -> subprocess.CompletedProcess[str]:
    return run([str(BIN / "dbt-score"), "lint", "--manifest", str(manifest), "--show", "failing-items"])


def test_dbt_score_meets_the_thresholds(parsed_manifest: tuple[DbtProject, Path]) -> None:
    """Thresholds in pyproject.toml: the project scores at least 9.5 and every item at least 8.0."""
    _, manifest = parsed_manifest
    result = dbt_score(manifest)
    assert result.returncode == 0, f"dbt-score lint:\n{result.stdout[-6000:]}{result.stderr[-3000:]}"
    assert "Project score" in result.stdout


def test_dbt_score_fails_an_undocumented_untested_model(parsed_manifest: tuple[DbtProject, Path]) -> None:
    """The threshold bites: search_index without description, owner and tests fails the lint."""
    project, manifest_path = parsed_manifest
    manifest = json.loads(manifest_path.read_text())
    node = manifest["nodes"]["model.docvec.search_index"]
    node["description"] = ""
    node["meta"] = node["config"]["meta"] = {}
    for column in node["columns"].values():
        column["description"] = ""
    manifest["nodes"] = {
        k: v for k, v in manifest["nodes"].items() if v.get("attached_node") != "model.docvec.search_index"
    }
    broken = project.workdir / "broken_manifest.json"
    broken.write_text(json.dumps(manifest))
    result = dbt_score(broken)
    assert result.returncode != 0
    assert "search_index" in result.stdout + result.stderr
