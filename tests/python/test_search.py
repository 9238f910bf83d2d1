"""Search over the sample build: ranking, filters, access control and hostile queries."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest

from python_udfs.search import MODES, SearchFilters, connect, reciprocal_rank_fusion, search

from conftest import DBT, SHARED, DbtProject

CANARY = "CANARY-HR-7f3a"
CANARY_QUERY = "CANARY-HR-7f3a quarterly retention bonus pool credits"


@pytest.fixture(scope="module")
def conn(sample_build: DbtProject):
    with connect(str(sample_build.db_path)) as connection:
        yield connection


@pytest.mark.parametrize("mode", MODES)
def test_answers_rank_first_for_a_reader_of_the_document(conn, mode: str) -> None:
    hits = search(conn, "What pH range does the Millbrook farm keep its grow beds at?", k=5, mode=mode,
                  filters=SearchFilters(groups=("staff", "public")))
    assert "handbook/farm_operations.md" in [h.source_path for h in hits[:3]]
    for hit in hits:
        assert hit.chunk_text and hit.start_char < hit.end_char


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("groups", [("public",), ("staff",), ("public", "staff")])
def test_restricted_text_never_reaches_a_caller_without_its_group(conn, mode: str, groups: tuple[str, ...]) -> None:
    hits = search(conn, CANARY_QUERY, k=50, mode=mode, filters=SearchFilters(groups=groups))
    assert all(CANARY not in hit.chunk_text for hit in hits)
    assert all(not hit.source_path.startswith("hr/") for hit in hits)


@pytest.mark.parametrize("mode", MODES)
def test_restricted_text_reaches_a_caller_with_its_group(conn, mode: str) -> None:
    hits = search(conn, CANARY_QUERY, k=3, mode=mode, filters=SearchFilters(groups=("hr",)))
    assert any(CANARY in hit.chunk_text for hit in hits)


def test_access_filter_applies_before_the_top_k_cut(conn) -> None:
    """A public caller still gets k results: restricted chunks do not eat the top-k slots."""
    hits = search(conn, CANARY_QUERY, k=5, mode="vector", filters=SearchFilters(groups=("public",)))
    assert len(hits) == 5


def test_no_groups_means_no_access(conn) -> None:
    with pytest.raises(ValueError, match="access groups are required"):
        search(conn, "tilapia", filters=SearchFilters(groups=()))


def test_filters_on_path_type_and_metadata(conn) -> None:
    by_prefix = search(
        conn, "fish", k=10, mode="keyword", filters=SearchFilters(groups=("public", "staff"), path_prefix="handbook/")
    )
    assert by_prefix and all(h.source_path.startswith("handbook/") for h in by_prefix)
    by_type = search(
        conn, "pH calibration", k=10, mode="hybrid", filters=SearchFilters(groups=("public", "staff"), file_type="pdf")
    )
    assert by_type and all(h.source_path.endswith(".pdf") for h in by_type)
    category = conn.execute(
        "select json_extract_string(metadata, '$.category') from search_index"
        " where source_path = 'records/faq.json' limit 1"
    ).fetchone()[0]
    by_meta = search(conn, "produce box", k=10, mode="hybrid",
                     filters=SearchFilters(groups=("public",), metadata=(("category", category),)))
    assert by_meta and all(h.source_path == "records/faq.json" for h in by_meta)


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    a = [("x",), ("y",), ("z",)]
    b = [("y",), ("w",)]
    fused = reciprocal_rank_fusion([a, b], [1.0, 1.0], rrf_k=60)
    assert [row[0] for row, _ in fused] == ["y", "x", "w", "z"]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)
    weighted = reciprocal_rank_fusion([a, b], [1.0, 0.0], rrf_k=60)
    assert [row[0] for row, _ in weighted][:3] == ["x", "y", "z"]


def naughty_strings() -> list[str]:
    path = SHARED / "datasets" / "naughty-strings" / "blns.json"
    if not path.is_file():
        pytest.skip("../shared/datasets/naughty-strings is not present")
    return [s for s in json.loads(path.read_text()) if s.strip()]


def test_hostile_queries_are_data_not_sql(conn) -> None:
    strings = naughty_strings() + ["'; drop table search_index; --", 'a" or 1=1 --', "x'); select 1; --"]
    for query in strings:
        search(conn, query, k=3, mode="keyword", filters=SearchFilters(groups=("public",)))
    for query in random.Random(0).sample(strings, 40):
        for mode in ("vector", "hybrid"):
            search(conn, query, k=3, mode=mode, filters=SearchFilters(groups=("public",), path_prefix=query))
    assert conn.execute("select count(*) from search_index").fetchone()[0] > 0


def run_cli(project: DbtProject, *args: str) -> subprocess.CompletedProcess[str]:
    docvec = str(Path(DBT).with_name("docvec"))
    return subprocess.run([docvec, "search", *args, "--db", str(project.db_path)], capture_output=True,
                          text=True, env=project.env(), timeout=300)


def test_cli_json_and_table(sample_build: DbtProject) -> None:
    result = run_cli(sample_build, "When is the Copperfield glasshouse open to drop-in visitors?", "--k", "3",
                     "--format", "json")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert len(hits) == 3 and hits[0]["source_path"] == "web/visit.html"
    expected_keys = {"chunk_id", "score", "source_path", "title", "section", "start_char", "end_char", "chunk_text"}
    assert set(hits[0]) >= expected_keys
    table = run_cli(sample_build, "glasshouse visitors", "--mode", "keyword", "--k", "2")
    assert table.returncode == 0 and " 1. " in table.stdout and "web/visit.html" in table.stdout


def test_cli_rejects_bad_input_with_a_message(sample_build: DbtProject) -> None:
    empty = run_cli(sample_build, "   ")
    assert empty.returncode == 2 and "query is empty" in empty.stderr
    no_groups = run_cli(sample_build, "fish", "--groups", ",")
    assert no_groups.returncode == 2 and "at least one group" in no_groups.stderr


def test_cli_hybrid_weights(sample_build: DbtProject) -> None:
    query = "How many trout died in the August 2023 chiller failure?"
    vector = run_cli(sample_build, query, "--mode", "vector", "--k", "5", "--format", "json")
    only_vector = run_cli(sample_build, query, "--mode", "hybrid", "--keyword-weight", "0", "--k", "5",
                          "--format", "json")
    assert vector.returncode == only_vector.returncode == 0, only_vector.stderr
    assert [h["chunk_id"] for h in json.loads(only_vector.stdout)] == [h["chunk_id"] for h in json.loads(vector.stdout)]
