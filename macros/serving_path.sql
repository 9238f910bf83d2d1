{#- The embedded serving store's path: env DOCVEC_SERVING_PATH, else beside the warehouse
    (`docvec.duckdb` -> `docvec.serving.duckdb`), as docvec.publishing.store.serving_path_for
    says; asked of it through the UDF docvec_serving_path (docvec.publishing.dbt_plugin), so
    that dbt, the CLI and the Python API can never disagree. -#}
{% macro serving_path() -%}
  {%- if not execute -%}{{ return('') }}{%- endif -%}
  {{ return(run_query("select docvec_serving_path()").columns[0].values()[0]) }}
{%- endmacro %}
