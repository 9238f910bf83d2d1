"""Embedding of chunk texts with sentence-transformers, loaded offline from a local folder.

Two modules, one concern each:

- `backends`: loading the model (once per process) with the `torch`, `onnx` or `onnx-int8`
  backend (var `embedding_backend`), the ONNX export cache under `$DOCVEC_CACHE_DIR`, inference
  threads, and the model id stored with vectors (`effective_model_id`), so vectors of different
  backends never mix in the embedding cache.
- `streaming`: embedding texts in batches bounded by a word-piece budget (`embed_texts`), and
  streaming Arrow record batches of vectors to DuckDB (`embedding_batches`) with progress logged
  through dbt, so memory stays bounded by one batch whatever the corpus size.

Everything public is importable from here: `from python_udfs.embedding import embed_texts, load_model`.
"""

from __future__ import annotations

from ..tokens import DEFAULT_MODEL_ID
from .backends import (
    BACKENDS,
    CACHE_DIR_ENV,
    EXPORT_MARKER,
    ONNX_FILE,
    STALE_TEMP_SECONDS,
    THREADS_ENV,
    cache_root,
    check_backend,
    cpu_flags,
    cpu_threads,
    effective_model_id,
    ensure_onnx_export,
    int8_file_name,
    int8_quantization_config,
    load_model,
    model_fingerprint,
    onnx_cache_dir,
)
from .streaming import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_BATCH_TOKENS,
    READ_STEP,
    Progress,
    current_invocation_id,
    dbt_logger,
    embed_texts,
    embedding_batches,
    embedding_dimension,
    output_schema,
    token_lengths,
)

__all__ = [
    "BACKENDS",
    "CACHE_DIR_ENV",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MAX_BATCH_TOKENS",
    "DEFAULT_MODEL_ID",
    "EXPORT_MARKER",
    "ONNX_FILE",
    "READ_STEP",
    "STALE_TEMP_SECONDS",
    "THREADS_ENV",
    "Progress",
    "cache_root",
    "check_backend",
    "cpu_flags",
    "cpu_threads",
    "current_invocation_id",
    "dbt_logger",
    "effective_model_id",
    "embed_texts",
    "embedding_batches",
    "embedding_dimension",
    "ensure_onnx_export",
    "int8_file_name",
    "int8_quantization_config",
    "load_model",
    "model_fingerprint",
    "onnx_cache_dir",
    "output_schema",
    "token_lengths",
]
