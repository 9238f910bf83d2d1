"""Configuration mistakes fail loudly, early and once: real `dbt build` runs on a tiny landing folder.

Each mistake a tester made (issue #13) is one dbt invocation. The on-run-start hook
(macros/validate_configuration.sql) must stop it before any model runs: exit code 2, a handful of
output lines, the first problem line naming the var or the seed row and the allowed values, no
embedding model loaded, no SKIP cascade, and no warehouse file left behind when the run created
it. Two full builds check what only a build can show: an empty search_index fails the build
unless `allow_empty`, and the bundled golden questions are neither evaluated nor warned about on
a corpus that is not the sample, while the quality gates say they were not evaluated.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from python_udfs.chunking import METHODS
from python_udfs.embedding.backends import BACKENDS

from conftest import DbtProject, copy_project

pytestmark = pytest.mark.integration

HOOK_ERROR = "Compilation Error in operation docvec-on-run-start-0"
CONFIG_ERROR_EXIT = 2  # dbt's exit code for an error outside the nodes (here: the hook)
MAX_OUTPUT_LINES = 25  # a failed check prints the problems and dbt's few lines around them
ANSI = re.compile(r"\x1b\[[0-9;]*m")
FILES = {
    "feeding.md": "# Feeding\n\nTrout fry are fed six times a day with a fine starter crumble.\n",
    "water.md": "# Water quality\n\nDissolved oxygen is read at dawn and dusk and written in the logbook.\n",
}
STRATEGY_HEADER = "strategy_id,method,max_tokens,overlap_tokens,description\n"
GATES = ("evaluation_serving_recall_at_5", "evaluation_serving_ndcg_at_10")


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two small markdown files: a user's own folder, not the sample."""
    root = tmp_path_factory.mktemp("configuration_landing")
    for name, text in FILES.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def output_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    """dbt's output lines, colour codes removed, blank lines dropped."""
    text = ANSI.sub("", result.stdout + result.stderr)
    return [line for line in text.splitlines() if line.strip()]


def problems(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The problem lines of the hook's error: the indented lines after its header."""
    lines = output_lines(result)
    start = next((i for i, line in enumerate(lines) if line.startswith(HOOK_ERROR)), None)
    if start is None:
        return []
    found = []
    for line in lines[start + 1 :]:
        if not line.startswith("  ") or line.lstrip().startswith(">"):
            break
        found.append(line.strip())
    return found


def assert_fails_early(project: DbtProject, result: subprocess.CompletedProcess[str], *expected: str) -> str:
    """The run stopped in the hook, quickly and quietly; returns the first problem line, which must
    contain every `expected` text."""
    lines = output_lines(result)
    found = problems(result)
    assert result.returncode == CONFIG_ERROR_EXIT, "\n".join(lines[-40:])
    assert found, "\n".join(lines[-40:])
    assert all(text in found[0] for text in expected), found
    assert len(lines) <= MAX_OUTPUT_LINES, "\n".join(lines)
    assert not any("embeddings:" in line or " START sql " in line or "SKIP" in line for line in lines), lines
    assert not project.db_path.exists(), "the failed run left the warehouse file it created"
    return found[0]


def run(project: DbtProject, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return project.dbt("build", *args, check=False, **env)


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        # the tester's typo: it built green with an empty search_index
        (
            "{serving_strategy: recursive_265}",
            ("var serving_strategy = 'recursive_265'", "recursive_256, markdown_sections"),
        ),
        # it failed only after 40 s, inside a traceback
        ("{embedding_backend: torhc}", ("var embedding_backend = 'torhc'", "one of " + ", ".join(BACKENDS))),
        # dbt ignores a var nobody reads: the real one kept its default
        (
            "{serving_stratgy: markdown_sections}",
            ("var serving_stratgy (from --vars)", "did you mean serving_strategy?"),
        ),
    ],
    ids=["serving_strategy", "embedding_backend", "misspelt_var"],
)
def test_a_bad_var_stops_the_build_in_the_hook(
    make_project: Callable[..., DbtProject], landing: Path, variables: str, expected: tuple[str, ...]
) -> None:
    project = make_project("config_var", source=landing, copy=False)
    assert_fails_early(project, run(project, "--vars", variables), *expected)


def test_numbers_out_of_range_are_one_line_each(make_project: Callable[..., DbtProject], landing: Path) -> None:
    project = make_project("config_vars", source=landing, copy=False)
    variables = (
        "{embedding_batch_size: 0, hybrid_vector_weight: .nan, hybrid_rrf_k: 0, hnsw_m: -3, eval_min_recall_at_5: 1.5}"
    )
    result = run(project, "--vars", variables)
    assert_fails_early(project, result, "var embedding_batch_size = 0: expected an integer >= 1")
    assert problems(result) == [
        "var embedding_batch_size = 0: expected an integer >= 1",
        "var hybrid_vector_weight = nan: expected a finite number >= 0",
        "var hybrid_rrf_k = 0: expected an integer >= 1",
        "var hnsw_m = -3: expected an integer >= 2",
        "var eval_min_recall_at_5 = 1.5: expected a finite number >= 0 and <= 1",
    ]


def test_a_missing_landing_folder_is_one_line_and_leaves_no_warehouse(
    make_project: Callable[..., DbtProject], tmp_path: Path
) -> None:
    project = make_project("config_missing", source=tmp_path / "not-there", copy=False)
    line = assert_fails_early(project, run(project))
    assert line.startswith(f"var source_path: the landing folder '{tmp_path / 'not-there'}' does not exist"), line


def test_an_empty_landing_folder_stops_the_build(make_project: Callable[..., DbtProject], tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    project = make_project("config_empty", source=empty, copy=False)
    assert_fails_early(project, run(project), f"landing folder '{empty}' holds no file", "allow_empty: true")


@pytest.mark.parametrize(
    ("seed", "rows", "expected"),
    [
        # the tester's row: capped at 256 without a word
        (
            "chunking_strategies",
            STRATEGY_HEADER + "recursive_256,recursive,256,32,served\nwide,recursive,1000,32,too long\n",
            ("seeds/chunking_strategies.csv line 3 (strategy_id 'wide'): max_tokens '1000'", "to 256"),
        ),
        # a bad strategy row was not named
        (
            "chunking_strategies",
            STRATEGY_HEADER + "recursive_256,recursive,256,32,served\nsections,markdown,256,32,typo\n",
            ("seeds/chunking_strategies.csv line 3 (strategy_id 'sections'): method 'markdown'", ", ".join(METHODS)),
        ),
        (
            "access_rules",
            "priority,path_glob,access_groups,description\n10,hr/*,,no group\n",
            ("seeds/access_rules.csv line 2 (path_glob 'hr/*'): access_groups ''", "at least one group"),
        ),
    ],
    ids=["max_tokens", "method", "access_groups"],
)
def test_a_bad_seed_row_is_named_before_the_seed_is_loaded(
    make_project: Callable[..., DbtProject],
    landing: Path,
    tmp_path: Path,
    seed: str,
    rows: str,
    expected: tuple[str, ...],
) -> None:
    project_dir = copy_project(tmp_path / "project")
    (project_dir / "seeds" / f"{seed}.csv").write_text(rows, encoding="utf-8")
    base = make_project("config_seed", source=landing, copy=False)
    project = DbtProject(base.workdir, landing, project_dir=project_dir)
    assert_fails_early(project, run(project), *expected)


def test_an_empty_search_index_fails_and_the_sample_questions_stay_silent(
    make_project: Callable[..., DbtProject], tmp_path: Path
) -> None:
    """Every file is quarantined, so the index is empty: the build fails on that, and on nothing
    else. The bundled golden questions are about sample_docs/: not evaluated, not warned about,
    and each quality gate says it was not evaluated."""
    root = tmp_path / "quarantined"
    root.mkdir()
    (root / "empty.md").write_text("", encoding="utf-8")
    (root / "drawing.xyz").write_bytes(b"not a document format docvec reads")
    project = make_project("config_empty_index", source=root, copy=False)
    result = run(project)
    lines = output_lines(result)
    text = "\n".join(lines)
    assert result.returncode == 1, text[-6000:]
    failures = [line for line in lines if " FAIL " in line]
    assert len(failures) == 1 and "assert_search_index_is_not_empty" in failures[0], failures
    assert not [line for line in lines if "evaluation_golden_questions_resolve" in line and "WARN" in line], text
    for gate in GATES:
        assert any(line.split("  ", 1)[-1].startswith(f"{gate}: not evaluated") for line in lines), text[-6000:]


def test_allow_empty_builds_an_empty_folder_and_a_bare_off_is_pii_mode_off(
    make_project: Callable[..., DbtProject], tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    project = make_project("config_allow_empty", source=empty, copy=False)
    result = run(project, "--vars", "{allow_empty: true, pii_mode: off}")  # bare off: YAML false
    assert result.returncode == 0, "\n".join(output_lines(result)[-60:])
    assert project.query("select count(*) from search_index") == [(0,)]
    assert project.query("select pii_mode from pipeline_runs") == [("off",)]
