{#- Fails with every document (row of `model`) x strategy whose chunks (in `chunks`, joined on
    `document_column`) cover less than `min_coverage` of the document's non-white-space
    characters. A chunk covers text[start_char, end_char) of `column_name` (0-based, end
    exclusive); overlapping chunks count once; a strategy in which the document has no chunk
    covers nothing. White space is what Python's str.isspace calls white space, so the chunker's
    stripped gaps between chunks are not counted. Each failing row holds the document, the
    strategy, its non-white-space characters, how many are covered and the coverage. -#}
{% test text_coverage(model, column_name, chunks, min_coverage=0.99, document_column='document_id', strategy_column='strategy_id') %}
  {%- if chunks is none -%}
    {% do exceptions.raise_compiler_error("text_coverage: `chunks` is required (e.g. ref('chunks'))") %}
  {%- endif -%}
  {#- a var rendered into the test's arguments arrives as a string -#}
  {%- if min_coverage is string and min_coverage | trim | float(-1) > 0 -%}
    {%- set min_coverage = min_coverage | trim | float -%}
  {%- endif -%}
  {%- if min_coverage is not number or min_coverage is sameas true or min_coverage is sameas false or min_coverage <= 0 or min_coverage > 1 -%}
    {% do exceptions.raise_compiler_error("text_coverage: `min_coverage` must be a number in (0, 1], got " ~ min_coverage) %}
  {%- endif -%}
  {%- if document_column is not string or strategy_column is not string or not document_column or not strategy_column -%}
    {% do exceptions.raise_compiler_error("text_coverage: `document_column` and `strategy_column` must be column names, got " ~ document_column ~ " and " ~ strategy_column) %}
  {%- endif -%}
  {#- str.isspace: ASCII white space, the information separators 0x1c-0x1f, NEL and Unicode separators. -#}
  {%- set white_space = "'[\\t\\n\\x{0b}\\f\\r \\x{1c}-\\x{1f}\\x{85}\\p{Z}]'" %}
  with documents as (
    select
      {{ document_column }} as document_id,
      {{ column_name }} as document_text
    from {{ model }}
  ),

  strategies as (
    select distinct {{ strategy_column }} as strategy_id
    from {{ chunks }}
  ),

  spans as (
    select
      {{ document_column }} as document_id,
      {{ strategy_column }} as strategy_id,
      start_char,
      end_char
    from {{ chunks }}
  ),

  -- gaps and islands: a span starts a new island when it begins after every span before it ends
  ordered as (
    select
      *,
      max(end_char) over (
        partition by document_id, strategy_id order by start_char, end_char
        rows between unbounded preceding and 1 preceding
      ) as previous_end
    from spans
  ),

  islands as (
    select
      document_id,
      strategy_id,
      min(start_char) as start_char,
      max(end_char) as end_char
    from (
      select
        *,
        sum(case when previous_end is null or start_char > previous_end then 1 else 0 end) over (
          partition by document_id, strategy_id order by start_char, end_char
          rows between unbounded preceding and current row
        ) as island
      from ordered
    )
    group by document_id, strategy_id, island
  ),

  covered as (
    select
      islands.document_id,
      islands.strategy_id,
      sum(length(regexp_replace(
        substring(documents.document_text, greatest(islands.start_char, 0) + 1, islands.end_char - greatest(islands.start_char, 0)),
        {{ white_space }}, '', 'g'
      ))) as covered_chars
    from islands
    inner join documents on islands.document_id = documents.document_id
    group by islands.document_id, islands.strategy_id
  ),

  measured as (
    select
      documents.document_id,
      strategies.strategy_id,
      length(regexp_replace(documents.document_text, {{ white_space }}, '', 'g')) as text_chars,
      coalesce(covered.covered_chars, 0) as covered_chars
    from documents
    cross join strategies
    left join covered
      on documents.document_id = covered.document_id
      and strategies.strategy_id = covered.strategy_id
  )

  select
    document_id,
    strategy_id,
    text_chars,
    covered_chars,
    case when text_chars = 0 then 1.0 else covered_chars / text_chars end as coverage
  from measured
  where (case when text_chars = 0 then 1.0 else covered_chars / text_chars end) < {{ min_coverage }}
{% endtest %}
