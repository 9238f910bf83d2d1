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

{#- The API counters of this build (embedding_backend openai): the embeddings model writes them to
    its side table embedding_api_runs (python_udfs/embedding/api_stats.py); none when it is absent.
    information_schema, not adapter.get_relation: dbt's relation cache does not know a table the
    Python model created itself. -#}
{%- set embeddings_relation = ref('embeddings') -%}
{%- set api_runs = none -%}
{%- if execute -%}
  {%- set found = run_query(
      "select count(*) from information_schema.tables where table_catalog = " ~ sql_literal(embeddings_relation.database)
      ~ " and table_schema = " ~ sql_literal(embeddings_relation.schema) ~ " and table_name = 'embedding_api_runs'"
  ).columns[0].values()[0] -%}
    {%- if found > 0 -%}
    {%- set api_runs = embeddings_relation.incorporate(path={'identifier': 'embedding_api_runs'}) -%}
  {%- endif -%}
{%- endif %}

api as (
    {%- if api_runs is not none %}
    select
        coalesce(sum(requests), 0)::bigint as embedding_requests,
        coalesce(sum(retries), 0)::bigint as embedding_retries,
        coalesce(sum(tokens), 0)::bigint as embedding_tokens,
        coalesce(bool_or(tokens_estimated), false) as embedding_tokens_estimated
    from {{ api_runs }}
    where invocation_id = {{ sql_literal(invocation_id) }}
    {%- else %}
        select
            0::bigint as embedding_requests,
            0::bigint as embedding_retries,
            0::bigint as embedding_tokens,
            false as embedding_tokens_estimated
    {%- endif %}
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
        api.embedding_requests,
        api.embedding_retries,
        api.embedding_tokens,
        api.embedding_tokens_estimated,
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
    from staged, parsed, documents, quarantined, duplicates, chunks, embedded, api, served, pii
)

select * from final
