{{ config(post_hook=["{{ create_search_indexes(this) }}"]) }}
{#- What a RAG application searches: the chunks of the serving strategy (var serving_strategy)
    with their vector from the serving model (var embedding_model_id / embedding_backend). -#}

with chunks as (
    select * from {{ ref('chunks') }}
    where strategy_id = {{ sql_literal(var('serving_strategy')) }}
),

embeddings as (
    select * from {{ ref('embeddings') }}
    where model_id = {{ sql_literal(serving_model_id()) }}
),

documents as (
    select document_id, title, file_type, metadata from {{ ref('documents') }}
),

joined as (
    select
        chunks.chunk_id,
        chunks.document_id,
        chunks.strategy_id,
        embeddings.model_id,
        chunks.chunk_index,
        chunks.chunk_text,
        chunks.text_sha256,
        chunks.section,
        chunks.start_char,
        chunks.end_char,
        chunks.n_tokens,
        chunks.source_path,
        documents.title,
        documents.file_type,
        documents.metadata,
        chunks.access_groups,
        -- `float[n]` is an array type, not a subscript (sqlfluff's spacing rule reads it as one)
        embeddings.embedding::float[{{ var('embedding_dimension') | int }}] as embedding  -- noqa: LT01
    from chunks
    inner join embeddings using (text_sha256)
    inner join documents using (document_id)
),

-- What the BM25 index covers: python_udfs.ranking.fts_text_sql()
with_fts_text as (
    select
        *,
        docvec_fts_text(concat_ws(' ', chunk_text, title, section)) as fts_text
    from joined
)

select * from with_fts_text
