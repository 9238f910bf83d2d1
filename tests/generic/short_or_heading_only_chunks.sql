{#- Warns (severity warn unless configured otherwise) with every chunk that is not worth
    retrieving: made only of markdown headings (ATX `#` lines or setext headings), or shorter
    than `min_tokens` word pieces (`n_tokens_column`, special tokens included) in a document of
    several chunks: the only chunk of a short document is the whole document, so it is not
    reported as short. `group_by` names the columns of one split (default document_id and
    strategy_id); the rows come back with a `problem` column saying which rule they break. -#}
{% test short_or_heading_only_chunks(model, column_name, n_tokens_column='n_tokens', min_tokens=20, group_by=['document_id', 'strategy_id']) %}
  {%- if min_tokens is not number or min_tokens < 1 -%}
    {% do exceptions.raise_compiler_error("short_or_heading_only_chunks: `min_tokens` must be a positive integer, got " ~ min_tokens) %}
  {%- endif -%}
  {%- if group_by is string or group_by | length == 0 -%}
    {% do exceptions.raise_compiler_error("short_or_heading_only_chunks: `group_by` must be a non-empty list of column names, got " ~ group_by) %}
  {%- endif %}
  {{ config(severity='warn') }}
  with measured as (
    select
      *,
      -- one or more heading lines (ATX, or a text line over a === / --- line), blank lines between
      regexp_full_match(
        {{ column_name }},
        '(?:[ ]{0,3}#{1,6}(?:[ \t][^\n]*)?|[^\n]*\S[^\n]*\n[ ]{0,3}(?:=+|-+)[ \t]*)(?:(?:[ \t]*\n)+(?:[ ]{0,3}#{1,6}(?:[ \t][^\n]*)?|[^\n]*\S[^\n]*\n[ ]{0,3}(?:=+|-+)[ \t]*))*'
      ) as heading_only,
      count(*) over (partition by {{ group_by | join(', ') }}) as chunks_in_split
    from {{ model }}
  )

  select
    *,
    case when heading_only then 'heading only' else 'fewer than {{ min_tokens }} tokens' end as problem
  from measured
  where heading_only
     or ({{ n_tokens_column }} < {{ min_tokens }} and chunks_in_split > 1)
{% endtest %}
