"""The embedding cache: one L2-normalised vector per (text_sha256, model_id).

Incremental: each build embeds only the chunk texts that have no vector yet for the configured
model, so a text shared by documents or strategies is embedded once and an unchanged document
costs nothing. Texts stream from DuckDB in record batches and vectors stream back, so memory
stays bounded by one batch.

SIGINT or SIGTERM during a build (python_udfs.interrupts) stops the stream before its next
forward pass; the vectors already computed are written as usual, so a stopped build keeps them
and the next one embeds only the rest.

dbt-duckdb's incremental materialization writes a Python model's new rows to a table
`<model>__dbt_tmp<timestamp>` and never drops it (it takes the table for a temporary one, but
`py_write_table` creates a plain table): the post-hook drops it, in the model's transaction.
"""

import pyarrow as pa

from python_udfs.embedding import (
    READ_STEP,
    current_invocation_id,
    dbt_logger,
    effective_model_id,
    embedding_batches,
    embedding_dimension,
    load_model,
    output_schema,
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
