{#- The chunking work a build asks for: one row per document x chunking strategy, with
    `split_key`, the md5 of everything the chunks depend on (the document text's SHA-256, its
    file type, the strategy's method and token limits, the tokenizer's model path and the chunking
    code's version). Equal keys give equal chunks, so int_texts_chunked splits each key once and
    keeps it for later builds; int_documents_split_to_chunks joins the chunks back by key. -#}
{% macro chunk_split_requests() -%}
  select
    documents.document_id,
    documents.source_path,
    documents.access_groups,
    documents.file_type,
    documents.text,
    strategies.strategy_id,
    strategies.method,
    strategies.max_tokens,
    strategies.overlap_tokens,
    md5(concat_ws(
      chr(31),
      sha256(documents.text),
      coalesce(documents.file_type, ''),
      strategies.method,
      cast(strategies.max_tokens as varchar),
      cast(strategies.overlap_tokens as varchar),
      {{ sql_literal(embedding_model_path()) }},
      docvec_chunker_version()
    )) as split_key
  from {{ ref('documents') }} as documents
  cross join {{ ref('chunking_strategies') }} as strategies
{%- endmacro %}
