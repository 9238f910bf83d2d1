{#- Every document split by every strategy of seeds/chunking_strategies.csv, side by side. The
    docvec_chunk UDF counts tokens with the embedding model's own tokenizer; offsets are 0-based
    code points, end exclusive: chunk_text = substring(text, start_char + 1, end_char - start_char). -#}

with documents as (
    select document_id, source_path, file_type, text, access_groups
    from {{ ref('documents') }}
),

strategies as (
    select * from {{ ref('chunking_strategies') }}
),

split as materialized (
    select
        documents.document_id,
        documents.source_path,
        documents.access_groups,
        strategies.strategy_id,
        docvec_chunk(
            documents.text,
            documents.file_type,
            strategies.method,
            strategies.max_tokens,
            strategies.overlap_tokens,
            {{ sql_literal(embedding_model_path()) }}
        ) as pieces
    from documents
    cross join strategies
),

unnested as (
    select
        document_id,
        source_path,
        access_groups,
        strategy_id,
        -- the struct expands into the chunk's fields: nothing to alias
        unnest(pieces, recursive := true)  -- noqa: AL03
    from split
),

final as (
    select
        md5(document_id || ':' || strategy_id || ':' || chunk_index::varchar) as chunk_id,
        document_id,
        strategy_id,
        chunk_index,
        chunk_text,
        sha256(chunk_text) as text_sha256,
        start_char,
        end_char,
        n_tokens,
        section,
        source_path,
        access_groups
    from unnested
)

select * from final
