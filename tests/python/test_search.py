"""Search over the sample build: ranking, filters, access control and hostile queries."""

from __future__ import annotations

import json
import random
import re
import subprocess
from pathlib import Path

import pytest

from docvec import SearchFilters, connect, search
from docvec.searching import (
    embed_query,
    exact_vector_ranking,
    indexed_vector_ranking,
    vector_index_name,
    vector_sql,
)
from python_udfs.ranking import MODES, reciprocal_rank_fusion

import conftest
from conftest import DBT, DbtProject, copy_project

CANARY = "CANARY-HR-7f3a"
CANARY_QUERY = "CANARY-HR-7f3a quarterly retention bonus pool credits"


@pytest.fixture(scope="module")
def conn(sample_build: DbtProject):
    with connect(str(sample_build.db_path)) as connection:
        yield connection


@pytest.mark.parametrize("exact", [False, True])
@pytest.mark.parametrize("mode", MODES)
def test_answers_rank_first_for_a_reader_of_the_document(conn, mode: str, exact: bool) -> None:
    hits = search(
        conn,
        "What pH range does the Millbrook farm keep its grow beds at?",
        k=5,
        mode=mode,
        filters=SearchFilters(groups=("staff", "public")),
        exact=exact,
    )
    assert "handbook/farm_operations.md" in [h.source_path for h in hits[:3]]
    for hit in hits:
        assert hit.chunk_text and hit.start_char < hit.end_char


@pytest.mark.parametrize("exact", [False, True])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("groups", [("public",), ("staff",), ("public", "staff")])
def test_restricted_text_never_reaches_a_caller_without_its_group(
    conn, mode: str, groups: tuple[str, ...], exact: bool
) -> None:
    hits = search(conn, CANARY_QUERY, k=50, mode=mode, filters=SearchFilters(groups=groups), exact=exact)
    assert hits
    assert all(CANARY not in hit.chunk_text for hit in hits)
    assert all(not hit.source_path.startswith("hr/") for hit in hits)


@pytest.mark.parametrize("exact", [False, True])
@pytest.mark.parametrize("mode", MODES)
def test_restricted_text_reaches_a_caller_with_its_group(conn, mode: str, exact: bool) -> None:
    hits = search(conn, CANARY_QUERY, k=3, mode=mode, filters=SearchFilters(groups=("hr",)), exact=exact)
    assert any(CANARY in hit.chunk_text for hit in hits)


@pytest.mark.parametrize("exact", [False, True])
def test_access_filter_applies_before_the_top_k_cut(conn, exact: bool) -> None:
    """A public caller still gets k results: restricted chunks do not eat the top-k slots."""
    hits = search(conn, CANARY_QUERY, k=5, mode="vector", filters=SearchFilters(groups=("public",)), exact=exact)
    assert len(hits) == 5


# --------------------------------------------------------------------------------------------
# The HNSW index (DuckDB vss) and the indexed vector path
# --------------------------------------------------------------------------------------------

GOLDEN = Path(__file__).resolve().parents[2] / "seeds" / "golden_questions.csv"


def golden_questions() -> list[tuple[str, tuple[str, ...]]]:
    import csv

    with open(GOLDEN, encoding="utf-8", newline="") as handle:
        rows = {(r["question"], tuple(r["groups"].split(";"))) for r in csv.DictReader(handle)}
    return sorted(rows)


@pytest.fixture(scope="module")
def question_vectors() -> dict[str, list[float]]:
    questions = [q for q, _ in golden_questions()] + [CANARY_QUERY, "fish"]
    return {q: embed_query(q) for q in questions}


def plan(conn, sql: str, params: list) -> str:
    return "\n".join(row[1] for row in conn.execute("explain " + sql, params).fetchall())


def test_the_build_creates_the_hnsw_index(conn) -> None:
    rows = conn.execute("select index_name, sql from duckdb_indexes() where table_name = 'search_index'").fetchall()
    assert [name for name, _ in rows] == ["search_index_hnsw"]
    assert "USING HNSW (embedding)" in rows[0][1]
    assert vector_index_name(conn) == "search_index_hnsw"


def test_indexed_vector_search_uses_the_hnsw_scan_and_exact_does_not(conn, question_vectors) -> None:
    vector = question_vectors["fish"]
    filters = SearchFilters(groups=("public", "staff"), path_prefix="handbook/")
    indexed = plan(conn, *vector_sql(vector, filters, 5, indexed=True))
    exact = plan(conn, *vector_sql(vector, filters, 5, indexed=False))
    assert "HNSW_INDEX_SCAN" in indexed and "search_index_hnsw" in indexed
    assert "HNSW_INDEX_SCAN" not in exact


@pytest.mark.parametrize("groups", [("public",), ("staff",), ("public", "staff"), ("hr",)])
def test_indexed_results_only_hold_permitted_chunks(conn, question_vectors, groups: tuple[str, ...]) -> None:
    readable = {
        chunk_id
        for (chunk_id,) in conn.execute(
            "select chunk_id from search_index where list_has_any(access_groups, ?::varchar[])", [list(groups)]
        ).fetchall()
    }
    for vector in question_vectors.values():
        for k in (1, 5, 20):
            rows = indexed_vector_ranking(conn, vector, SearchFilters(groups=groups), k)
            assert rows is None or {row[0] for row in rows} <= readable
            hits = search(conn, "q", k=k, mode="vector", filters=SearchFilters(groups=groups), vector=vector)
            assert {hit.chunk_id for hit in hits} <= readable
            assert len(hits) == min(k, len(readable))


def test_a_selective_filter_falls_back_to_the_exact_scan(conn, question_vectors) -> None:
    """Only 8 of 107 chunks are readable by `hr`; none is among the pH question's 20 nearest, so
    the index path yields nothing and search ranks the hr chunks exactly instead."""
    vector = question_vectors["What pH range does the Millbrook farm keep its grow beds at?"]
    hr = SearchFilters(groups=("hr",))
    assert indexed_vector_ranking(conn, vector, hr, 5) is None
    hits = search(conn, "pH", k=5, mode="vector", filters=hr, vector=vector)
    assert len(hits) == 5 and all(hit.source_path.startswith("hr/") for hit in hits)
    assert [h.chunk_id for h in hits] == [row[0] for row in exact_vector_ranking(conn, vector, hr, 5)]
    # A filter every candidate passes keeps the index's answer.
    everyone = SearchFilters(groups=("public", "staff", "hr"))
    assert indexed_vector_ranking(conn, vector, everyone, 5) is not None


@pytest.mark.parametrize("mode", ["vector", "hybrid"])
def test_indexed_search_equals_exact_search_on_the_sample(conn, question_vectors, mode: str) -> None:
    for question, groups in golden_questions():
        for filters in (SearchFilters(groups=groups), SearchFilters(groups=("public", "staff", "hr"))):
            vector = question_vectors[question]
            indexed = search(conn, question, k=10, mode=mode, filters=filters, vector=vector)
            exact = search(conn, question, k=10, mode=mode, filters=filters, vector=vector, exact=True)
            assert [(h.chunk_id, h.score) for h in indexed] == [(h.chunk_id, h.score) for h in exact], question


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
    by_meta = search(
        conn,
        "produce box",
        k=10,
        mode="hybrid",
        filters=SearchFilters(groups=("public",), metadata=(("category", category),)),
    )
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
    """The non-blank strings of the Big List of Naughty Strings shipped in tests/data."""
    return [s for s in conftest.naughty_strings() if s.strip()]


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
    return subprocess.run(
        [docvec, "search", *args, "--db", str(project.db_path)],
        capture_output=True,
        text=True,
        env=project.env(),
        timeout=300,
    )


def test_cli_json_and_table(sample_build: DbtProject) -> None:
    result = run_cli(
        sample_build, "When is the Copperfield glasshouse open to drop-in visitors?", "--k", "3", "--format", "json"
    )
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
    only_vector = run_cli(
        sample_build, query, "--mode", "hybrid", "--keyword-weight", "0", "--k", "5", "--format", "json"
    )
    assert vector.returncode == only_vector.returncode == 0, only_vector.stderr
    assert [h["chunk_id"] for h in json.loads(only_vector.stdout)] == [h["chunk_id"] for h in json.loads(vector.stdout)]


# --------------------------------------------------------------------------------------------
# The `search` macro: `dbt run-operation search --args ...`
# --------------------------------------------------------------------------------------------

SEARCH_MANY = """
{% macro docvec_test_search_many(queries, modes, k=3, groups=['public'], with_prefix=false) %}
  {% for query in queries %}{% for mode in modes %}
    {% set results = search(query, k=k, mode=mode, groups=groups,
                            path_prefix=(query if with_prefix else none)) %}
    {% if execute %}
      {{ log('DOCVEC-IDS ' ~ tojson({'query': query, 'mode': mode,
                                    'ids': results.columns['chunk_id'].values() | list}), info=True) }}
    {% endif %}
  {% endfor %}{% endfor %}
{% endmacro %}
"""


@pytest.fixture(scope="module")
def macro_project(sample_build: DbtProject, tmp_path_factory: pytest.TempPathFactory) -> DbtProject:
    """A copy of the project and of the sample warehouse (run-operation opens it read-write),
    with a test macro that runs the `search` macro for many queries in one dbt invocation."""
    import shutil

    workdir = tmp_path_factory.mktemp("search_macro")
    project_dir = copy_project(workdir / "project")
    (project_dir / "macros" / "docvec_test_search_many.sql").write_text(SEARCH_MANY, encoding="utf-8")
    project = DbtProject(workdir, sample_build.source_path, project_dir=project_dir)
    shutil.copy(sample_build.db_path, project.db_path)
    return project


def run_operation(project: DbtProject, macro: str, args: dict, check: bool = True):
    import yaml

    # YAML (what dbt parses --args with) that round-trips any string, control characters included.
    text = yaml.safe_dump(args, default_flow_style=True, allow_unicode=False, width=10**9)
    return project.dbt("run-operation", macro, "--args", text, check=check)


def logged_ids(output: str) -> dict[tuple[str, str], list[str]]:
    found = {}
    for line in output.splitlines():
        if "DOCVEC-IDS " in line:
            record = json.loads(line.split("DOCVEC-IDS ", 1)[1])
            found[(record["query"], record["mode"])] = record["ids"]
    return found


def test_search_macro_prints_the_ranking(macro_project: DbtProject) -> None:
    query = "When is the Copperfield glasshouse open to drop-in visitors?"
    result = run_operation(macro_project, "search", {"query": query, "k": 3, "groups": ["public"]})
    lines = [line for line in result.stdout.splitlines() if " 1. " in line or " 2. " in line or " 3. " in line]
    assert len(lines) == 3 and "web/visit.html" in lines[0]
    with connect(str(macro_project.db_path)) as conn:
        expected = search(conn, query, k=3, filters=SearchFilters(groups=("public",)))
    assert [h.chunk_id for h in expected] == [
        next(token for token in line.split() if len(token) == 32) for line in lines
    ]


def test_search_macro_returns_the_python_ranking(macro_project: DbtProject) -> None:
    queries = [
        "What pH range does the Millbrook farm keep its grow beds at?",
        "How many trout died in the August 2023 chiller failure?",
        "glasshouse visitors",
        "the farm's 'quarantine' rules; how long?",
        CANARY_QUERY,
    ]
    for groups in (["public"], ["staff", "hr"]):
        args = {"queries": queries, "modes": list(MODES), "k": 5, "groups": groups}
        result = run_operation(macro_project, "docvec_test_search_many", args)
        found = logged_ids(result.stdout)
        assert len(found) == len(queries) * len(MODES)
        with connect(str(macro_project.db_path)) as conn:
            for query in queries:
                for mode in MODES:
                    filters = SearchFilters(groups=tuple(groups))
                    exact = [h.chunk_id for h in search(conn, query, k=5, mode=mode, filters=filters, exact=True)]
                    indexed = [h.chunk_id for h in search(conn, query, k=5, mode=mode, filters=filters)]
                    assert found[(query, mode)] == exact == indexed, (query, mode)
                    if groups == ["public"]:
                        paths = conn.execute(
                            "select source_path from search_index where list_contains(?::varchar[], chunk_id)",
                            [found[(query, mode)]],
                        ).fetchall()
                        assert not any(path.startswith("hr/") for (path,) in paths)


def test_search_macro_treats_hostile_queries_as_data(macro_project: DbtProject) -> None:
    injections = [
        "'; drop table search_index; --",
        "x'); create table docvec_pwned as select 1; --",
        'a" or 1=1 --',
        "' or '1'='1",
        "fish'; select * from documents; --",
        "{{ log('jinja ran', info=True) }}",
        "{% do run_query('create table docvec_pwned_jinja as select 1') %}",
    ]
    strings = injections + naughty_strings()
    served = macro_project.query("select count(*) from search_index")[0][0]
    keyword = run_operation(macro_project, "docvec_test_search_many", {"queries": strings, "modes": ["keyword"]})
    assert len(logged_ids(keyword.stdout)) == len(set(strings))
    sampled = injections + random.Random(0).sample(strings, 25)
    other = run_operation(
        macro_project,
        "docvec_test_search_many",
        {"queries": sampled, "modes": ["vector", "hybrid"], "with_prefix": True},
    )
    assert len(logged_ids(other.stdout)) == 2 * len(set(sampled))
    # The query is echoed in the log; a rendered template would log the bare line "jinja ran".
    assert not re.search(r"\d\d:\d\d:\d\d\s+jinja ran\s*$", keyword.stdout + other.stdout, re.MULTILINE)
    tables = {name for (name,) in macro_project.query("select table_name from duckdb_tables()")}
    assert "search_index" in tables and not {"docvec_pwned", "docvec_pwned_jinja"} & tables
    assert served > 0 and macro_project.query("select count(*) from search_index")[0][0] == served


@pytest.mark.parametrize(
    "args, message",
    [
        ({"query": "   "}, "non-empty string"),
        ({"query": "fish", "mode": "semantic"}, "unknown mode"),
        ({"query": "fish", "k": "1; drop table search_index"}, "k must be an integer"),
        ({"query": "fish", "groups": " , "}, "access groups are required"),
    ],
)
def test_search_macro_rejects_bad_arguments(macro_project: DbtProject, args: dict, message: str) -> None:
    result = run_operation(macro_project, "search", args, check=False)
    assert result.returncode != 0 and message in result.stdout + result.stderr


def test_a_rebuild_recreates_the_hnsw_index(macro_project: DbtProject) -> None:
    macro_project.dbt("run", "--select", "search_index")
    with connect(str(macro_project.db_path)) as conn:
        assert vector_index_name(conn) == "search_index_hnsw"
        assert "HNSW_INDEX_SCAN" in plan(conn, *vector_sql(embed_query("fish"), SearchFilters(), 3, indexed=True))
