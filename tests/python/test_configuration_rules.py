"""The configuration check's rules (python_udfs/configuration), in process: vars, seed rows, the
warehouse clean-up, and the UDF as DuckDB calls it. The real `dbt build` runs are in
test_configuration.py."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from python_udfs import plugin
from python_udfs.chunking import METHODS
from python_udfs.configuration import NewWarehouse, Settings, problems, unknown_vars, var_names
from python_udfs.configuration.rules import ACCESS_MODES, VAR_RULES, check_vars
from python_udfs.configuration.seeds import (
    MIN_MAX_TOKENS,
    TokenLimits,
    check_access_rules,
    check_chunking_strategies,
    read_seed,
)
from python_udfs.embedding.backends import BACKENDS
from python_udfs.redaction.spans import PII_MODES

from conftest import PROJECT_ROOT

pytestmark = pytest.mark.unit

PROJECT_FILE = PROJECT_ROOT / "dbt_project.yml"
SEEDS = PROJECT_ROOT / "seeds"
LIMITS = TokenLimits(max_seq_length=256, n_special_tokens=2)
SEED_NAMES = ("chunking_strategies", "access_rules")
STRATEGY_HEADER = "strategy_id,method,max_tokens,overlap_tokens,description\n"


def project_vars() -> dict:
    """The vars block of dbt_project.yml with its defaults."""
    return yaml.safe_load(PROJECT_FILE.read_text(encoding="utf-8"))["vars"]


def seed_file(tmp_path: Path, name: str, text: str):
    path = tmp_path / f"{name}.csv"
    path.write_text(text, encoding="utf-8")
    return read_seed(path, f"seeds/{name}.csv")


def settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings like the hook passes for the shipped project, with some vars overridden."""
    values = {**project_vars(), **overrides}
    seeds = {
        name: (str(SEEDS / f"{name}.csv"), f"seeds/{name}.csv") for name in ("chunking_strategies", "access_rules")
    }
    return Settings(
        vars=values, declared_vars=tuple(values), landing_folder=str(PROJECT_ROOT / "sample_docs"), seeds=seeds
    )


def test_every_declared_var_has_a_rule_and_every_rule_a_var() -> None:
    declared = set(var_names(str(PROJECT_FILE)))
    assert declared == set(project_vars())
    assert declared - set(VAR_RULES) == set(), "add a rule to python_udfs/configuration/rules.py VAR_RULES"
    assert set(VAR_RULES) - declared == set(), "a rule for a var dbt_project.yml does not declare"


def test_the_shipped_configuration_passes(tmp_path: Path) -> None:
    assert check_vars(project_vars()) == []
    assert problems(settings(tmp_path)) == []


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("embedding_backend", "torhc", "one of " + ", ".join(BACKENDS)),
        ("pii_mode", "mask", "one of " + ", ".join(PII_MODES)),
        ("access_mode", "closed", "one of " + ", ".join(ACCESS_MODES)),
        ("embedding_batch_size", 0, "an integer >= 1"),
        ("embedding_batch_size", True, "an integer >= 1"),
        ("hybrid_rrf_k", -1, "an integer >= 1"),
        ("hybrid_candidates", 2.5, "an integer >= 1"),
        ("hybrid_vector_weight", math.nan, "a finite number >= 0"),
        ("hybrid_keyword_weight", -0.5, "a finite number >= 0"),
        ("eval_min_recall_at_5", 1.5, "a finite number >= 0 and <= 1"),
        ("search_vector_index", "yes", "true or false"),
        ("include_globs", [], "a list of at least 1 non-empty string"),
        ("json_text_fields", "text", "a list of non-empty strings"),
        ("pii_policy", {"EMAIL": "hide"}, "a mapping of entity types"),
        ("pii_allow_patterns", ["(unclosed"], "a list of valid Python regular expressions"),
        ("serving_strategy", "", "a non-empty string"),
    ],
)
def test_a_bad_var_is_one_line_naming_it_and_the_allowed_values(name: str, value: object, allowed: str) -> None:
    found = check_vars({**project_vars(), name: value})
    assert len(found) == 1, found
    assert found[0].startswith(f"var {name} = ") and allowed in found[0], found


def test_a_bare_off_is_pii_mode_off() -> None:
    assert check_vars({**project_vars(), "pii_mode": False}) == []  # YAML reads `off` as false
    assert check_vars({**project_vars(), "pii_mode": True}) != []


def test_rules_across_vars() -> None:
    found = check_vars({**project_vars(), "freshness_warn_after_hours": 10, "freshness_error_after_hours": 5})
    assert found == ["var freshness_warn_after_hours = 10: expected at most freshness_error_after_hours (5)"]
    found = check_vars({**project_vars(), "hybrid_vector_weight": 0, "hybrid_keyword_weight": 0.0})
    assert len(found) == 1 and "both 0" in found[0]


def test_access_modes_equal_the_models_branches() -> None:
    sql = (PROJECT_ROOT / "models" / "intermediate" / "int_documents_access_resolved.sql").read_text(encoding="utf-8")
    listed = re.search(r"mode not in \[([^\]]*)\]", sql)
    assert listed is not None
    assert sorted(re.findall(r"'([^']+)'", listed.group(1))) == sorted(ACCESS_MODES)


def test_a_misspelt_var_on_the_command_line_is_named_with_a_suggestion() -> None:
    declared = list(project_vars())
    assert unknown_vars({"serving_stratgy": "x", "pii_mode": "flag"}, declared) == [
        "var serving_stratgy (from --vars) is not a docvec var: did you mean serving_strategy?"
    ]


def test_serving_strategy_must_be_a_strategy_of_the_seed(tmp_path: Path) -> None:
    found = problems(settings(tmp_path, serving_strategy="recursive_265"))
    assert found == [
        "var serving_strategy = 'recursive_265': expected one of the strategy_ids of "
        "seeds/chunking_strategies.csv: recursive_256, markdown_sections"
    ]


def test_paths_are_checked(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    found = problems(
        Settings(
            vars={**project_vars(), "golden_questions_path": str(missing / "q.csv")},
            landing_folder=str(missing),
            model_path=str(missing),
            seeds=settings(tmp_path).seeds,
        )
    )
    assert found[0].startswith(f"var source_path: the landing folder '{missing}' does not exist")
    assert found[1].startswith("var golden_questions_path = ") and "an existing CSV file" in found[1]
    assert found[2].startswith(f"var embedding_model_path = '{missing}'") and "tokenizer.json" in found[2]
    assert len(found) == 3, found  # max_tokens is still checked against the minimum only


def test_strategy_rows_are_named_by_line_and_id(tmp_path: Path) -> None:
    seed = seed_file(
        tmp_path,
        "chunking_strategies",
        STRATEGY_HEADER
        + "ok,recursive,256,32,fine\n"
        + "big,recursive,1000,32,too long for the model\n"
        + "typo,recurisve,128,16,unknown method\n"
        + "ok,markdown_sections,64,62,repeated id and overlap over the budget\n"
        + ",recursive,8,-1,blank id and too small\n",
    )
    assert check_chunking_strategies(seed, LIMITS) == [
        "seeds/chunking_strategies.csv line 3 (strategy_id 'big'): max_tokens '1000': expected an integer from "
        f"{MIN_MAX_TOKENS} to 256 (the embedding model's maximum sequence length)",
        f"seeds/chunking_strategies.csv line 4 (strategy_id 'typo'): method 'recurisve': expected one of "
        f"{', '.join(METHODS)}",
        "seeds/chunking_strategies.csv line 5 (strategy_id 'ok'): strategy_id is already on line 2: "
        "expected a unique id",
        "seeds/chunking_strategies.csv line 5 (strategy_id 'ok'): overlap_tokens '62': expected an integer >= 0 "
        "and < 62 (max_tokens less 2 special tokens)",
        "seeds/chunking_strategies.csv line 6 (strategy_id ''): strategy_id is blank: expected a non-empty, unique id",
        "seeds/chunking_strategies.csv line 6 (strategy_id ''): max_tokens '8': expected an integer from "
        f"{MIN_MAX_TOKENS} to 256 (the embedding model's maximum sequence length)",
        "seeds/chunking_strategies.csv line 6 (strategy_id ''): overlap_tokens '-1': expected an integer >= 0",
    ]


def test_a_seed_without_a_column_or_a_row(tmp_path: Path) -> None:
    seed = seed_file(tmp_path, "chunking_strategies", "strategy_id,method,overlap_tokens\nx,recursive,0\n")
    assert check_chunking_strategies(seed, LIMITS) == [
        "seeds/chunking_strategies.csv: missing column(s) max_tokens: expected the columns "
        "strategy_id, method, max_tokens, overlap_tokens"
    ]
    assert check_chunking_strategies(seed_file(tmp_path, "chunking_strategies", STRATEGY_HEADER), LIMITS) == [
        "seeds/chunking_strategies.csv has no row: expected at least one chunking strategy"
    ]


def test_access_rule_rows(tmp_path: Path) -> None:
    seed = seed_file(
        tmp_path,
        "access_rules",
        "priority,path_glob,access_groups,description\n10,hr/*,hr;staff,fine\nfirst,,;,broken\n",
    )
    assert check_access_rules(seed) == [
        "seeds/access_rules.csv line 3 (path_glob ''): priority 'first': expected an integer",
        "seeds/access_rules.csv line 3 (path_glob ''): path_glob is blank: expected a GLOB pattern such as hr/*",
        "seeds/access_rules.csv line 3 (path_glob ''): access_groups ';': expected at least one group "
        "(several separated by ';')",
    ]


def test_the_shipped_seeds_pass() -> None:
    strategies = read_seed(SEEDS / "chunking_strategies.csv", "seeds/chunking_strategies.csv")
    assert check_chunking_strategies(strategies, LIMITS) == []
    assert check_access_rules(read_seed(SEEDS / "access_rules.csv", "seeds/access_rules.csv")) == []


def test_a_new_empty_warehouse_is_discarded_and_an_existing_one_never(tmp_path: Path) -> None:
    new = tmp_path / "new.duckdb"
    guard = NewWarehouse()
    guard.note(str(new))
    conn = duckdb.connect(str(new))
    conn.execute("create schema audit")
    assert not guard.discard(1)  # holds a relation: kept
    assert guard.discard(0)
    conn.execute("create schema later")  # dbt goes on with its open handle until it closes
    conn.close()
    assert sorted(tmp_path.iterdir()) == []

    existing = tmp_path / "existing.duckdb"
    duckdb.connect(str(existing)).close()
    guard = NewWarehouse()
    guard.note(str(existing))
    assert not guard.discard(0) and existing.exists()

    memory = NewWarehouse()
    memory.note(":memory:")
    assert not memory.discard(0)


def test_the_udfs_as_duckdb_calls_them(tmp_path: Path) -> None:
    conn = duckdb.connect()
    plugin.register_udfs(conn)
    names = conn.execute("select docvec_configuration_var_names(?)", [str(PROJECT_FILE)]).fetchone()
    assert names is not None and set(names[0]) == set(project_vars())
    ok = settings(tmp_path)
    payload: dict[str, Any] = {
        "vars": dict(ok.vars),
        "cli_vars": {"embedding_backend": "torhc"},
        "declared_vars": list(ok.declared_vars),
        "landing_folder": ok.landing_folder,
        "model_path": "",
        "seeds": {name: {"path": path, "name": shown} for name, (path, shown) in ok.seeds.items()},
    }
    assert conn.execute("select docvec_configuration_errors(?)", [json.dumps(payload)]).fetchone() == ([],)
    payload["vars"] = {**payload["vars"], "embedding_backend": "torhc"}
    found = conn.execute("select docvec_configuration_errors(?)", [json.dumps(payload)]).fetchone()
    assert found == (["var embedding_backend = 'torhc': expected one of " + ", ".join(BACKENDS)],)


def test_min_chunk_tokens_is_checked_and_required(tmp_path: Path) -> None:
    header = "strategy_id,method,max_tokens,overlap_tokens,min_chunk_tokens,description\n"
    seed = seed_file(
        tmp_path,
        "chunking_strategies",
        header + "ok,recursive,256,32,20,fine\nneg,recursive,64,0,-1,negative\nbig,recursive,64,0,64,not below max\n"
        "blank,recursive,64,0,,blank\n",
    )
    assert check_chunking_strategies(seed, LIMITS) == [
        f"seeds/chunking_strategies.csv line {line} (strategy_id {sid!r}): min_chunk_tokens {value!r}: "
        "expected an integer >= 0 and < 64 (max_tokens) (0: no merging of short chunks)"
        for line, sid, value in ((3, "neg", "-1"), (4, "big", "64"), (5, "blank", ""))
    ]
    strategies = tmp_path / "without_the_column.csv"
    strategies.write_text(STRATEGY_HEADER + "recursive_256,recursive,256,32,served\n", encoding="utf-8")
    shipped = settings(tmp_path)
    seeds = {**shipped.seeds, "chunking_strategies": (str(strategies), "seeds/chunking_strategies.csv")}
    assert problems(dataclasses.replace(shipped, seeds=seeds)) == [
        "seeds/chunking_strategies.csv: missing column min_chunk_tokens: expected the fewest word pieces of a chunk "
        "(e.g. 20; 0: no merging of short chunks) in every row"
    ]
