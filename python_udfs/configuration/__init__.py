"""The configuration check of the on-run-start hook (macros/validate_configuration.sql).

Every var and every row of the seeds a user edits is checked before anything is built, cheaply
(files are read, the tokenizer is loaded for the model's maximum sequence length, the embedding
model is not), so a mistake fails the build in seconds with one line that names the var or the
seed row and the allowed values, instead of a green build with an empty index or a traceback
deep inside a model.

Two DuckDB UDFs (registered by python_udfs.plugin):

* ``docvec_configuration_var_names(project_file)``: the vars declared in dbt_project.yml, which
  the hook resolves with dbt's `var()`;
* ``docvec_configuration_errors(settings_json)``: one line per problem (none when all is well),
  given the resolved vars, the vars given on the command line, the landing folder, the model path
  and the seed files (see `Settings`).

The rules live in `rules` (vars) and `seeds` (seed rows); `warehouse` removes a warehouse file
the failed build created.
"""

from __future__ import annotations

import csv
import difflib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..tokens import load_tokenizer
from .rules import VAR_RULES, check_vars, var_problem
from .seeds import (
    STRATEGY_COLUMNS,
    SeedFile,
    TokenLimits,
    check_access_rules,
    check_chunking_strategies,
    check_serving_strategy,
    min_chunk_tokens_problems,
    missing_columns,
    read_seed,
    strategy_ids,
)
from .warehouse import NewWarehouse

__all__ = ["VAR_RULES", "NewWarehouse", "Settings", "configuration_errors", "problems", "var_names"]

CHUNKING_SEED = "chunking_strategies"
ACCESS_RULES_SEED = "access_rules"
LANDING_DEFAULTS = "var source_path, else env DOCVEC_SOURCE_PATH, else sample_docs"


@dataclass(frozen=True)
class Settings:
    """What the hook passes: resolved vars, --vars, declared names, landing folder, model, seeds.

    `seeds` maps a seed name to (path of its CSV file, its path relative to the project).
    """

    vars: Mapping[str, Any]
    cli_vars: Mapping[str, Any] = field(default_factory=dict)
    declared_vars: Sequence[str] = ()
    landing_folder: str = ""
    model_path: str = ""
    seeds: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def from_json(cls, text: str) -> Settings:
        data = json.loads(text)
        seeds = {name: (str(seed["path"]), str(seed["name"])) for name, seed in (data.get("seeds") or {}).items()}
        return cls(
            vars=data.get("vars") or {},
            cli_vars=data.get("cli_vars") or {},
            declared_vars=tuple(data.get("declared_vars") or ()),
            landing_folder=str(data.get("landing_folder") or ""),
            model_path=str(data.get("model_path") or ""),
            seeds=seeds,
        )


def var_names(project_file: str | None) -> list[str]:
    """The vars declared in the `vars:` block of the dbt_project.yml at `project_file`."""
    with open(project_file or "dbt_project.yml", encoding="utf-8") as handle:
        project = yaml.safe_load(handle) or {}
    declared = project.get("vars") or {}
    names = [name for name, value in declared.items() if not (name == project.get("name") and isinstance(value, dict))]
    scoped = declared.get(project.get("name"))
    return names + (list(scoped) if isinstance(scoped, dict) else [])


def unknown_vars(cli_vars: Mapping[str, Any], declared: Sequence[str]) -> list[str]:
    """A line per var given with --vars that the project does not declare (a typo is ignored by dbt)."""
    problems = []
    for name in cli_vars:
        if name in declared:
            continue
        close = difflib.get_close_matches(name, declared, n=1)
        hint = f"did you mean {close[0]}?" if close else "expected one of the vars of dbt_project.yml"
        problems.append(f"var {name} (from --vars) is not a docvec var: {hint}")
    return problems


def token_limits(model_path: str) -> tuple[TokenLimits | None, list[str]]:
    """The model's token limits from its tokenizer (not the model), or the line saying why not."""
    try:
        tokenizer = load_tokenizer(model_path or None)
    except (OSError, ValueError) as error:
        expected = "null (the bundled model) or a local sentence-transformers folder with a tokenizer.json"
        return None, [f"{var_problem('embedding_model_path', model_path, expected)} ({error})"]
    return TokenLimits(tokenizer.max_seq_length, tokenizer.n_special_tokens), []


def path_problems(settings: Settings) -> list[str]:
    """The landing folder exists and the golden questions file, when named, is a file."""
    problems = []
    folder = settings.landing_folder
    if not os.path.isdir(folder):
        what = "is not a folder" if os.path.exists(folder) else "does not exist"
        absolute = os.path.abspath(folder)
        named = repr(folder) if absolute == folder else f"{folder!r} ({absolute})"
        problems.append(
            f"var source_path: the landing folder {named} {what}: "
            f"expected an existing folder of documents ({LANDING_DEFAULTS})"
        )
    questions = settings.vars.get("golden_questions_path")
    if isinstance(questions, str) and questions and not os.path.isfile(questions):
        problems.append(
            var_problem("golden_questions_path", questions, "null (the bundled seed) or an existing CSV file")
        )
    return problems


def read(path: str, name: str) -> SeedFile | str:
    """The seed file, or the line saying why it cannot be read."""
    try:
        return read_seed(path, name)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        return f"{name} cannot be read ({error}): expected a UTF-8 CSV file with a header row"


def seed_problems(settings: Settings, limits: TokenLimits | None) -> list[str]:
    """The chunking strategies (and serving_strategy among them) and the access rules."""
    if CHUNKING_SEED not in settings.seeds:
        return [f"seed {CHUNKING_SEED} is missing: expected seeds/{CHUNKING_SEED}.csv"]
    strategies = read(*settings.seeds[CHUNKING_SEED])
    if isinstance(strategies, str):
        return [strategies]
    problems = check_chunking_strategies(strategies, limits)
    if not missing_columns(strategies, STRATEGY_COLUMNS):
        serving = settings.vars.get("serving_strategy")
        problems += check_serving_strategy(serving, strategy_ids(strategies), strategies.name)
        problems += min_chunk_tokens_problems(strategies)
    if ACCESS_RULES_SEED in settings.seeds:
        rules = read(*settings.seeds[ACCESS_RULES_SEED])
        problems += [rules] if isinstance(rules, str) else check_access_rules(rules)
    return problems


def problems(settings: Settings) -> list[str]:
    """Every configuration problem, one line each; empty when the build may start."""
    found = unknown_vars(settings.cli_vars, settings.declared_vars or list(settings.vars))
    found += check_vars(settings.vars)
    found += path_problems(settings)
    limits, model_problems = token_limits(settings.model_path)
    found += model_problems
    return found + seed_problems(settings, limits)


def configuration_errors(settings_json: str | None) -> list[str]:
    """DuckDB UDF ``docvec_configuration_errors``: `problems` of the settings the hook passes as JSON."""
    return problems(Settings.from_json(settings_json or "{}"))
