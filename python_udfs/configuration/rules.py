"""One rule per dbt var of dbt_project.yml: what values it takes, said in words when it is broken.

A rule is a function of the var's value that returns None when the value is allowed, else the
allowed values in words ("an integer >= 1", "one of torch, onnx, onnx-int8"), which the
configuration check turns into one line naming the var. Where the allowed values are Python
constants (embedding backends, PII modes) the rule uses the constant, never a copy.
Every var declared in dbt_project.yml has a rule here (tests/python/test_configuration_rules.py).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeGuard

from ..embedding.backends import API_BACKENDS, BACKENDS
from ..parsing.results import OCR_MODES, PDF_PARSERS
from ..redaction.entities import ENTITY_TYPES
from ..redaction.policy import PII_ACTIONS
from ..redaction.spans import PII_MODES
from .publish_targets import publish_targets

# The values of var access_mode; models/intermediate/int_documents_access_resolved.sql branches on
# them (tests/python/test_configuration_rules.py keeps the two equal).
ACCESS_MODES = ("enforce", "open")

Rule = Callable[[Any], str | None]


def is_number(value: Any) -> TypeGuard[int | float]:
    """An int or float that is finite (booleans are not numbers here)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def integer(minimum: int, maximum: int | None = None) -> Rule:
    """An integer in [minimum, maximum]."""
    expected = f"an integer >= {minimum}" if maximum is None else f"an integer from {minimum} to {maximum}"

    def rule(value: Any) -> str | None:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= minimum
        return None if ok and (maximum is None or value <= maximum) else expected

    return rule


def number(minimum: float, *, strict: bool = False, maximum: float | None = None) -> Rule:
    """A finite number >= minimum (> minimum when `strict`), at most `maximum`."""
    low = f"> {minimum:g}" if strict else f">= {minimum:g}"
    expected = f"a finite number {low}" + ("" if maximum is None else f" and <= {maximum:g}")

    def rule(value: Any) -> str | None:
        if not is_number(value):
            return expected
        low_ok = value > minimum if strict else value >= minimum
        return None if low_ok and (maximum is None or value <= maximum) else expected

    return rule


def boolean(value: Any) -> str | None:
    """true or false."""
    return None if isinstance(value, bool) else "true or false"


def text(value: Any) -> str | None:
    """A non-empty string."""
    return None if isinstance(value, str) and value.strip() else "a non-empty string"


def optional_text(value: Any) -> str | None:
    """null or a non-empty string."""
    return None if value is None or text(value) is None else "null or a non-empty string"


def choice(values: Sequence[str]) -> Rule:
    """One of `values`."""
    expected = "one of " + ", ".join(values)
    return lambda value: None if isinstance(value, str) and value in values else expected


def pii_mode(value: Any) -> str | None:
    """One of PII_MODES; YAML reads a bare `off` as false, which means off."""
    return choice(PII_MODES)("off" if value is False else value)


def ocr_mode(value: Any) -> str | None:
    """One of OCR_MODES; YAML reads a bare `off` as false, which means off."""
    return choice(OCR_MODES)("off" if value is False else value)


def texts(*, at_least: int = 0, single: bool = False, optional: bool = False) -> Rule:
    """A list of non-empty strings (at least `at_least`); `single`: one string is accepted too."""
    expected = "a list of non-empty strings" if at_least == 0 else f"a list of at least {at_least} non-empty string"
    if single:
        expected += " (or one string)"
    if optional:
        expected = "null or " + expected

    def rule(value: Any) -> str | None:
        if value is None and optional:
            return None
        if single and isinstance(value, str):
            value = [value]
        ok = isinstance(value, list) and len(value) >= at_least and all(text(item) is None for item in value)
        return None if ok else expected

    return rule


def pii_policy(value: Any) -> str | None:
    """A mapping of entity types to PII actions (an empty mapping redacts every type)."""
    ok = isinstance(value, dict) and all(k in ENTITY_TYPES and v in PII_ACTIONS for k, v in value.items())
    return None if ok else f"a mapping of entity types ({', '.join(ENTITY_TYPES)}) to {' | '.join(PII_ACTIONS)}"


def patterns(value: Any) -> str | None:
    """A list of valid Python regular expressions."""
    expected = "a list of valid Python regular expressions"
    if not isinstance(value, list) or any(text(item) is not None for item in value):
        return expected
    for item in value:
        try:
            re.compile(item)
        except re.error as error:
            return f"{expected} ({item!r}: {error})"
    return None


def optional_integer(minimum: int) -> Rule:
    """null or an integer >= minimum."""
    inner = integer(minimum)
    return lambda value: None if value is None or inner(value) is None else f"null or {inner(value)}"


def optional_url(value: Any) -> str | None:
    """null or an http(s) URL."""
    ok = value is None or (
        isinstance(value, str) and re.fullmatch(r"https?://[^\s/]+(/\S*)?", value.strip()) is not None
    )
    return None if ok else "null or an http:// or https:// URL (e.g. https://api.openai.com/v1)"


def env_var_name(value: Any) -> str | None:
    """The name of an environment variable (the value itself is never configured)."""
    ok = isinstance(value, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value) is not None
    return None if ok else "the name of an environment variable (letters, digits, _), e.g. OPENAI_API_KEY"


def fraction(value: Any) -> str | None:
    """A number in [0, 1]."""
    return number(0, maximum=1)(value)


VAR_RULES: dict[str, Rule] = {
    # landing zone
    "source_path": optional_text,
    "include_globs": texts(at_least=1, single=True),
    "exclude_globs": texts(single=True),
    "max_file_size_bytes": integer(1),
    "source_allowed_roots": texts(single=True, optional=True),
    "include_hidden": boolean,
    "secret_path_globs": texts(single=True, optional=True),
    "freshness_warn_after_hours": integer(1),
    "freshness_error_after_hours": integer(1),
    "allow_empty": boolean,
    # parsing
    "json_text_fields": texts(),
    "json_id_fields": texts(),
    "json_title_fields": texts(),
    "encoding_min_confidence": fraction,
    "pdf_parser": choice(PDF_PARSERS),
    "ocr": ocr_mode,
    "ocr_min_confidence": number(0, maximum=100),
    "max_sheet_rows": integer(1, 1_000_000),
    "boilerplate_min_share": fraction,
    "boilerplate_min_documents": integer(2),
    # chunking (serving_strategy is also checked against the seed's strategy ids)
    "serving_strategy": text,
    "min_text_coverage": number(0, strict=True, maximum=1),
    # embedding
    "embedding_model_id": text,
    "embedding_model_path": optional_text,
    "embedding_backend": choice(BACKENDS),
    "embedding_batch_size": integer(1),
    "embedding_max_batch_tokens": integer(0),
    "embedding_dimension": integer(1),
    "embedding_cache_retention_days": integer(0),
    "embedding_api_base_url": optional_url,
    "embedding_api_model": optional_text,
    "embedding_api_dimensions": optional_integer(1),
    "embedding_api_key_env": env_var_name,
    "embedding_api_max_input_tokens": integer(1),
    "embedding_api_max_request_tokens": integer(1),
    "embedding_api_max_texts_per_request": integer(1),
    "embedding_api_concurrency": integer(1, 64),
    "embedding_api_timeout_seconds": number(0, strict=True),
    "embedding_api_max_retries": integer(0, 20),
    # privacy and access
    "pii_mode": pii_mode,
    "pii_policy": pii_policy,
    "pii_allow_patterns": patterns,
    "pii_allow_values": texts(),
    "access_mode": choice(ACCESS_MODES),
    "access_admin_group": text,
    "default_access_groups": texts(),
    # evaluation and search
    "golden_questions_path": optional_text,
    "eval_dataset": text,
    "hybrid_vector_weight": number(0),
    "hybrid_keyword_weight": number(0),
    "hybrid_rrf_k": integer(1),
    "hybrid_candidates": integer(1),
    "search_vector_index": boolean,
    "hnsw_m": integer(2),
    "hnsw_ef_construction": integer(1),
    "hnsw_ef_search": integer(1),
    "eval_min_recall_at_5": fraction,
    "eval_min_ndcg_at_10": fraction,
    # Load (publishing)
    "publish_targets": publish_targets,
    "publish_keep": integer(1),
    "publish_freshness_warn_after_hours": integer(1),
    "publish_freshness_error_after_hours": integer(1),
}


def shown(value: Any) -> str:
    """A var's value as a user would write it in YAML (null, true, 'text', [..])."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def var_problem(name: str, value: Any, expected: str) -> str:
    """The one line that names a var, its value and what is allowed."""
    return f"var {name} = {shown(value)}: expected {expected}"


def check_vars(values: Mapping[str, Any]) -> list[str]:
    """A line for every var whose value its rule rejects, then for the rules across vars."""
    problems = []
    for name, value in values.items():
        rule = VAR_RULES.get(name)
        expected = rule(value) if rule is not None else None
        if expected is not None:
            problems.append(var_problem(name, value, expected))
    return problems or cross_var_problems(values)


def cross_var_problems(values: Mapping[str, Any]) -> list[str]:
    """Rules between vars, checked once every var is valid on its own."""
    problems = []
    warn, error = values.get("freshness_warn_after_hours"), values.get("freshness_error_after_hours")
    if is_number(warn) and is_number(error) and warn > error:
        problems.append(
            var_problem("freshness_warn_after_hours", warn, f"at most freshness_error_after_hours ({error})")
        )
    if values.get("hybrid_vector_weight") == 0 and values.get("hybrid_keyword_weight") == 0:
        problems.append(
            "vars hybrid_vector_weight and hybrid_keyword_weight are both 0: expected at least one weight > 0"
        )
    return problems + embedding_api_problems(values)


def embedding_api_problems(values: Mapping[str, Any]) -> list[str]:
    """With embedding_backend openai, embedding_api_dimensions (when set) is embedding_dimension
    and the model id names it (`name@512`), so vectors of two lengths never share a model id."""
    dimensions = values.get("embedding_api_dimensions")
    if dimensions is None or values.get("embedding_backend") not in API_BACKENDS:
        return []
    problems = []
    dimension = values.get("embedding_dimension")
    if dimension != dimensions:
        problems.append(
            var_problem("embedding_api_dimensions", dimensions, f"equal to embedding_dimension ({dimension})")
        )
    model_id = values.get("embedding_model_id")
    if not (isinstance(model_id, str) and model_id.endswith(f"@{dimensions}")):
        problems.append(
            var_problem(
                "embedding_model_id", model_id, f"a model id ending in @{dimensions} (embedding_api_dimensions)"
            )
        )
    return problems
