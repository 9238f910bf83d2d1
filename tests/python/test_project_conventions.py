"""The dbt project's own conventions, checked on the manifest of a fresh `dbt parse`.

- everything a reader meets in dbt docs is described: models, seeds, sources, their columns,
  singular tests, our macros and generic tests (and their arguments), exposures, the overview page;
- every model and seed has a primary-key test: `unique` + `not_null` on its key column, or our
  `unique_combination` generic test with `not_null` on each key column;
- one macro per file, named as the file (dispatch implementations `adapter__name` beside `name`);
- the staging / intermediate layout and naming of DESIGN.md.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT, DbtProject

PACKAGE = "docvec"

# Key columns that may be null by design. unique_combination groups nulls together (GROUP BY), so
# uniqueness is still checked on them.
NULLABLE_KEY_COLUMNS = {
    # null for documents that are a whole file; set only for records of a JSON/JSONL file
    ("eval_golden_questions", "relevant_record_key"),
    ("golden_questions", "relevant_record_key"),
}
LAYERS = {"staging", "intermediate", "marts", "evaluation", "observability"}
# meta key of a view that stores nothing and has its key tested on the table built from it: a
# test on the view would read and parse every file again (models/intermediate, issue #14).
KEY_TESTED_ON = "key_tested_on"


@pytest.fixture(scope="module")
def manifest(parsed_manifest: tuple[DbtProject, Path]) -> dict:
    return json.loads(parsed_manifest[1].read_text())


def _blank(text: str | None) -> bool:
    return not (text or "").strip()


def undocumented(manifest: dict) -> list[str]:
    """Every resource of our package (and column, and macro argument) without a description."""
    missing: list[str] = []
    for unique_id, node in manifest["nodes"].items():
        if node["package_name"] != PACKAGE:
            continue
        if node["resource_type"] == "test" and node.get("test_metadata"):
            continue  # a generic test's instance: its definition (a macro) is described instead
        if node["resource_type"] == "operation":
            continue  # on-run-end hooks take no description; the hook's macro is described
        if _blank(node.get("description")):
            missing.append(unique_id)
        for name, column in node.get("columns", {}).items():
            if _blank(column.get("description")):
                missing.append(f"{unique_id}.{name}")
    for unique_id, source in manifest["sources"].items():
        if source["package_name"] != PACKAGE:
            continue
        for text, label in ((source.get("source_description"), "source"), (source.get("description"), "table")):
            if _blank(text):
                missing.append(f"{unique_id} ({label})")
        missing += [f"{unique_id}.{n}" for n, c in source.get("columns", {}).items() if _blank(c.get("description"))]
    for unique_id, macro in manifest["macros"].items():
        if macro["package_name"] != PACKAGE:
            continue
        if _blank(macro.get("description")):
            missing.append(unique_id)
        missing += [f"{unique_id}({a['name']})" for a in macro.get("arguments", []) if _blank(a.get("description"))]
    for unique_id, exposure in manifest["exposures"].items():
        if exposure["package_name"] == PACKAGE and _blank(exposure.get("description")):
            missing.append(unique_id)
    return missing


def primary_key_problems(manifest: dict) -> list[str]:
    """Models and seeds of our package without a uniqueness test whose key columns are also not_null."""
    tests: dict[str, list[dict]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("test_metadata") and node.get("attached_node"):
            tests.setdefault(node["attached_node"], []).append(node)
    problems = []
    for unique_id, node in manifest["nodes"].items():
        if node["package_name"] != PACKAGE or node["resource_type"] not in {"model", "seed"}:
            continue
        attached = tests.get(unique_id, [])
        not_null = {t["column_name"] for t in attached if t["test_metadata"]["name"] == "not_null"}
        keys: list[list[str]] = []
        for test in attached:
            name = test["test_metadata"]["name"]
            if name == "unique":
                keys.append([test["column_name"]])
            elif name == "unique_combination":
                keys.append(list(test["test_metadata"]["kwargs"]["columns"]))
        if not keys and node["config"].get("meta", {}).get(KEY_TESTED_ON):
            continue
        if not keys:
            problems.append(f"{unique_id}: no unique / unique_combination test")
            continue
        for key in keys:
            nullable = [c for c in key if c not in not_null and (node["name"], c) not in NULLABLE_KEY_COLUMNS]
            if nullable:
                problems.append(f"{unique_id}: key {key} has no not_null test on {nullable}")
    return problems


def macro_file_problems(manifest: dict) -> list[str]:
    """Files of macros/ and tests/generic/ that do not hold exactly the macro named as the file."""
    by_file: dict[str, list[str]] = {}
    for macro in manifest["macros"].values():
        if macro["package_name"] == PACKAGE:
            by_file.setdefault(macro["original_file_path"], []).append(macro["name"])
    problems = []
    for folder, prefix in (("macros", ""), ("tests/generic", "test_")):
        for path in sorted((PROJECT_ROOT / folder).glob("*.sql")):
            relative = path.relative_to(PROJECT_ROOT).as_posix()
            expected = prefix + path.stem
            names = by_file.get(relative, [])
            others = [n for n in names if n != expected and not re.fullmatch(rf"[a-z0-9]+__{expected}", n)]
            if expected not in names:
                problems.append(f"{relative}: no macro named {expected} (found {names})")
            if others:
                problems.append(f"{relative}: other macros {others} (one macro per file, named as the file)")
    return problems


def test_every_resource_is_described(manifest: dict) -> None:
    missing = undocumented(manifest)
    assert not missing, "described nowhere:\n" + "\n".join(missing)


def test_the_checks_find_what_is_missing(manifest: dict) -> None:
    """The checkers are real: a model stripped of its description and tests is reported."""
    broken = json.loads(json.dumps(manifest))
    search_index = broken["nodes"]["model.docvec.search_index"]
    search_index["description"] = " "
    search_index["columns"]["chunk_id"]["description"] = ""
    broken["nodes"] = {
        k: v for k, v in broken["nodes"].items() if v.get("attached_node") != "model.docvec.search_index"
    }
    assert "model.docvec.search_index" in undocumented(broken)
    assert "model.docvec.search_index.chunk_id" in undocumented(broken)
    assert "model.docvec.search_index: no unique / unique_combination test" in primary_key_problems(broken)


def test_overview_page_and_docs_blocks(manifest: dict) -> None:
    docs = {d["name"]: d for d in manifest["docs"].values() if d["package_name"] == PACKAGE}
    assert "__overview__" in docs and "search_index" in docs["__overview__"]["block_contents"]
    # the public tables' descriptions come from docs blocks with an example query
    for model in ("documents", "chunks", "search_index", "pipeline_runs"):
        assert model in docs, f"no docs block {model}"
        assert "```sql" in manifest["nodes"][f"model.docvec.{model}"]["description"]


def test_exposures_read_search_index(manifest: dict) -> None:
    exposures = [e for e in manifest["exposures"].values() if e["package_name"] == PACKAGE]
    assert exposures
    assert all("model.docvec.search_index" in e["depends_on"]["nodes"] for e in exposures)


def test_every_model_and_seed_has_a_primary_key_test(manifest: dict) -> None:
    problems = primary_key_problems(manifest)
    assert not problems, "\n".join(problems)


def test_persist_docs_is_on_for_every_model(manifest: dict) -> None:
    for unique_id, node in manifest["nodes"].items():
        if node["package_name"] == PACKAGE and node["resource_type"] == "model":
            assert node["config"]["persist_docs"] == {"relation": True, "columns": True}, unique_id


def test_one_macro_per_file_named_as_the_file(manifest: dict) -> None:
    problems = macro_file_problems(manifest)
    assert not problems, "\n".join(problems)


def test_model_layout_and_naming(manifest: dict) -> None:
    """DESIGN.md's layout: models/<layer>/...; staging models are stg_<source>__<entity> in
    staging/<source>/; intermediate models are int_<entity>."""
    problems = []
    for node in manifest["nodes"].values():
        if node["package_name"] != PACKAGE or node["resource_type"] != "model":
            continue
        parts = Path(node["original_file_path"]).parts
        layer, name = parts[1], node["name"]
        if parts[0] != "models" or layer not in LAYERS:
            problems.append(f"{node['original_file_path']}: not under models/<{'|'.join(sorted(LAYERS))}>/")
        elif layer == "staging" and not (len(parts) == 4 and name.startswith(f"stg_{parts[2]}__")):
            problems.append(f"{node['original_file_path']}: staging models are staging/<source>/stg_<source>__*")
        elif layer == "intermediate" and not name.startswith("int_"):
            problems.append(f"{node['original_file_path']}: intermediate models are int_*")
        elif layer not in {"staging", "intermediate"} and name.startswith(("stg_", "int_")):
            problems.append(f"{node['original_file_path']}: stg_/int_ model outside its layer")
        if name != name.lower():
            problems.append(f"{node['original_file_path']}: model names are lowercase")
    assert not problems, "\n".join(problems)
