"""dbt-duckdb plugin: loads the vss/fts extensions from their pip packages and registers UDFs.

Enabled in `profiles.yml` (`plugins: [{module: python_udfs.plugin}]`); every connection dbt opens
gets the same functions, so SQL models call Python parsing, cleaning and chunking by name.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin

from . import (
    boilerplate_lines,
    chunking,
    cleaning,
    configuration,
    fts_text,
    interrupts,
    landing,
    parsing,
    redaction,
    warehouse_access,
)
from .embedding.backends import effective_model_id
from .tokens import load_tokenizer

# pypdf reports recoverable damage through logging; the parse result already carries it.
logging.getLogger("pypdf").setLevel(logging.ERROR)

PARSE_RETURN = (
    "STRUCT(records STRUCT(record_key VARCHAR, title VARCHAR, text VARCHAR, metadata VARCHAR)[], "
    "reason VARCHAR, detail VARCHAR)"
)
PII_RETURN = "STRUCT(text VARCHAR, findings STRUCT(entity_type VARCHAR, start_char INTEGER, end_char INTEGER)[])"
FINDINGS_RETURN = "STRUCT(entity_type VARCHAR, start_char INTEGER, end_char INTEGER)[]"
CHUNK_RETURN = (
    "STRUCT(chunk_index INTEGER, start_char INTEGER, end_char INTEGER, chunk_text VARCHAR, "
    "n_tokens INTEGER, section VARCHAR)[]"
)


def extension_path(name: str) -> Path:
    """The extension file shipped by the `duckdb-extension-<name>` pip package for this DuckDB."""
    import importlib

    package = importlib.import_module(f"duckdb_extension_{name}")
    root = Path(str(package.__file__)).parent / "extensions" / f"v{duckdb.__version__}"
    path = root / f"{name}.duckdb_extension"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: install duckdb-extension-{name}=={duckdb.__version__} "
            "(extensions are loaded from pip packages, never downloaded)"
        )
    return path


def load_extensions(conn: duckdb.DuckDBPyConnection, names: tuple[str, ...] = ("vss", "fts")) -> None:
    for name in names:
        conn.execute(f"load '{extension_path(name)}'")


def parse_udf(source_path: str | None, content: bytes | None, options_json: str | None) -> dict[str, Any]:
    """DuckDB wrapper of `parsing.parse_document`: records as a list of structs, never raises."""
    fields: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(options_json or "{}").items() if v is not None
    }
    options = parsing.ParseOptions(**fields)
    result = parsing.parse_document(source_path or "", bytes(content or b""), options)
    return {
        "records": [
            {
                "record_key": r.record_key,
                "title": r.title,
                "text": r.text,
                "metadata": json.dumps(r.metadata, ensure_ascii=False, sort_keys=True, default=str),
            }
            for r in result.records
        ],
        "reason": result.reason,
        "detail": result.detail,
    }


def pii_udf(text: str | None, mode: str | None, policy_json: str | None) -> dict[str, Any] | None:
    """DuckDB wrapper of `redaction.apply_pii_mode` (``docvec_pii``): the stored text and its findings.

    `policy_json` is the per-type policy and allow-lists (macros/pii_policy_json.sql; NULL: every
    type redacted). Spans are 0-based, end exclusive, in the returned text (a placeholder's, or a
    flagged value's), so they point into the text the documents table stores. A mode other than
    redact, flag or off, or an invalid policy, raises.
    """
    result = redaction.apply_pii_mode(text, mode, redaction.parse_policy(policy_json))
    if result is None:
        return None
    output, findings = result
    return {"text": output, "findings": _spans(findings)}


def _spans(findings: list[redaction.Finding]) -> list[dict[str, Any]]:
    return [{"entity_type": f.entity_type, "start_char": f.start, "end_char": f.end} for f in findings]


def find_pii_udf(text: str | None, policy_json: str | None) -> list[dict[str, Any]]:
    """DuckDB wrapper of `redaction.masked_findings` (``docvec_find_pii``, the no_pii_detected test):
    spans in `text` of the findings `policy_json` redacts (NULL: every finding)."""
    return _spans(redaction.masked_findings(text or "", redaction.parse_policy(policy_json)))


def chunk_udf(
    text: str | None,
    file_type: str | None,
    method: str,
    max_tokens: int,
    overlap_tokens: int,
    min_chunk_tokens: int,
    model_path: str | None,
) -> list[dict[str, Any]]:
    if max_tokens is None or overlap_tokens is None or min_chunk_tokens is None:
        raise ValueError("docvec_chunk: max_tokens, overlap_tokens and min_chunk_tokens must not be NULL")
    tokenizer = load_tokenizer(model_path or None)
    chunks = chunking.chunk_text(
        text or "",
        tokenizer,
        method=method,
        max_tokens=max_tokens,
        overlap_tokens=overlap_tokens,
        file_type=file_type,
        min_chunk_tokens=min_chunk_tokens,
    )
    return [
        {
            "chunk_index": c.chunk_index,
            "start_char": c.start_char,
            "end_char": c.end_char,
            "chunk_text": c.text,
            "n_tokens": c.n_tokens,
            "section": c.section,
        }
        for c in chunks
    ]


def count_tokens_udf(text: str | None, model_path: str | None) -> int:
    return load_tokenizer(model_path or None).count(text or "")


def max_seq_length_udf(model_path: str | None) -> int:
    return load_tokenizer(model_path or None).max_seq_length


def embed_query_udf(text: str | None, model_path: str | None, backend: str | None) -> list[float]:
    from .embedding import embed_texts, load_model

    model = load_model(model_path or None, backend or "torch")
    return embed_texts(model, [text or ""])[0].tolist()


def register_udfs(conn: duckdb.DuckDBPyConnection) -> None:
    """Register docvec's functions on a DuckDB connection (also usable outside dbt)."""
    special: dict[str, Any] = {"null_handling": "special", "side_effects": False}
    conn.create_function(
        "docvec_list_files",
        landing.list_files_udf,
        ["VARCHAR", "BOOLEAN", "VARCHAR", "VARCHAR"],
        landing.LIST_RETURN,
        **special,
    )
    conn.create_function("docvec_read_file", landing.read_file, ["VARCHAR", "BIGINT"], landing.READ_RETURN, **special)
    conn.create_function("docvec_file_type", parsing.detect_file_type, ["VARCHAR"], "VARCHAR", **special)
    conn.create_function("docvec_parse", parse_udf, ["VARCHAR", "BLOB", "VARCHAR"], PARSE_RETURN, **special)
    conn.create_function("docvec_clean", cleaning.clean_text, ["VARCHAR"], "VARCHAR", **special)
    conn.create_function(fts_text.FUNCTION_NAME, fts_text.fts_text, ["VARCHAR"], "VARCHAR", **special)
    conn.create_function("docvec_line_hashes", boilerplate_lines.line_hashes, ["VARCHAR"], "VARCHAR[]", **special)
    conn.create_function(
        "docvec_remove_lines",
        boilerplate_lines.remove_lines_udf,
        ["VARCHAR", "VARCHAR[]"],
        boilerplate_lines.REMOVE_RETURN,
        **special,
    )
    conn.create_function(
        "docvec_chunk",
        chunk_udf,
        ["VARCHAR", "VARCHAR", "VARCHAR", "INTEGER", "INTEGER", "INTEGER", "VARCHAR"],
        CHUNK_RETURN,
        **special,
    )
    conn.create_function("docvec_chunker_version", chunking.chunker_version, [], "VARCHAR", **special)
    conn.create_function("docvec_pii", pii_udf, ["VARCHAR", "VARCHAR", "VARCHAR"], PII_RETURN, **special)
    conn.create_function("docvec_find_pii", find_pii_udf, ["VARCHAR", "VARCHAR"], FINDINGS_RETURN, **special)
    conn.create_function("docvec_count_tokens", count_tokens_udf, ["VARCHAR", "VARCHAR"], "INTEGER", **special)
    conn.create_function("docvec_max_seq_length", max_seq_length_udf, ["VARCHAR"], "INTEGER", **special)
    conn.create_function("docvec_embed_query", embed_query_udf, ["VARCHAR", "VARCHAR", "VARCHAR"], "FLOAT[]", **special)
    conn.create_function("docvec_effective_model_id", effective_model_id, ["VARCHAR", "VARCHAR"], "VARCHAR")
    conn.create_function("docvec_configuration_var_names", configuration.var_names, ["VARCHAR"], "VARCHAR[]", **special)
    conn.create_function(
        "docvec_configuration_errors", configuration.configuration_errors, ["VARCHAR"], "VARCHAR[]", **special
    )


def configure(conn: duckdb.DuckDBPyConnection) -> None:
    load_extensions(conn)
    register_udfs(conn)


class Plugin(BasePlugin):
    """Registers docvec's UDFs and loads vss/fts on every connection dbt opens; explains in one
    line a warehouse dbt cannot open (locked by another process, damaged); lets SIGINT/SIGTERM
    stop a build cleanly (python_udfs.interrupts)."""

    # Whether this process created the warehouse file, noted before dbt-duckdb first opens it
    # (macros/validate_configuration.sql deletes a new, empty one when the configuration is wrong).
    new_warehouse: configuration.NewWarehouse

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        interrupts.watch_dbt_events()

    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        if not hasattr(self, "new_warehouse"):
            self.new_warehouse = configuration.NewWarehouse()
        self.new_warehouse.note(str(creds.path))
        # Before dbt-duckdb opens the file: a RuntimeError here is dbt's one-line "Database Error",
        # where DuckDB's own error would be a chain of stack traces.
        warehouse_access.check_openable(str(creds.path), config)

    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        configure(conn)
        if hasattr(self, "new_warehouse"):
            effects: dict[str, Any] = {"null_handling": "special", "side_effects": True}
            discard = self.new_warehouse.discard
            conn.create_function("docvec_discard_new_warehouse", discard, ["BIGINT"], "BOOLEAN", **effects)
