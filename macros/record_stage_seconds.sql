{#- on-run-end hook: writes the seconds each pipeline stage took in this invocation (from dbt's
    own run results) into this invocation's pipeline_runs row. Does nothing when pipeline_runs
    was not built in this invocation (e.g. `dbt test`). -#}
{% macro record_stage_seconds(results) %}
  {%- if not execute -%}{{ return('') }}{%- endif -%}
  {%- set stages = {
      'staging_seconds': ['stg_landing__documents'],
      'parse_seconds': ['int_documents_parsed', 'int_documents_cleaned', 'documents', 'document_duplicates', 'quarantined_documents'],
      'redact_seconds': ['int_documents_redacted', 'pii_findings'],
      'chunk_seconds': ['int_documents_paired_with_strategies', 'int_texts_chunked', 'chunks'],
      'embed_seconds': ['embeddings'],
      'serve_seconds': ['search_index'],
  } -%}
  {%- set seconds = {} -%}
  {%- set ns = namespace(built=false) -%}
  {%- for result in results -%}
    {%- if result.node.resource_type == 'model' and result.node.package_name == project_name -%}
      {%- if result.node.name == 'pipeline_runs' and result.status == 'success' -%}
        {%- set ns.built = true -%}
      {%- endif -%}
      {%- for column, models in stages.items() -%}
        {%- if result.node.name in models -%}
          {%- do seconds.update({column: seconds.get(column, 0) + (result.execution_time or 0)}) -%}
        {%- endif -%}
      {%- endfor -%}
    {%- endif -%}
  {%- endfor -%}
  {%- if ns.built and seconds -%}
    {%- set relation = adapter.get_relation(database=target.database, schema=target.schema, identifier='pipeline_runs') -%}
    {%- if relation is not none -%}
      update {{ relation }} set
      {%- for column, value in seconds.items() %}
        {{ column }} = {{ '%.3f' | format(value) }}{{ ',' if not loop.last }}
      {%- endfor %}
      where invocation_id = {{ sql_literal(invocation_id) }}
    {%- endif -%}
  {%- endif -%}
{% endmacro %}
