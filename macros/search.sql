{#- `dbt run-operation search --args '{query: "...", k: 5, mode: hybrid, groups: [staff]}'`:
    the ranking of `docvec search` in SQL, printed as log lines (rank, score, chunk_id, path,
    offsets, then a snippet). The query embedding comes from the UDF docvec_embed_query (the
    serving model, as registered by the plugin), BM25 from fts match_bm25, hybrid is reciprocal
    rank fusion (vars hybrid_*). The caller's groups and the filters sit in the WHERE clause of
    each ranking, before any ordering or cut. Every argument is data: text goes through
    sql_literal, k and the hybrid settings through int / float. Vector ranking here is the
    exact scan (the same result as `docvec search --exact`). -#}
{% macro search(query, k=5, mode='hybrid', groups=['public'], path_prefix=none, file_type=none) -%}
  {%- if query is not string or query | trim == '' -%}
    {{ exceptions.raise_compiler_error("search: the query must be a non-empty string, got " ~ tojson(query)) }}
  {%- endif -%}
  {%- set modes = ['vector', 'keyword', 'hybrid'] -%}
  {%- if mode not in modes -%}
    {{ exceptions.raise_compiler_error("search: unknown mode " ~ tojson(mode) ~ "; expected one of vector, keyword, hybrid") }}
  {%- endif -%}
  {%- set limit = k | int -%}
  {%- if limit < 1 -%}
    {{ exceptions.raise_compiler_error("search: k must be an integer of at least 1, got " ~ tojson(k)) }}
  {%- endif -%}
  {%- set group_list = groups.split(',') if groups is string else (groups or []) -%}
  {%- set readable = [] -%}
  {%- for group in group_list if group is string and group | trim != '' -%}
    {%- do readable.append(group | trim) -%}
  {%- endfor -%}
  {%- if readable | length == 0 -%}
    {{ exceptions.raise_compiler_error("search: access groups are required: a caller with no group may read nothing") }}
  {%- endif -%}

  {%- set relation = ref('search_index') -%}
  {%- set fts = 'fts_' ~ relation.schema ~ '_' ~ relation.identifier -%}
  {%- set dimension = var('embedding_dimension') | int -%}
  {%- set pool = [limit, var('hybrid_candidates') | int] | max -%}
  {%- set rrf_k = var('hybrid_rrf_k') | int -%}
  {%- set vector_weight = var('hybrid_vector_weight') | float -%}
  {%- set keyword_weight = var('hybrid_keyword_weight') | float -%}
  {%- set query_text = sql_literal(query) -%}
  {#- BM25 matches the query's fts_text (CJK and Thai runs as bigrams), as the index holds its chunks' -#}
  {%- set keyword_text = 'docvec_fts_text(' ~ query_text ~ ')' -%}

  {%- set where -%}
    list_has_any(access_groups, [
      {%- for group in readable %}{{ sql_literal(group) }}{% if not loop.last %}, {% endif %}{% endfor -%}
    ]::varchar[])
    {%- if path_prefix %} and starts_with(source_path, {{ sql_literal(path_prefix | string) }}){% endif %}
    {%- if file_type %} and file_type = {{ sql_literal(file_type | string) }}{% endif %}
  {%- endset -%}

  {%- set vector_scored -%}
    select * from (
      select chunk_id,
             array_cosine_similarity(embedding, (select vector from query_vector)) as score
      from {{ relation }}
      where {{ where }}
    ) where score is not null
  {%- endset -%}
  {%- set keyword_scored -%}
    select * from (
      select chunk_id, {{ fts }}.match_bm25(chunk_id, {{ keyword_text }}) as score
      from {{ relation }}
      where {{ where }}
    ) where score is not null
  {%- endset -%}

  {%- set sql -%}
    with query_vector as (
      select docvec_embed_query(
        {{ query_text }}, {{ sql_literal(embedding_model_path()) }}, {{ sql_literal(var('embedding_backend')) }}
      )::float[{{ dimension }}] as vector
    ),
    {%- if mode == 'hybrid' %}
    vector_top as (
      select chunk_id, row_number() over (order by score desc, chunk_id) as rank
      from ({{ vector_scored }}) order by rank limit {{ pool }}
    ),
    keyword_top as (
      select chunk_id, row_number() over (order by score desc, chunk_id) as rank
      from ({{ keyword_scored }}) order by rank limit {{ pool }}
    ),
    ranking as (
      select chunk_id, sum(weight / ({{ rrf_k }} + rank)) as score
      from (
        select chunk_id, {{ vector_weight }}::double as weight, rank from vector_top
        union all
        select chunk_id, {{ keyword_weight }}::double as weight, rank from keyword_top
      )
      group by chunk_id
    ),
    {%- else %}
    ranking as ({{ vector_scored if mode == 'vector' else keyword_scored }}),
    {%- endif %}
    top as (select chunk_id, score from ranking order by score desc, chunk_id limit {{ limit }})
    select row_number() over (order by top.score desc, top.chunk_id) as rank,
           top.score, top.chunk_id, s.source_path, s.section, s.start_char, s.end_char, s.chunk_text
    from top
    inner join {{ relation }} as s using (chunk_id)
    order by rank
  {%- endset -%}

  {%- if execute -%}
    {%- set results = run_query(sql) -%}
    {{ log("search " ~ tojson(query) ~ " (" ~ mode ~ ", k=" ~ limit ~ ", groups " ~ readable | join(',') ~ "): "
           ~ results.rows | length ~ " results", info=True) }}
    {%- for row in results.rows -%}
      {%- set where_found = row['source_path'] ~ ('  § ' ~ row['section'] if row['section'] else '') -%}
      {{ log('%2d. %.4f  %s  %s  [%d:%d]' | format(row['rank'], row['score'], row['chunk_id'], where_found,
                                                   row['start_char'], row['end_char']), info=True) }}
      {{ log('    ' ~ (row['chunk_text'].split() | join(' '))[:160], info=True) }}
    {%- endfor -%}
    {{ return(results) }}
  {%- endif -%}
{%- endmacro %}
