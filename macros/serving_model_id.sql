{#- The model_id stored with vectors of the configured model and backend (vectors from different
    backends never mix); mirrors python_udfs.embedding.effective_model_id. -#}
{% macro serving_model_id() -%}
  {%- set backend = var('embedding_backend') -%}
  {%- if backend == 'torch' -%}
    {{- var('embedding_model_id') -}}
  {%- else -%}
    {{- var('embedding_model_id') ~ '@' ~ backend -}}
  {%- endif -%}
{%- endmacro %}
