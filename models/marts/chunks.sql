{#- One row per chunk per chunking strategy: the unit that is embedded and searched. The chunks
    of int_texts_chunked (the chunk cache) joined back to every document x strategy of this build
    (int_documents_paired_with_strategies) by split_key, so no second copy of the chunks is stored
    on the way. The docvec_chunk UDF counts tokens with the embedding model's own tokenizer;
    offsets are 0-based code points, end exclusive:
    chunk_text = substring(text, start_char + 1, end_char - start_char). -#}

with requests as (
    select
        document_id,
        strategy_id,
        source_path,
        access_groups,
        split_key
    from {{ ref('int_documents_paired_with_strategies') }}
),

cache as (
    select
        split_key,
        pieces
    from {{ ref('int_texts_chunked') }}
),

split as (
    select
        requests.document_id,
        requests.source_path,
        requests.access_groups,
        requests.strategy_id,
        cache.pieces
    from requests
    -- int_texts_chunked holds every requested key (test assert_every_split_request_is_chunked)
    inner join cache on requests.split_key = cache.split_key
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
