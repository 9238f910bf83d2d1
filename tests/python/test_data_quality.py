"""The data tests catch broken data: corrupt a copy of the built warehouse and run `dbt test`.

Every `dbt test` here runs on a copy of the shared `sample_build` warehouse (the tests store their
failures in it); the argument checks of the generic tests need no data and run on an empty one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from python_udfs.plugin import load_extensions

from conftest import DbtProject


@pytest.fixture(scope="module")
def corrupted(sample_build: DbtProject, tmp_path_factory: pytest.TempPathFactory) -> DbtProject:
    """A copy of the sample warehouse with one kind of corruption per data test, after `dbt test`."""
    project = sample_build.copy_build(tmp_path_factory.mktemp("corrupted"))
    with duckdb.connect(str(project.db_path)) as conn:
        load_extensions(conn, ("vss",))  # search_index has an HNSW index: writing to it needs vss
        chunk_ids = [
            r[0]
            for r in conn.execute(
                "select chunk_id from chunks where strategy_id = 'recursive_256' order by chunk_id limit 6"
            ).fetchall()
        ]
        conn.execute("update chunks set n_tokens = 999 where chunk_id = ?", [chunk_ids[0]])
        conn.execute("update chunks set chunk_text = '   ' where chunk_id = ?", [chunk_ids[1]])
        conn.execute("update chunks set access_groups = ['everyone'] where chunk_id = ?", [chunk_ids[2]])
        conn.execute(
            "insert into chunks select * replace (md5(chunk_id) as chunk_id) from chunks where chunk_id = ?",
            [chunk_ids[3]],
        )
        conn.execute("delete from search_index where chunk_id = ?", [chunk_ids[4]])
        conn.execute("update chunks set chunk_text = '## Only a heading' where chunk_id = ?", [chunk_ids[5]])
        texts = [
            r[0] for r in conn.execute("select text_sha256 from embeddings order by text_sha256 limit 2").fetchall()
        ]
        conn.execute(
            "update embeddings set embedding = list_concat(['nan'::float], embedding[2:])::float[384] "
            "where text_sha256 = ?",
            [texts[0]],
        )
        conn.execute(
            "update embeddings set embedding = list_transform(embedding, x -> x * 2)::float[384] where text_sha256 = ?",
            [texts[1]],
        )
        conn.execute("delete from quarantined_documents where source_path = 'quarantine/empty.md'")
        # A document losing one middle chunk (text_coverage) and another all of its chunks in one
        # strategy (has_chunks_in_every_strategy); neither touches the chunks corrupted above.
        longest, shortest = conn.execute(
            "select arg_max(document_id, n), arg_min(document_id, n) from ("
            "  select document_id, count(*) as n from chunks"
            "  where strategy_id = 'recursive_256' and chunk_id not in (select unnest(?))"
            "  group by document_id)",
            [chunk_ids],
        ).fetchone()
        conn.execute(
            "delete from chunks where document_id = ? and strategy_id = 'recursive_256' and chunk_index = 1",
            [longest],
        )
        conn.execute("delete from chunks where document_id = ? and strategy_id = 'markdown_sections'", [shortest])
    project.test_result = project.dbt("test", check=False)
    return project


@pytest.mark.parametrize(
    "failing_test",
    [
        "max_token_count_chunks_n_tokens",
        "not_blank_chunks_chunk_text",
        "assert_chunk_offsets_round_trip",
        "same_access_groups_as_chunks_access_groups",
        "unique_combination_chunks_document_id__strategy_id__chunk_index",
        "assert_serving_chunks_have_vectors",
        "finite_vector_embeddings_embedding",
        "unit_norm_embeddings_embedding",
        "assert_every_file_is_accounted_for",
        "text_coverage_documents_",
        "has_chunks_in_every_strategy_documents_",
    ],
)
def test_corruption_is_caught(corrupted: DbtProject, failing_test: str) -> None:
    out = corrupted.test_result.stdout
    assert corrupted.test_result.returncode != 0
    assert any("FAIL" in line and failing_test in line for line in out.splitlines()), (
        f"{failing_test} did not fail:\n{out[-6000:]}"
    )


def test_heading_only_chunks_are_a_warning(corrupted: DbtProject) -> None:
    stdout: str = corrupted.test_result.stdout  # type: ignore[attr-defined]  # set by the fixture
    name = "short_or_heading_only_chunks_chunks_chunk_text"
    found = [line for line in stdout.splitlines() if name in line and "START" not in line]
    assert any("WARN 1" in line for line in found), found or stdout[-4000:]


@pytest.fixture(scope="module")
def unbuilt(make_project: Callable[..., DbtProject]) -> DbtProject:
    """The project over the sample files with an empty warehouse: enough to compile macros."""
    return make_project("generic_arguments", copy=False)


def test_integrity_tests_pass_on_the_clean_build(sample_build: DbtProject, tmp_path: Path) -> None:
    result = sample_build.copy_build(tmp_path / "clean").dbt("test", check=False)
    assert result.returncode == 0, result.stdout[-4000:]
    assert "FAIL" not in "\n".join(line for line in result.stdout.splitlines() if "START" not in line)


@pytest.mark.parametrize(
    "macro, args, message",
    [
        ("test_unit_norm", "{model: x, column_name: y, tolerance: 5}", "`tolerance` must be a number in (0, 1)"),
        (
            "test_vector_dimension",
            "{model: x, column_name: y, dimension: -3}",
            "`dimension` must be a positive integer",
        ),
        (
            "test_max_token_count",
            "{model: x, column_name: y, max_tokens: 0}",
            "`max_tokens` must be a positive integer",
        ),
        (
            "test_metric_drop",
            "{model: x, column_name: y, max_drop_fraction: 2}",
            "`max_drop_fraction` must be a number in (0, 1)",
        ),
        ("test_unique_combination", "{model: x, columns: chunk_id}", "`columns` must be a non-empty list"),
        (
            "test_short_or_heading_only_chunks",
            "{model: x, column_name: y, min_tokens: 0}",
            "`min_tokens` must be a positive integer",
        ),
        (
            "test_short_or_heading_only_chunks",
            "{model: x, column_name: y, group_by: document_id}",
            "`group_by` must be a non-empty list",
        ),
        (
            "test_same_access_groups_as",
            "{model: x, column_name: y, to: null, field: null}",
            "`to` and `field` are required",
        ),
        (
            "test_text_coverage",
            "{model: x, column_name: y, chunks: z, min_coverage: 2}",
            "`min_coverage` must be a number in (0, 1]",
        ),
        ("test_text_coverage", "{model: x, column_name: y, chunks: null}", "`chunks` is required"),
        (
            "test_has_chunks_in_every_strategy",
            "{model: x, chunks: null, strategies: null}",
            "`chunks` and `strategies` are required",
        ),
    ],
)
def test_generic_tests_reject_bad_arguments(unbuilt: DbtProject, macro: str, args: str, message: str) -> None:
    result = unbuilt.dbt("run-operation", macro, "--args", args, check=False)
    assert result.returncode != 0
    assert "Compilation Error" in result.stdout and message in result.stdout, result.stdout[-3000:]
