{#- One row per chunk per chunking strategy: the unit that is embedded and searched. -#}

with split as (
    select * from {{ ref('int_documents_split_to_chunks') }}
),

final as (
    select
        chunk_id,
        document_id,
        strategy_id,
        chunk_index,
        chunk_text,
        text_sha256,
        start_char,
        end_char,
        n_tokens,
        section,
        source_path,
        access_groups
    from split
)

select * from final
