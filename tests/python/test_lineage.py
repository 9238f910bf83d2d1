"""Column-level lineage (docvec/lineage/, `docvec lineage`): hand-written SQL, then the real
project's compiled manifest."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from docvec import cli
from docvec.lineage import (
    COPY,
    DERIVED,
    ROWS,
    ColumnLineage,
    ColumnRef,
    LineageError,
    build_lineage,
    closure_gaps,
    direct_file_reads,
    docs_markdown,
    lineage_report,
    lineage_tree,
    load_manifest,
    upstream_nodes,
)

from conftest import PROJECT_ROOT, DbtProject

DB = '"db"."main"'


def model(name: str, sql: str, depends_on: list[str], columns: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    return {
        "unique_id": f"model.p.{name}",
        "name": name,
        "resource_type": "model",
        "language": "sql",
        "relation_name": f'{DB}."{name}"',
        "compiled_code": sql,
        "depends_on": {"nodes": depends_on},
        "columns": {c: {"name": c} for c in columns},
        "config": {"meta": {}},
        **extra,
    }


def manifest(*models: dict[str, Any], source_relation: str = f'{DB}."raw_files"') -> dict[str, Any]:
    """A manifest with one source `raw.files` (path, body, size) and one seed `rules` (glob, groups)."""
    source = {
        "name": "files",
        "source_name": "raw",
        "relation_name": source_relation,
        "columns": {c: {"name": c} for c in ("path", "body", "size")},
    }
    seed = {
        "unique_id": "seed.p.rules",
        "name": "rules",
        "resource_type": "seed",
        "relation_name": f'{DB}."rules"',
        "root_path": "/nonexistent",
        "original_file_path": "seeds/rules.csv",
        "columns": {c: {"name": c} for c in ("pattern", "groups")},
        "depends_on": {"nodes": []},
    }
    nodes: dict[str, Any] = {"seed.p.rules": seed}
    nodes.update({m["unique_id"]: m for m in models})
    return {"sources": {"source.p.raw.files": source}, "nodes": nodes}


SOURCE = "source.p.raw.files"


def ref(node: str, column: str) -> ColumnRef:
    return ColumnRef(node if "." in node else f"model.p.{node}", column)


def upstream(lineage: ColumnLineage, node: str, column: str) -> dict[ColumnRef, str]:
    return {edge.column: edge.kind for edge in lineage.upstream[ref(node, column)]}


def one_model(sql: str, columns: tuple[str, ...] = ()) -> ColumnLineage:
    return build_lineage(manifest(model("m", sql, [SOURCE, "seed.p.rules"], columns)))


# ---------------------------------------------------------------------------- hand-written SQL


def test_cte_chain_and_alias_rename_are_copies() -> None:
    lineage = one_model(f"""
        with a as (select path as file_path, size from {DB}."raw_files"),
             b as (select file_path as p, size * 2 as double_size from a)
        select p as final_path, double_size from b
    """)
    assert upstream(lineage, "m", "final_path") == {ref(SOURCE, "path"): COPY}
    assert upstream(lineage, "m", "double_size") == {ref(SOURCE, "size"): DERIVED}
    assert lineage.unresolved == []


def test_star_with_exclude_and_qualified_star() -> None:
    lineage = one_model(f"""
        with files as (select * exclude (size) from {DB}."raw_files" as f),
             joined as (select files.*, r.groups from files cross join {DB}."rules" as r)
        select * from joined
    """)
    assert lineage.nodes["model.p.m"].columns == ("path", "body", "groups")
    assert upstream(lineage, "m", "body") == {ref(SOURCE, "body"): COPY}
    assert upstream(lineage, "m", "groups") == {ref("seed.p.rules", "groups"): COPY}


def test_join_resolves_qualified_and_using_columns() -> None:
    upstream_model = model("first", f'select path, body from {DB}."raw_files"', [SOURCE], ("path", "body"))
    lineage = build_lineage(
        manifest(
            upstream_model,
            model(
                "m",
                f"""
        select f.body, path, r.groups
        from {DB}."first" as f
        inner join {DB}."raw_files" as s using (path)
        left join {DB}."rules" as r on f.path glob r.pattern
    """,
                ["model.p.first", SOURCE, "seed.p.rules"],
            ),
        )
    )
    assert upstream(lineage, "m", "body") == {ref("first", "body"): COPY}
    # `using (path)`: both sides hold it
    assert upstream(lineage, "m", "path") == {ref("first", "path"): COPY, ref(SOURCE, "path"): COPY}
    # the join condition's columns (glob) are not values of any output
    assert upstream(lineage, "m", "groups") == {ref("seed.p.rules", "groups"): COPY}
    # rows: the left-joined rules do not decide the row count
    assert upstream(lineage, "m", ROWS) == {ref("first", ROWS): COPY, ref(SOURCE, ROWS): COPY}


def test_udf_arguments_and_struct_fields_are_followed() -> None:
    lineage = one_model(f"""
        with read as (select *, my_read_udf(path, 100) as result from {DB}."raw_files"),
             parsed as (select result.content as content, my_parse(path, result.content, '{{}}') as parsed from read)
        select content, parsed.title as title, upper(parsed.text) as text from parsed
    """)
    assert upstream(lineage, "m", "content") == {ref(SOURCE, "path"): DERIVED}
    assert upstream(lineage, "m", "title") == {ref(SOURCE, "path"): DERIVED}
    assert upstream(lineage, "m", "text") == {ref(SOURCE, "path"): DERIVED}


def test_field_of_a_copied_struct_column_is_derived() -> None:
    lineage = one_model(f"""
        with records as (select body as record, path from {DB}."raw_files")
        select record, record.title as title, records.record.text as text from records
    """)
    assert upstream(lineage, "m", "record") == {ref(SOURCE, "body"): COPY}
    assert upstream(lineage, "m", "title") == {ref(SOURCE, "body"): DERIVED}
    assert upstream(lineage, "m", "text") == {ref(SOURCE, "body"): DERIVED}


def test_case_conditions_filters_and_windows_are_not_values() -> None:
    lineage = one_model(f"""
        select
            case when size > 10 then body else path end as picked,
            count(body) filter (where size > 0) over (partition by path order by size) as n,
            first(path) over (partition by body) as first_path
        from {DB}."raw_files"
    """)
    assert set(upstream(lineage, "m", "picked")) == {ref(SOURCE, "body"), ref(SOURCE, "path")}
    assert set(upstream(lineage, "m", "n")) == {ref(SOURCE, "body")}
    assert upstream(lineage, "m", "first_path") == {ref(SOURCE, "path"): DERIVED}


def test_recursive_unnest_in_select_exposes_unnamed_struct_fields() -> None:
    lineage = one_model(f"""
        with split as (select path, my_chunk(body, size) as pieces from {DB}."raw_files"),
             unnested as (select path, unnest(pieces, recursive := true) from split)
        select path, chunk_text, chunk_index from unnested
    """)
    assert upstream(lineage, "m", "path") == {ref(SOURCE, "path"): COPY}
    expected = {ref(SOURCE, "body"): DERIVED, ref(SOURCE, "size"): DERIVED}
    assert upstream(lineage, "m", "chunk_text") == expected
    assert upstream(lineage, "m", "chunk_index") == expected


def test_unnest_join_union_by_name_values_and_count_star() -> None:
    lineage = one_model(f"""
        with findings as (
            select s.path, u.finding.kind as kind
            from {DB}."raw_files" as s
            cross join unnest(my_scan(s.body)) as u(finding)
        ),
        everything as (
            select path, kind from findings
            union all by name
            select 'none' as kind, pattern as path from {DB}."rules"
        ),
        modes as (select * from (values ('a'), ('b')) as v(mode))
        select path, kind, mode, (select count(*) from everything) as n
        from everything cross join modes
    """)
    assert upstream(lineage, "m", "path") == {ref(SOURCE, "path"): COPY, ref("seed.p.rules", "pattern"): COPY}
    assert upstream(lineage, "m", "kind") == {ref(SOURCE, "body"): DERIVED}
    assert upstream(lineage, "m", "mode") == {}
    assert upstream(lineage, "m", "n") == {ref(SOURCE, ROWS): DERIVED, ref("seed.p.rules", ROWS): DERIVED}


def test_lambda_parameters_are_not_columns() -> None:
    lineage = one_model(f'select list_transform(range(size), i -> i + 1) as steps from {DB}."raw_files"')
    assert upstream(lineage, "m", "steps") == {ref(SOURCE, "size"): DERIVED}
    assert lineage.unresolved == []


def test_unknown_column_is_reported_not_invented() -> None:
    lineage = one_model(f'select no_such_column as x from {DB}."raw_files"')
    assert upstream(lineage, "m", "x") == {}
    assert lineage.unresolved == ["m: cannot resolve column no_such_column"]


def test_external_source_expression_is_mapped_to_the_source() -> None:
    location = "(select unnest(list_files('/data/it''s'), recursive := true))"
    lineage = build_lineage(
        manifest(
            model("m", f"with f as (select * from {location}) select path from f", [SOURCE]),
            source_relation=location,
        )
    )
    assert upstream(lineage, "m", "path") == {ref(SOURCE, "path"): COPY}


def test_python_model_lineage_comes_from_meta() -> None:
    base = model("chunks", f'select body as text, path from {DB}."raw_files"', [SOURCE], ("text", "path"))
    python = model("vectors", "", ["model.p.chunks"], ("vector", "path", "extra"), language="python")
    python["config"]["meta"] = {
        "column_lineage": {
            "vector": ["chunks.text"],
            "path": {"from": ["chunks.path"], "kind": "copy"},
            "model_id": [],
            "typo": ["chunks.nope"],
        }
    }
    lineage = build_lineage(manifest(base, python))
    assert upstream(lineage, "vectors", "vector") == {ref("chunks", "text"): DERIVED}
    assert upstream(lineage, "vectors", "path") == {ref("chunks", "path"): COPY}
    assert upstream(lineage, "vectors", "model_id") == {}
    assert sorted(lineage.unresolved) == [
        "vectors.typo: 'chunks.nope' is not a column of a model it depends on",
        "vectors: column extra has no declared lineage",
    ]


def test_tree_upstream_downstream_and_json() -> None:
    first = model("first", f'select body as text from {DB}."raw_files"', [SOURCE], ("text",))
    second = model("second", f'select upper(text) as loud from {DB}."first"', ["model.p.first"], ("loud",))
    lineage = build_lineage(manifest(first, second))
    assert lineage_report(lineage, "second.loud") == (
        "second.loud\n└─ first.text  [derived]\n   └─ source raw.files.body  [copy]"
    )
    assert lineage_report(lineage, "raw.files.body", direction="downstream") == (
        "source raw.files.body\n└─ first.text  [copy]\n   └─ second.loud  [derived]"
    )
    payload = json.loads(lineage_report(lineage, "second.loud", fmt="json"))
    assert payload["roots"] == ["source raw.files.body"]
    child = payload["tree"]["children"][0]
    assert (child["table"], child["column"], child["kind"]) == ("first", "text", "derived")


def test_repeated_subtree_is_expanded_once() -> None:
    first = model("first", f'select body as a, body || path as b from {DB}."raw_files"', [SOURCE], ("a", "b"))
    second = model("second", f'select a || b as ab from {DB}."first"', ["model.p.first"], ("ab",))
    third = model("third", f'select ab from {DB}."second"', ["model.p.second"], ("ab",))
    lineage = build_lineage(manifest(first, second, third))
    tree = lineage_tree(lineage, ref(SOURCE, "body"), "downstream")
    assert [c.column.column for c in tree.children] == ["a", "b"]
    first_ab, second_ab = tree.children[0].children[0], tree.children[1].children[0]
    assert (first_ab.repeated, [c.column for c in first_ab.children]) == (False, [ref("third", "ab")])
    assert (second_ab.repeated, second_ab.children) == (True, [])
    assert "second.ab  [derived] (see above)" in lineage_report(lineage, "raw.files.body", direction="downstream")


def test_errors_name_the_table_columns_and_the_command_to_run(tmp_path: Path) -> None:
    lineage = one_model(f'select path, body from {DB}."raw_files"')
    with pytest.raises(LineageError, match=r"m has no column 'bdy'; its columns: path, body"):
        lineage.column_ref("m.bdy")
    with pytest.raises(LineageError, match=r"unknown table 'nope'; tables: m, raw.files, rules"):
        lineage.column_ref("nope.x")
    with pytest.raises(LineageError, match="expected TABLE.COLUMN"):
        lineage.column_ref("m")
    with pytest.raises(LineageError, match="run `dbt compile`"):
        load_manifest(tmp_path / "manifest.json")
    uncompiled = model("m", "", [SOURCE])
    del uncompiled["compiled_code"]
    with pytest.raises(LineageError, match=r"model.p.m has no compiled SQL.*run `dbt compile`"):
        build_lineage(manifest(uncompiled))


def test_file_reads_outside_sources_are_found() -> None:
    reads = manifest(
        model("by_function", "select * from read_csv('/tmp/q.csv', header = true)", []),
        model("by_path", "select * from '/tmp/q.parquet'", []),
        model("bytes_no_source", f'select docvec_read_file(path, 10) as b from {DB}."first"', ["model.p.first"]),
        model("bytes_of_source", f'select docvec_read_file(path, 10) as b from {DB}."raw_files"', [SOURCE]),
        model("first", f'select path from {DB}."raw_files"', [SOURCE]),
        model(
            "python",
            "",
            ["model.p.first"],
            language="python",
            raw_code="def model(dbt, session):\n    return session.sql(\"select * from read_parquet('x')\")\n",
        ),
    )
    assert direct_file_reads(reads) == [
        "by_function reads files directly: read_csv('/tmp/q.csv')",
        "by_path reads files directly: from '/tmp/q.parquet'",
        "bytes_no_source reads files directly: docvec_read_file(...)",
        "python reads files directly: read_parquet(",
    ]
    assert closure_gaps(reads) == [
        "by_function: its upstream closure reaches no source or seed",
        "by_path: its upstream closure reaches no source or seed",
    ]


# ---------------------------------------------------------------------------- the real project


@pytest.fixture(scope="session")
def manifest_path(make_project: Callable[..., DbtProject]) -> Path:
    """The project's manifest after `dbt compile` into a temporary target (much cheaper than a build)."""
    project = make_project("lineage", copy=False)
    project.dbt("compile")
    return project.workdir / "target" / "manifest.json"


@pytest.fixture(scope="session")
def compiled(manifest_path: Path) -> dict[str, Any]:
    return load_manifest(manifest_path)


@pytest.fixture(scope="session")
def project_lineage(compiled: dict[str, Any]) -> ColumnLineage:
    return build_lineage(compiled)


def path_to(lineage: ColumnLineage, start: ColumnRef, goal: ColumnRef) -> list[ColumnRef]:
    """The first upstream path from start to goal (depth first), or []."""

    def walk(current: ColumnRef, trail: list[ColumnRef]) -> list[ColumnRef]:
        if current == goal:
            return trail + [current]
        for edge in lineage.upstream.get(current, ()):
            if edge.column not in trail:
                found = walk(edge.column, trail + [current])
                if found:
                    return found
        return []

    return walk(start, [])


def test_search_index_chunk_text_traces_back_to_the_landing_files(project_lineage: ColumnLineage) -> None:
    landing = ColumnRef("source.docvec.landing.documents", "file_path")
    path = path_to(project_lineage, project_lineage.column_ref("search_index.chunk_text"), landing)
    assert [project_lineage.display(r) for r in path] == [
        "search_index.chunk_text",
        "chunks.chunk_text",
        "int_texts_chunked.pieces",
        "int_documents_paired_with_strategies.text",
        "documents.text",
        "int_documents_redacted.text",
        "int_documents_deduplicated.text",
        "int_documents_access_resolved.text",
        "int_documents_cleaned.text",
        "int_documents_parsed.raw_text",
        "stg_landing__documents.content",
        "source landing.documents.file_path",
    ]
    kinds = [{e.column: e.kind for e in project_lineage.upstream[a]}[b] for a, b in zip(path, path[1:])]
    assert kinds == [COPY, DERIVED, DERIVED, COPY, COPY, DERIVED, COPY, COPY, DERIVED, DERIVED, DERIVED]


def test_every_column_resolves_and_every_public_column_has_lineage(project_lineage: ColumnLineage) -> None:
    assert project_lineage.unresolved == []
    search_index = project_lineage.find_node("search_index")
    assert {"chunk_text", "embedding", "source_path", "access_groups"} <= set(search_index.columns)
    embedding = project_lineage.roots(project_lineage.column_ref("search_index.embedding"))
    assert ColumnRef("source.docvec.landing.documents", "file_path") in embedding


def test_lineage_has_no_gaps_from_landing_to_search_index(compiled: dict[str, Any]) -> None:
    assert closure_gaps(compiled) == []
    assert direct_file_reads(compiled) == []
    landing = "source.docvec.landing.documents"
    for unique_id, exposure in compiled["exposures"].items():
        assert "model.docvec.search_index" in exposure["depends_on"]["nodes"], unique_id
        assert landing in upstream_nodes(compiled, unique_id), unique_id
    pipeline = [
        k
        for k, n in compiled["nodes"].items()
        if n["resource_type"] == "model"
        and not k.startswith(("model.docvec.eval", "model.docvec.retrieval"))
        and k != "model.docvec.publish_runs"
    ]
    assert len(pipeline) >= 13
    assert all(landing in upstream_nodes(compiled, k) for k in pipeline)
    # the Load stage's record starts at its own source, the serving store's publish log
    assert "source.docvec.serving.publish_log" in upstream_nodes(compiled, "model.docvec.publish_runs")


def test_committed_docs_page_is_up_to_date(project_lineage: ColumnLineage, compiled: dict[str, Any]) -> None:
    committed = (PROJECT_ROOT / "models" / "docs" / "column_lineage.md").read_text(encoding="utf-8")
    assert committed == docs_markdown(project_lineage), (
        "models/docs/column_lineage.md is stale: run `dbt compile && docvec lineage --write-docs`"
    )
    assert "doc.docvec.__docvec__" in compiled["docs"], "dbt did not pick up the column lineage docs block"
    assert "#!/overview/docvec" in (PROJECT_ROOT / "models" / "overview.md").read_text(encoding="utf-8")


def test_cli_prints_the_tree_and_json(manifest_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["lineage", "search_index.chunk_text", "--manifest", str(manifest_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("search_index.chunk_text\n└─ chunks.chunk_text  [copy]")
    assert "source landing.documents.file_path  [derived]" in out
    assert (
        cli.main(
            [
                "lineage",
                "landing.documents.file_path",
                "--direction",
                "downstream",
                "--format",
                "json",
                "--manifest",
                str(manifest_path),
            ]
        )
        == 0
    )
    payload = json.loads(capsys.readouterr().out)
    assert payload["direction"] == "downstream"
    assert payload["tree"]["children"][0]["column"] == "content"
    assert cli.main(["lineage", "search_index.nope", "--manifest", str(manifest_path)]) == 2
    assert "its columns: chunk_id," in capsys.readouterr().err


def test_golden_questions_file_is_read_through_a_source(
    make_project: Callable[..., DbtProject], tmp_path: Path
) -> None:
    project = make_project("lineage_golden", copy=False)
    questions = tmp_path / "questions.csv"
    project.dbt("compile", "-s", "eval_golden_questions", "--vars", f"{{golden_questions_path: '{questions}'}}")
    compiled = load_manifest(project.workdir / "target" / "manifest.json")
    unique_id = "model.docvec.eval_golden_questions"
    only = {**compiled, "nodes": {unique_id: compiled["nodes"][unique_id]}}
    assert direct_file_reads(only) == []
    assert any(d.startswith("source.") for d in compiled["nodes"][unique_id]["depends_on"]["nodes"])


def test_cli_writes_the_docs_page(manifest_path: Path, tmp_path: Path) -> None:
    target = tmp_path / "column_lineage.md"
    assert cli.main(["lineage", "--write-docs", str(target), "--manifest", str(manifest_path)]) == 0
    committed = PROJECT_ROOT / "models" / "docs" / "column_lineage.md"
    assert target.read_text(encoding="utf-8") == committed.read_text(encoding="utf-8")
    assert cli.main(["lineage", "--manifest", str(manifest_path)]) == 2
