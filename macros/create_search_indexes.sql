{#- Post-hook of search_index: (re)builds the BM25 full-text index (DuckDB fts, loaded by the
    plugin from its pip package) over chunk_text, title and section after every build. Dispatched
    so that another engine can provide its own index DDL. -#}
{% macro create_search_indexes(relation) -%}
  {{ return(adapter.dispatch('create_search_indexes', 'docvec')(relation)) }}
{%- endmacro %}

{% macro default__create_search_indexes(relation) -%}
  {{ exceptions.raise_compiler_error("create_search_indexes: no search index DDL for adapter " ~ adapter.type()) }}
{%- endmacro %}

{% macro duckdb__create_search_indexes(relation) -%}
  pragma create_fts_index(
    {{ sql_literal(relation.schema ~ '.' ~ relation.identifier) }},
    'chunk_id', 'chunk_text', 'title', 'section',
    stemmer = 'porter', stopwords = 'english', strip_accents = 1, lower = 1, overwrite = 1
  )
{%- endmacro %}
