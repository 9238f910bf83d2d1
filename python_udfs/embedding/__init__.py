"""Embedding of chunk texts with sentence-transformers, loaded offline from a local folder.

Two modules, one concern each:

- `backends`: loading the model (once per process) with the `torch`, `onnx` or `onnx-int8`
  backend (var `embedding_backend`), the ONNX export cache under `$DOCVEC_CACHE_DIR`, inference
  threads, and the model id stored with vectors (`effective_model_id`), so vectors of different
  backends never mix in the embedding cache.
- `streaming`: embedding texts in batches bounded by a word-piece budget (`embed_texts`), and
  streaming Arrow record batches of vectors to DuckDB (`embedding_batches`) with progress logged
  through dbt, so memory stays bounded by one batch whatever the corpus size.

`embedding_backend: openai` embeds through an OpenAI-compatible API instead, one concern per
module: `openai_api` (settings, the HTTP client: retries, validation), `api_requests` (token
bound, request sizing), `api_embedder` (the model object `load_model` returns: concurrency),
`journal` (vectors durable per response), `api_streaming` (journal first, then stream) and
`api_stats` (the build's counters, for pipeline_runs).

Everything public is importable from here: `from python_udfs.embedding import embed_texts, load_model`.
"""

from __future__ import annotations

from ..tokens import DEFAULT_MODEL_ID
from .api_embedder import ApiEmbedder, InputTooLongError
from .api_requests import TOKEN_BOUND_OVERHEAD, plan_requests, token_bound
from .api_stats import STATS_TABLE, ApiStats, record_stats
from .api_streaming import FillResult, api_embedding_batches, fill_journal, journal_batches
from .backends import (
    API_BACKENDS,
    BACKENDS,
    CACHE_DIR_ENV,
    EXPORT_MARKER,
    LOCAL_BACKENDS,
    ONNX_FILE,
    STALE_TEMP_SECONDS,
    THREADS_ENV,
    backend_of_model_id,
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
from .journal import Journal, journal_path
from .openai_api import (
    ApiConfigurationError,
    ApiSettings,
    EmbeddingApiError,
    EmbeddingClient,
    MalformedResponseError,
    settings_from_config,
)
from .streaming import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_BATCH_TOKENS,
    READ_STEP,
    Progress,
    current_invocation_id,
    dbt_logger,
    embed_queries,
    embed_texts,
    embedding_batches,
    embedding_dimension,
    output_schema,
    token_lengths,
)

__all__ = [
    "API_BACKENDS",
    "BACKENDS",
    "LOCAL_BACKENDS",
    "STATS_TABLE",
    "TOKEN_BOUND_OVERHEAD",
    "ApiConfigurationError",
    "ApiEmbedder",
    "ApiSettings",
    "ApiStats",
    "EmbeddingApiError",
    "EmbeddingClient",
    "FillResult",
    "InputTooLongError",
    "Journal",
    "MalformedResponseError",
    "api_embedding_batches",
    "fill_journal",
    "journal_batches",
    "journal_path",
    "plan_requests",
    "record_stats",
    "settings_from_config",
    "token_bound",
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
    "backend_of_model_id",
    "cache_root",
    "check_backend",
    "cpu_flags",
    "cpu_threads",
    "current_invocation_id",
    "dbt_logger",
    "effective_model_id",
    "embed_queries",
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
