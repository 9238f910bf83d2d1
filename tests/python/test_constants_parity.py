"""Parity of the facts dbt must repeat with their one Python source.

Each shared constant is defined once, in the `python_udfs` room: the search modes, hybrid defaults
and BM25 index (python_udfs.ranking), the metrics (python_udfs.evaluation.METRICS), the model-id
rule (python_udfs.embedding.effective_model_id) and the PII modes (python_udfs.redaction.PII_MODES).
Python code imports them. Where SQL, YAML or Jinja must repeat a value (dbt_project.yml vars,
accepted_values tests, macros, SQL models), a test here reads that side and fails, naming both,
when the two differ. The model-id rule is not repeated at all: the macro `serving_model_id` calls
the UDF `docvec_effective_model_id`, and the tests check that it does, for every backend.

Unit tier, except the last test, which compiles the macro with the real `dbt` (integration).
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import jinja2
import pytest
import yaml

from docvec.cli import build_parser
from docvec.searching import check_search_arguments, search
from python_udfs import plugin
from python_udfs.embedding.backends import BACKENDS, effective_model_id
from python_udfs.evaluation import METRIC_FUNCTIONS, METRICS, RankingSettings
from python_udfs.fts_text import ensure_registered
from python_udfs.ranking import (
    DEFAULT_CANDIDATES,
    DEFAULT_KEYWORD_WEIGHT,
    DEFAULT_MODE,
    DEFAULT_RRF_K,
    DEFAULT_VECTOR_WEIGHT,
    DEFAULT_WEIGHTS,
    FTS_COLUMNS,
    FTS_ID_COLUMN,
    FTS_OPTIONS,
    FTS_TEXT_COLUMN,
    FTS_TEXT_FUNCTION,
    MODES,
    create_fts_index_sql,
    fts_schema,
    fts_text_sql,
    with_fts_text_sql,
)
from python_udfs.redaction import PII_MODES

from conftest import PROJECT_ROOT, DbtProject

MACROS = PROJECT_ROOT / "macros"
MODELS = PROJECT_ROOT / "models"
METRIC_NAMES = tuple(dict.fromkeys(name for name, _ in METRICS))
MODEL_IDS = ("all-MiniLM-L6-v2", "org/model's-v2")  # the shipped one, and one a literal must quote

# --------------------------------------------------------------------------------------------
# Reading the dbt side
# --------------------------------------------------------------------------------------------


def read(relative: str) -> str:
    """A project file's text."""
    return (PROJECT_ROOT / relative).read_text(encoding="utf-8")


def project_vars() -> dict[str, Any]:
    """The vars block of dbt_project.yml, with its defaults."""
    return yaml.safe_load(read("dbt_project.yml"))["vars"]


def matched(pattern: str, text: str, where: str) -> re.Match[str]:
    """The first match of `pattern` in `text` (DOTALL); fails naming `where` when there is none."""
    found = re.search(pattern, text, re.DOTALL)
    assert found is not None, f"{where}: no match for {pattern!r} (was the file restructured?)"
    return found


def quoted(text: str) -> list[str]:
    """The single-quoted strings of a Jinja list or SQL VALUES list, in order."""
    return re.findall(r"'([^']*)'", text)


def yaml_columns() -> Iterator[tuple[Path, str, dict[str, Any]]]:
    """(file, node name, column) for every column of every model, seed and source in models/ and seeds/."""
    for path in sorted([*MODELS.rglob("*.yml"), *(PROJECT_ROOT / "seeds").rglob("*.yml")]):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        nodes = [*document.get("models", []), *document.get("seeds", [])]
        nodes += [table for source in document.get("sources", []) for table in source.get("tables", [])]
        for node in nodes:
            for column in node.get("columns", []) or []:
                yield path, node["name"], column


def accepted_values(column_name: str) -> list[tuple[str, list[str]]]:
    """(where, values) of every accepted_values test on a column named `column_name`."""
    found = []
    for path, node, column in yaml_columns():
        if column.get("name") != column_name:
            continue
        for test in column.get("data_tests", []) or []:
            if isinstance(test, dict) and "accepted_values" in test:
                spec = test["accepted_values"]
                values = (spec.get("arguments") or spec)["values"]
                found.append((f"{path.relative_to(PROJECT_ROOT)}: {node}.{column_name}", list(values)))
    return found


# --------------------------------------------------------------------------------------------
# Hybrid defaults
# --------------------------------------------------------------------------------------------

HYBRID_VARS = {
    "hybrid_vector_weight": DEFAULT_VECTOR_WEIGHT,
    "hybrid_keyword_weight": DEFAULT_KEYWORD_WEIGHT,
    "hybrid_rrf_k": DEFAULT_RRF_K,
    "hybrid_candidates": DEFAULT_CANDIDATES,
}


@pytest.mark.parametrize(("name", "default"), HYBRID_VARS.items())
def test_hybrid_vars_of_dbt_project_equal_the_python_defaults(name: str, default: float) -> None:
    value = project_vars()[name]
    assert value == default and type(value) is type(default), (
        f"dbt_project.yml var {name} = {value!r}, python_udfs.ranking says {default!r}: keep the two equal"
    )


def test_python_users_take_the_ranking_defaults_from_python_udfs_ranking() -> None:
    settings = RankingSettings()
    assert (settings.vector_weight, settings.keyword_weight) == DEFAULT_WEIGHTS
    assert (settings.rrf_k, settings.candidates) == (DEFAULT_RRF_K, DEFAULT_CANDIDATES)

    for function in (search, check_search_arguments):
        parameters = inspect.signature(function).parameters
        defaults = {name: parameters[name].default for name in ("mode", "weights", "rrf_k", "candidates")}
        assert defaults == {
            "mode": DEFAULT_MODE,
            "weights": DEFAULT_WEIGHTS,
            "rrf_k": DEFAULT_RRF_K,
            "candidates": DEFAULT_CANDIDATES,
        }, function.__qualname__

    args = build_parser().parse_args(["search", "a query"])
    assert args.mode == DEFAULT_MODE
    assert (args.vector_weight, args.keyword_weight) == DEFAULT_WEIGHTS
    assert (args.rrf_k, args.candidates) == (DEFAULT_RRF_K, DEFAULT_CANDIDATES)


# --------------------------------------------------------------------------------------------
# Modes
# --------------------------------------------------------------------------------------------


def test_accepted_values_of_every_mode_column_are_the_modes() -> None:
    found = accepted_values("mode")
    assert found, "no accepted_values test on a `mode` column any more"
    for where, values in found:
        assert sorted(values) == sorted(MODES), f"{where} accepts {values}, python_udfs.ranking.MODES is {MODES}"


def test_the_search_macro_knows_the_modes_and_the_default_mode() -> None:
    text = read("macros/search.sql")
    listed = quoted(matched(r"set modes = \[(.*?)\]", text, "macros/search.sql").group(1))
    assert listed == list(MODES), f"macros/search.sql modes {listed}, python_udfs.ranking.MODES {MODES}"
    default = matched(r"macro search\([^)]*\bmode='(\w+)'", text, "macros/search.sql").group(1)
    assert default == DEFAULT_MODE
    assert "expected one of " + ", ".join(MODES) in text, "the macro's error message names other modes"


def test_the_metric_model_scores_every_mode_and_every_metric() -> None:
    text = read("models/evaluation/retrieval_query_metrics.sql")
    where = "models/evaluation/retrieval_query_metrics.sql"
    modes = quoted(matched(r"\bmodes as \((.*?)\) as m \(mode\)", text, where).group(1))
    assert modes == list(MODES), f"{where} scores modes {modes}, python_udfs.ranking.MODES is {MODES}"
    pairs = re.findall(r"\('(\w+)',\s*(\d+)\)", matched(r"\bmetrics as \((.*?)\) as m \(metric, k\)", text, where)[1])
    metrics = tuple((name, int(k)) for name, k in pairs)
    assert metrics == METRICS, f"{where} scores {metrics}, python_udfs.evaluation.METRICS is {METRICS}"


# --------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------


def test_every_metric_has_its_python_function() -> None:
    assert set(METRIC_NAMES) == set(METRIC_FUNCTIONS)


def test_accepted_values_of_every_metric_column_are_the_metrics() -> None:
    found = accepted_values("metric")
    assert found, "no accepted_values test on a `metric` column any more"
    for where, values in found:
        assert sorted(values) == sorted(METRIC_NAMES), f"{where} accepts {values}, METRICS names {METRIC_NAMES}"


def test_quality_gates_check_metrics_that_are_computed() -> None:
    gates = sorted((PROJECT_ROOT / "tests").glob("evaluation_serving_*.sql"))
    assert gates, "no quality-gate test (tests/evaluation_serving_*.sql) any more"
    for path in gates:
        metric, k = matched(
            r"serving_quality_gate\('(\w+)',\s*(\d+)", path.read_text(encoding="utf-8"), path.name
        ).groups()
        assert (metric, int(k)) in METRICS, f"{path.name} gates {metric}@{k}, which METRICS does not compute"
    served = matched(r"and mode = '(\w+)'", read("macros/serving_quality_gate.sql"), "serving_quality_gate.sql")
    assert served[1] in MODES


# --------------------------------------------------------------------------------------------
# PII modes
# --------------------------------------------------------------------------------------------


def test_the_pii_stage_accepts_the_pii_modes() -> None:
    where = "models/intermediate/int_documents_redacted.sql"
    listed = quoted(matched(r"mode not in \[(.*?)\]", read(where), where).group(1))
    assert listed == list(PII_MODES), f"{where} accepts {listed}, python_udfs.redaction.PII_MODES is {PII_MODES}"
    default = project_vars()["pii_mode"]
    assert ("off" if default is False else default) in PII_MODES


def test_accepted_values_of_pii_mode_columns_are_the_pii_modes() -> None:
    for where, values in accepted_values("pii_mode"):  # none today; any added must agree
        assert sorted(values) == sorted(PII_MODES), f"{where} accepts {values}, PII_MODES is {PII_MODES}"


# --------------------------------------------------------------------------------------------
# BM25 (fts) index
# --------------------------------------------------------------------------------------------


def fts_arguments(statement: str, where: str) -> tuple[list[str], dict[str, str]]:
    """The arguments after the table name of a `pragma create_fts_index(...)`: the key and column
    names (unquoted), and the options as name -> value text."""
    inner = matched(r"pragma create_fts_index\((.*?)\)\s*(?:;|$)", statement, where).group(1)
    parts = [" ".join(part.split()) for part in inner.split(",")]
    names = [part.strip("'") for part in parts[1:] if "=" not in part]
    options: dict[str, str] = {}
    for part in parts:
        if "=" in part:
            name, value = part.split("=", 1)
            options[name.strip()] = value.strip()
    return names, options


def test_search_index_and_the_evaluation_build_the_same_bm25_index() -> None:
    names, options = fts_arguments(read("macros/create_search_indexes.sql"), "macros/create_search_indexes.sql")
    python_names, python_options = fts_arguments(create_fts_index_sql("t"), "create_fts_index_sql")
    assert python_names == [FTS_ID_COLUMN, *FTS_COLUMNS] and python_options == dict(FTS_OPTIONS)
    assert names == python_names, f"create_search_indexes indexes {names}, python_udfs.ranking {python_names}"
    assert options == python_options, f"create_search_indexes options {options}, python_udfs.ranking {python_options}"


def test_create_fts_index_sql_builds_an_index_duckdb_searches() -> None:
    with duckdb.connect() as conn:
        plugin.load_extensions(conn, ("fts",))
        ensure_registered(conn)
        conn.execute("create table raw (chunk_id varchar, chunk_text varchar, title varchar, section varchar)")
        conn.execute("insert into raw values ('a', 'Trout swimming', 'Fish', null), ('b', 'Basil', 'Herbs', 'Trout')")
        conn.execute(f"create table t as {with_fts_text_sql('select * from raw')}")
        conn.execute(create_fts_index_sql("t"))
        sql = f"select chunk_id from t where {fts_schema('t')}.match_bm25(chunk_id, 'TROUT swims') is not null"
        assert sorted(row[0] for row in conn.execute(sql).fetchall()) == ["a", "b"]  # lower + porter stemmer


def test_search_index_holds_the_fts_text_the_index_covers() -> None:
    model = " ".join(read("models/marts/search_index.sql").split())
    expression = f"{fts_text_sql()} as {FTS_TEXT_COLUMN}"
    assert expression in model, f"models/marts/search_index.sql must select {expression}"
    contract = yaml.safe_load(read("models/marts/_marts__models.yml"))
    (search_index,) = [m for m in contract["models"] if m["name"] == "search_index"]
    assert FTS_TEXT_COLUMN in [column["name"] for column in search_index["columns"]]


def test_the_search_macro_matches_the_query_as_fts_text() -> None:
    macro = read("macros/search.sql")
    assert f"set keyword_text = '{FTS_TEXT_FUNCTION}(' ~ query_text ~ ')'" in macro
    assert "match_bm25(chunk_id, {{ keyword_text }})" in macro and "match_bm25(chunk_id, {{ query_text" not in macro


def test_the_search_macro_queries_the_schema_fts_creates() -> None:
    expression = matched(r"set fts = (.*?) -%\}", read("macros/search.sql"), "macros/search.sql").group(1)
    relation = SimpleNamespace(schema="main", identifier="search_index")
    assert jinja2.Environment().compile_expression(expression)(relation=relation) == fts_schema("search_index")


# --------------------------------------------------------------------------------------------
# The model-id rule: the macro calls the Python rule through a UDF
# --------------------------------------------------------------------------------------------


class MacroReturn(Exception):
    """dbt's `return()` of a macro: the value it hands back."""

    def __init__(self, value: object) -> None:
        super().__init__(value)
        self.value = value


def dbt_return(value: object) -> None:
    raise MacroReturn(value)


def render_macro(call: str, files: tuple[str, ...], context: dict[str, Any]) -> object:
    """What `call` returns, rendered with Jinja (dbt's template engine) over the macros of `files`."""
    source = "".join(read(name) for name in files) + "{{ " + call + " }}"
    environment = jinja2.Environment(extensions=["jinja2.ext.do"])
    try:
        return environment.from_string(source).render(**context)
    except MacroReturn as returned:
        return returned.value


def run_query_on(conn: duckdb.DuckDBPyConnection) -> Callable[[str], SimpleNamespace]:
    """dbt's `run_query` over a DuckDB connection: a result whose columns[i].values() lists a column."""

    def run_query(sql: str) -> SimpleNamespace:
        rows = conn.execute(sql).fetchall()
        columns = [SimpleNamespace(values=lambda i=i: [row[i] for row in rows]) for i in range(len(rows[0]))]
        return SimpleNamespace(columns=columns)

    return run_query


@pytest.fixture()
def udf_conn() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with the plugin's UDFs, as dbt's connections have them."""
    with duckdb.connect() as conn:
        plugin.register_udfs(conn)
        yield conn


@pytest.mark.parametrize("model_id", MODEL_IDS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_the_model_id_udf_is_effective_model_id(
    udf_conn: duckdb.DuckDBPyConnection, backend: str, model_id: str
) -> None:
    (stored,) = udf_conn.execute("select docvec_effective_model_id(?, ?)", [model_id, backend]).fetchone() or (None,)
    assert stored == effective_model_id(model_id, backend)


def test_the_model_id_udf_rejects_an_unknown_backend(udf_conn: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(duckdb.Error, match="unknown embedding_backend 'openvino'"):
        udf_conn.execute("select docvec_effective_model_id('m', 'openvino')").fetchall()


@pytest.mark.parametrize("model_id", MODEL_IDS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_serving_model_id_macro_is_effective_model_id(
    udf_conn: duckdb.DuckDBPyConnection, backend: str, model_id: str
) -> None:
    variables = {"embedding_model_id": model_id, "embedding_backend": backend}
    context = {"execute": True, "var": variables.__getitem__, "run_query": run_query_on(udf_conn)}
    context["return"] = dbt_return
    files = ("macros/sql_literal.sql", "macros/serving_model_id.sql")
    expected = effective_model_id(model_id, backend)
    assert render_macro("serving_model_id()", files, context) == expected  # from the vars
    other = {"embedding_model_id": "unused", "embedding_backend": "torch"}
    context["var"] = other.__getitem__
    assert render_macro(f"serving_model_id({model_id!r}, {backend!r})", files, context) == expected


def test_serving_model_id_is_empty_while_dbt_parses() -> None:
    files = ("macros/sql_literal.sql", "macros/serving_model_id.sql")
    assert render_macro("serving_model_id()", files, {"execute": False, "return": dbt_return}) == ""


def test_serving_model_id_compiled_by_dbt_is_effective_model_id(make_project: Callable[..., DbtProject]) -> None:
    project = make_project("model_ids", copy=False)
    calls = ", ".join(f"{backend!r}: serving_model_id(backend={backend!r})" for backend in BACKENDS)
    result = project.dbt("compile", "--inline", "{{ tojson({" + calls + "}) }}", "--output", "json", "--quiet")
    compiled = json.loads(json.loads(result.stdout)["compiled"])
    model_id = project_vars()["embedding_model_id"]
    assert compiled == {backend: effective_model_id(model_id, backend) for backend in BACKENDS}
