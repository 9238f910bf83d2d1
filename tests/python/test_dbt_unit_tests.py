"""dbt's own unit tests (`unit_tests:` in models/**/_*__unit_tests.yml), run by the real `dbt test`.

A dbt unit test runs one model's SQL on hand-written input rows and compares its output with
hand-computed rows. dbt takes the column types of every dict/csv input from the real relation, so
the relations upstream of each tested model must exist, but their rows are never read. The
cheapest way to make them is `dbt build --empty` of the unit tests' ancestors with the data and
unit tests left out: every SQL model runs with its refs limited to zero rows, the Python models
get empty inputs and load no embedding model, and the seeds are a few rows. That takes seconds,
where a real build of the sample takes minutes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import SAMPLE_DOCS, DbtProject, copy_project

pytestmark = pytest.mark.integration

# The unit tests written with this file: at least this many run (more may be added).
MIN_UNIT_TESTS = 14
# The models whose logic the unit tests pin down (access groups, duplicates, quarantine reasons,
# globs, pii_mode, retrieval metric math).
UNIT_TESTED_MODELS = {
    "stg_landing__documents",
    "int_documents_parsed",
    "int_documents_cleaned",
    "int_documents_redacted",
    "documents",
    "quarantined_documents",
    "document_duplicates",
    "retrieval_query_metrics",
    "retrieval_metrics",
}
# One expectation of retrieval_query_metrics_recall_mrr_ndcg (mrr@10 of the vector ranking = 1/2).
EXPECTATION = "q1,s1,unit-model,vector,mrr,10,0.5\n"
WRONG_EXPECTATION = "q1,s1,unit-model,vector,mrr,10,0.25\n"
EVALUATION_UNIT_TESTS = Path("models") / "evaluation" / "_evaluation__unit_tests.yml"


def build_empty_upstream(project: DbtProject) -> None:
    """Every ancestor of every unit-tested model, created with zero rows (seeds in full)."""
    project.dbt("build", "--empty", "--select", "+test_type:unit", "--exclude", "test_type:unit", "test_type:data")


def run_unit_tests(project: DbtProject, *select: str) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    """`dbt test` of the selected unit tests: the process and the results of run_results.json."""
    run = project.dbt("test", "--select", *select, check=False)
    run_results = json.loads((project.workdir / "target" / "run_results.json").read_text())
    return run, [r for r in run_results["results"] if r["unique_id"].startswith("unit_test.")]


@pytest.fixture(scope="module")
def unit_project(make_project: Callable[..., DbtProject]) -> DbtProject:
    """The project with the unit tests' upstream relations built empty."""
    project = make_project("unit", copy=False)
    build_empty_upstream(project)
    return project


@pytest.fixture(scope="module")
def unit_run(unit_project: DbtProject) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    return run_unit_tests(unit_project, "test_type:unit")


def test_every_unit_test_passes(unit_run: tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]) -> None:
    run, results = unit_run
    failed = {r["unique_id"]: r["message"] for r in results if r["status"] != "pass"}
    assert not failed, "\n\n".join(f"{name}:\n{message}" for name, message in failed.items())
    assert run.returncode == 0, run.stdout[-4000:]


def test_the_unit_tests_cover_the_logic_heavy_models(
    unit_run: tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]],
) -> None:
    _, results = unit_run
    assert len(results) >= MIN_UNIT_TESTS, [r["unique_id"] for r in results]
    tested = {r["unique_id"].split(".")[2] for r in results}
    assert UNIT_TESTED_MODELS <= tested, UNIT_TESTED_MODELS - tested


def test_a_wrong_expectation_fails(unit_project: DbtProject, tmp_path: Path) -> None:
    """The unit tests are real: one hand-computed value changed makes dbt report that test failed."""
    project_dir = copy_project(tmp_path / "project")
    unit_tests = project_dir / EVALUATION_UNIT_TESTS
    text = unit_tests.read_text(encoding="utf-8")
    assert EXPECTATION in text
    unit_tests.write_text(text.replace(EXPECTATION, WRONG_EXPECTATION), encoding="utf-8")
    broken = DbtProject(tmp_path / "work", SAMPLE_DOCS, project_dir=project_dir)
    broken.workdir.mkdir()
    shutil.copy(unit_project.db_path, broken.db_path)

    run, results = run_unit_tests(broken, "test_type:unit,retrieval_query_metrics")

    assert run.returncode != 0
    assert [(r["unique_id"].rsplit(".", 1)[-1], r["status"]) for r in results] == [
        ("retrieval_query_metrics_recall_mrr_ndcg", "fail")
    ]
    assert "0.25" in results[0]["message"]
