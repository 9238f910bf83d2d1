{#- The chunking work a build asks for: one row per document x chunking strategy, with
    `split_key`, the md5 of everything the chunks depend on (the document text's SHA-256, its
    file type, the strategy's method and token settings: max_tokens, overlap_tokens and
    min_chunk_tokens, the tokenizer's model path and the chunking code's version). Equal keys
    give equal chunks, so int_texts_chunked splits each key once and
    keeps it for later builds, and chunks joins the cached pieces back by key.
    A view: it stores nothing (no second copy of every text), is always the current build's
    requests, and, unlike an ephemeral model, can be read by int_texts_chunked's post-hook
    prune_chunk_cache and by the test assert_every_split_request_is_chunked. -#}
{{ config(materialized='view') }}

with documents as (
    select * from {{ ref('documents') }}
),

strategies as (
    select * from {{ ref('chunking_strategies') }}
),

paired as (
    select
        documents.document_id,
        strategies.strategy_id,
        documents.source_path,
        documents.access_groups,
        documents.file_type,
        documents.text,
        strategies.method,
        strategies.max_tokens,
        strategies.overlap_tokens,
        strategies.min_chunk_tokens,
        md5(concat_ws(
            chr(31),
            sha256(documents.text),
            coalesce(documents.file_type, ''),
            strategies.method,
            cast(strategies.max_tokens as varchar),
            cast(strategies.overlap_tokens as varchar),
            cast(strategies.min_chunk_tokens as varchar),
            {{ sql_literal(embedding_model_path()) }},
            docvec_chunker_version()
        )) as split_key
    from documents
    cross join strategies
)

select * from paired
