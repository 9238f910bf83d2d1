{#- Fails with every document (row of `model`, a live document) x chunking strategy (row of
    `strategies`) that has no chunk in `chunks`: a document that is live but cannot be found in
    one strategy was lost on the way without a quarantine row. Each failing row names the
    document, the strategy and its source path. -#}
{% test has_chunks_in_every_strategy(model, chunks, strategies, document_column='document_id', strategy_column='strategy_id') %}
  {%- if chunks is none or strategies is none -%}
    {% do exceptions.raise_compiler_error("has_chunks_in_every_strategy: `chunks` and `strategies` are required (e.g. ref('chunks') and ref('chunking_strategies')), got chunks=" ~ chunks ~ ", strategies=" ~ strategies) %}
  {%- endif -%}
  {%- if document_column is not string or strategy_column is not string or not document_column or not strategy_column -%}
    {% do exceptions.raise_compiler_error("has_chunks_in_every_strategy: `document_column` and `strategy_column` must be column names, got " ~ document_column ~ " and " ~ strategy_column) %}
  {%- endif %}
  with expected as (
    select
      documents.{{ document_column }} as document_id,
      strategies.{{ strategy_column }} as strategy_id
    from {{ model }} as documents
    cross join {{ strategies }} as strategies
  ),

  found as (
    select distinct
      {{ document_column }} as document_id,
      {{ strategy_column }} as strategy_id
    from {{ chunks }}
  )

  select expected.document_id, expected.strategy_id
  from expected
  anti join found
    on expected.document_id = found.document_id
    and expected.strategy_id = found.strategy_id
{% endtest %}
