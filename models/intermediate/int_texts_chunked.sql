{#- The chunk cache: one row per distinct split_key (a document text split by one strategy's
    settings, see int_documents_paired_with_strategies) with the chunks the docvec_chunk UDF made.
    Incremental: a build splits only the keys it has not split before, so unchanged documents are
    not tokenised again; the post-hook deletes keys no document asks for any more. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        unique_key='split_key',
        post_hook="{{ prune_chunk_cache(this, ref('int_documents_paired_with_strategies')) }}",
    )
}}

with requests as (
    select * from {{ ref('int_documents_paired_with_strategies') }}
),

pending as (
    select
        split_key,
        text,
        file_type,
        method,
        max_tokens,
        overlap_tokens,
        min_chunk_tokens
    from requests
    {%- if is_incremental() %}
        where split_key not in (select cached.split_key from {{ this }} as cached)
    {%- endif %}
    qualify row_number() over (partition by split_key order by document_id, strategy_id) = 1
),

split as (
    select
        split_key,
        docvec_chunk(
            text,
            file_type,
            method,
            max_tokens,
            overlap_tokens,
            min_chunk_tokens,
            {{ sql_literal(embedding_model_path()) }}
        ) as pieces,
        {{ sql_literal(invocation_id) }} as invocation_id,
        current_timestamp as chunked_at
    from pending
)

select * from split
