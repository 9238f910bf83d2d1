{{ config(unique_key='invocation_id', full_refresh=false) }}
{#- One row per dbt invocation that builds the pipeline: what it saw, produced and embedded. The
    seconds per stage are filled in by the on-run-end hook record_stage_seconds from dbt's own
    results, the publish columns by the hook publish_serving_store. -#}

with staged as (
    select count(*) as files_seen from {{ ref('stg_landing__documents') }}
),

parsed as (
    select count(*) filter (where reason is null) as documents_parsed
    from {{ ref('int_documents_redacted') }}
),

documents as (
    select count(*) as documents from {{ ref('documents') }}
),

quarantined as (
    select count(*) as quarantined from {{ ref('quarantined_documents') }}
),

duplicates as (
    select count(*) as duplicates from {{ ref('document_duplicates') }}
),

chunks as (
    select count(*) as chunks, count(distinct text_sha256) as distinct_texts
    from {{ ref('chunks') }}
),

embedded as (
    select count(*) filter (where invocation_id = {{ sql_literal(invocation_id) }}) as texts_embedded
    from {{ ref('embeddings') }}
    where model_id = {{ sql_literal(serving_model_id()) }}
),

pii as (
    select
        sum(n)::bigint as pii_findings,
        coalesce(
            to_json(map(list(entity_type order by entity_type), list(n order by entity_type))), '{}'::json
        ) as pii_counts
    from (
        select entity_type, count(*)::integer as n
        from {{ ref('pii_findings') }}
        group by entity_type
    )
),

served as (
    select count(*) as search_index_chunks from {{ ref('search_index') }}
),

final as (
    select
        {{ sql_literal(invocation_id) }} as invocation_id,
        {{ sql_literal(run_started_at.isoformat()) }}::timestamptz as started_at,
        current_timestamp as finished_at,
        staged.files_seen,
        parsed.documents_parsed,
        documents.documents,
        quarantined.quarantined,
        duplicates.duplicates,
        chunks.chunks,
        chunks.distinct_texts,
        embedded.texts_embedded,
        chunks.distinct_texts - embedded.texts_embedded as embeddings_reused,
        served.search_index_chunks,
        coalesce(pii.pii_findings, 0) as pii_findings,
        pii.pii_counts,
        {{ sql_literal('off' if var('pii_mode') is sameas false else var('pii_mode')) }} as pii_mode,
        {{ sql_literal(serving_model_id()) }} as model_id,
        {{ sql_literal(var('serving_strategy')) }} as serving_strategy,
        null::double as staging_seconds,
        null::double as parse_seconds,
        null::double as redact_seconds,
        null::double as chunk_seconds,
        null::double as embed_seconds,
        null::double as serve_seconds,
        -- filled in by the on-run-end hook publish_serving_store
        null::varchar as publish_status,
        null::integer as published_version,
        null::double as publish_lag_seconds
    from staged, parsed, documents, quarantined, duplicates, chunks, embedded, served, pii
)

select * from final
