"""The embedding cache: one L2-normalised vector per (text_sha256, model_id).

Incremental: each build embeds only the chunk texts that have no vector yet for the configured
model, so a text shared by documents or strategies is embedded once and an unchanged document
costs nothing. Texts stream from DuckDB in record batches and vectors stream back, so memory
stays bounded by one batch.

SIGINT or SIGTERM during a build (python_udfs.interrupts) stops the stream before its next
forward pass; the vectors already computed are written as usual, so a stopped build keeps them
and the next one embeds only the rest.

embedding_backend openai (README "Embedding through an API"): the texts are sent to an
OpenAI-compatible endpoint, each response committed to the embedding journal
(python_udfs.embedding.journal) as it arrives; the journal is read first, so a killed or failed
build costs only its requests in flight. The vectors then stream from the journal. The build's
counters (requests, retries, tokens) go to the side table embedding_api_runs, read by
pipeline_runs (python_udfs.embedding.api_stats).

dbt-duckdb's incremental materialization writes a Python model's new rows to a table
`<model>__dbt_tmp<timestamp>` and never drops it (it takes the table for a temporary one, but
`py_write_table` creates a plain table): the post-hook drops it, in the model's transaction.
"""

import pyarrow as pa

from python_udfs.embedding import (
    API_BACKENDS,
    READ_STEP,
    ApiStats,
    Journal,
    Progress,
    current_invocation_id,
    dbt_logger,
    effective_model_id,
    embedding_batches,
    embedding_dimension,
    fill_journal,
    journal_batches,
    load_model,
    output_schema,
    record_stats,
    settings_from_config,
)
from python_udfs.interrupts import stop_reason


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        incremental_strategy="append",
        unique_key=["text_sha256", "model_id"],
        # Drops every `embeddings__dbt_tmp...` table of the model's schema: this build's and any an
        # older build left. dbt renders this file with Jinja before it reads the config, so the
        # hook's Jinja openers are split ("{" "%") to pass that rendering untouched.
        post_hook=(
            "{"
            "% if execute %"
            "}{"
            '% for row in run_query("select table_name from information_schema.tables '
            "where table_catalog = '\" ~ this.database ~ \"' and table_schema = '\" ~ this.schema ~ \"' "
            'and starts_with(table_name, \'" ~ this.identifier ~ "__dbt_tmp\')").rows %'
            "}"
            "drop table if exists {"
            "{ this.incorporate(path={'identifier': row[0]}) }"
            "};"
            "{"
            "% endfor %"
            "}{"
            "% endif %"
            "}"
        ),
    )
    backend = dbt.config.get("embedding_backend")
    model_path = dbt.config.get("embedding_model_path")
    batch_size = int(dbt.config.get("embedding_batch_size"))
    max_batch_tokens = int(dbt.config.get("embedding_max_batch_tokens")) or None
    dimension = int(dbt.config.get("embedding_dimension"))
    invocation_id = current_invocation_id()
    model_id = effective_model_id(dbt.config.get("embedding_model_id"), backend)
    quoted_model_id = model_id.replace("'", "''")

    already_embedded = ""
    if dbt.is_incremental:
        already_embedded = (
            f"where text_sha256 not in (select text_sha256 from {dbt.this} where model_id = '{quoted_model_id}')"
        )
    pending = dbt.ref("chunks").query(
        "docvec_chunks",
        "select text_sha256, min(chunk_text) as chunk_text from docvec_chunks "
        f"{already_embedded} group by text_sha256 order by text_sha256",
    )
    total = pending.aggregate("count(*)").fetchone()[0]

    log = dbt_logger()
    if total == 0:
        # Nothing new: do not pay for loading the model.
        log(f"embeddings: 0 texts to embed with {model_id}; every chunk text already has a vector")
        return pa.Table.from_batches([], schema=output_schema(dimension))
    if stop_reason() is not None:
        log(f"embeddings: stopped by {stop_reason()} before embedding; {total:,} texts are left for the next build")
        return pa.Table.from_batches([], schema=output_schema(dimension))
    if backend in API_BACKENDS:
        return _embed_through_api(dbt, session, pending, total, model_id, dimension, invocation_id, log)
    embedder = load_model(model_path or None, backend)
    reader = pending.to_arrow_reader(READ_STEP)
    batches = embedding_batches(
        reader,
        embedder,
        model_id=model_id,
        total=total,
        batch_size=batch_size,
        max_batch_tokens=max_batch_tokens,
        invocation_id=invocation_id,
        log=log,
        stop_reason=stop_reason,
    )
    return pa.RecordBatchReader.from_batches(output_schema(embedding_dimension(embedder)), batches)


def _api_config(dbt):
    """The embedding_api_* config: the vars, through the model's YAML config (literal calls:
    dbt reads them to know which keys to pass). A key not configured is None, and
    settings_from_config falls back to env DOCVEC_EMBEDDING_API_* and the defaults."""
    return {
        "embedding_api_base_url": dbt.config.get("embedding_api_base_url"),
        "embedding_api_model": dbt.config.get("embedding_api_model"),
        "embedding_api_dimensions": dbt.config.get("embedding_api_dimensions"),
        "embedding_api_key_env": dbt.config.get("embedding_api_key_env"),
        "embedding_api_max_input_tokens": dbt.config.get("embedding_api_max_input_tokens"),
        "embedding_api_max_request_tokens": dbt.config.get("embedding_api_max_request_tokens"),
        "embedding_api_max_texts_per_request": dbt.config.get("embedding_api_max_texts_per_request"),
        "embedding_api_concurrency": dbt.config.get("embedding_api_concurrency"),
        "embedding_api_timeout_seconds": dbt.config.get("embedding_api_timeout_seconds"),
        "embedding_api_max_retries": dbt.config.get("embedding_api_max_retries"),
    }


def _embed_through_api(dbt, session, pending, total, model_id, dimension, invocation_id, log):
    """Journal first (every response committed as it arrives), then stream from the journal."""
    settings = settings_from_config(_api_config(dbt), dbt.config.get("embedding_model_id"), dimension)
    embedder = load_model(None, "openai", api=settings)
    journal = Journal.for_model(model_id, dimension)
    stats = ApiStats()
    try:
        log(
            f"embeddings: {total:,} texts to embed with {model_id} ({dimension}-d) through {settings.endpoint}, "
            f"at most {settings.concurrency} requests at a time; journal {journal.path}"
        )
        result = fill_journal(
            pending.to_arrow_reader(READ_STEP),
            embedder,
            journal,
            stats,
            progress=Progress(total, log),
            log=log,
            stop_reason=stop_reason,
        )
        if result.complete:
            journal.prune_except_marked()
        result.raise_for_too_long(embedder)
        log(
            f"embeddings: {stats.texts_sent:,} texts embedded in {stats.requests:,} requests "
            f"({stats.retries:,} retries, "
            f"{stats.tokens:,} tokens{' (estimated)' if stats.tokens_estimated else ''}), "
            f"{stats.texts_from_journal:,} from the journal"
        )
        schema_sql = f'"{dbt.this.database}"."{dbt.this.schema}"'
        record_stats(session, schema_sql, invocation_id, model_id, stats)
    except BaseException:
        journal.close()
        raise
    batches = journal_batches(
        pending.project("text_sha256").to_arrow_reader(READ_STEP),
        journal,
        model_id=model_id,
        dimension=dimension,
        invocation_id=invocation_id,
    )
    return pa.RecordBatchReader.from_batches(output_schema(dimension), batches)
