{#- Post-hook of search_index: (re)builds, after every build, the BM25 full-text index (DuckDB
    fts) over fts_text (chunk_text, title and section, CJK and Thai runs as character bigrams:
    python_udfs.fts_text) and, unless var search_vector_index is false, the
    HNSW vector index (DuckDB vss, cosine) over embedding. Both extensions are loaded by the
    plugin from their pip packages. Dispatched so that another engine can provide its own DDL.

    The HNSW index lives in the DuckDB file: vss only allows that with
    hnsw_enable_experimental_persistence, whose risk is WAL replay of later changes to the
    indexed table after a crash. search_index is written once per build (a fresh table, indexed
    last, never updated afterwards), and the index is rebuilt from the table on every build, so
    it is never relied on across builds. Searches work without it (exact scan). -#}
{% macro create_search_indexes(relation) -%}
  {{ return(adapter.dispatch('create_search_indexes', 'docvec')(relation)) }}
{%- endmacro %}

{% macro default__create_search_indexes(relation) -%}
  {{ exceptions.raise_compiler_error("create_search_indexes: no search index DDL for adapter " ~ adapter.type()) }}
{%- endmacro %}

{#- The fts key, columns and options are python_udfs.ranking's FTS_ID_COLUMN, FTS_COLUMNS and
    FTS_OPTIONS (its create_fts_index_sql builds the same statement for the evaluation's
    strategies); tests/python/test_constants_parity.py keeps the two equal. `ignore` is fts's
    default, `(\\.|[^a-z])+`, that also keeps python_udfs.fts_text.BIGRAM_RANGES. -#}
{% macro duckdb__create_search_indexes(relation) -%}
  pragma create_fts_index(
    {{ sql_literal(relation.schema ~ '.' ~ relation.identifier) }},
    'chunk_id', 'fts_text',
    stemmer = 'porter', stopwords = 'english',
    ignore = '(\\.|[^a-z\x{0e00}-\x{0e7f}\x{1100}-\x{11ff}\x{3005}-\x{3007}\x{3040}-\x{309f}\x{30a0}-\x{30ff}\x{3130}-\x{318f}\x{31f0}-\x{31ff}\x{3400}-\x{4dbf}\x{4e00}-\x{9fff}\x{ac00}-\x{d7af}\x{f900}-\x{faff}\x{ff66}-\x{ff9f}\x{20000}-\x{3134f}])+',
    strip_accents = 1, lower = 1, overwrite = 1
  );
  {%- if var('search_vector_index') %}
  set hnsw_enable_experimental_persistence = true;
  drop index if exists {{ relation.schema }}.{{ relation.identifier }}_hnsw;
  create index {{ relation.identifier }}_hnsw on {{ relation }} using hnsw (embedding) with (
    metric = 'cosine',
    m = {{ var('hnsw_m') | int }},
    ef_construction = {{ var('hnsw_ef_construction') | int }},
    ef_search = {{ var('hnsw_ef_search') | int }}
  )
  {%- endif %}
{%- endmacro %}
