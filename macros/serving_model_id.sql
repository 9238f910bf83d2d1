{#- The model_id stored with vectors of the configured model and backend (vectors from different
    backends never mix); `model_id` / `backend` default to vars embedding_model_id /
    embedding_backend. The rule is Python, python_udfs.embedding.effective_model_id, called
    through the UDF docvec_effective_model_id, so SQL and Python cannot disagree. Empty while dbt
    parses (nothing runs then). -#}
{% macro serving_model_id(model_id=none, backend=none) -%}
  {%- if not execute -%}
    {{- return('') -}}
  {%- endif -%}
  {%- set model = var('embedding_model_id') if model_id is none else model_id -%}
  {%- set engine = var('embedding_backend') if backend is none else backend -%}
  {%- set sql = 'select docvec_effective_model_id(' ~ sql_literal(model) ~ ', ' ~ sql_literal(engine) ~ ')' -%}
  {{- return(run_query(sql).columns[0].values()[0]) -}}
{%- endmacro %}
