{#- The write-audit-publish gate of the on-run-end hook publish_serving_store: why this
    invocation's candidate may not be published, as a list of names (empty = it passed).

    Every enabled data test of the project with severity error must have run in this invocation
    and passed (status pass, or warn below its error threshold); a test that failed, errored or
    was skipped is named, and so is a model that failed. Tests tagged `publication` or testing
    publish_runs check the serving store, not the candidate, and never hold it back.
    `dbt build --select` of a part of the project therefore never publishes: the tests it did
    not run are named as not run. -#}
{% macro publication_audit(results) -%}
  {%- set statuses = {} -%}
  {%- set held = [] -%}
  {%- for result in results -%}
    {%- do statuses.update({result.node.unique_id: result.status | string}) -%}
    {%- if result.node.resource_type == 'model' and (result.status | string) in ('error', 'skipped') -%}
      {%- do held.append('model ' ~ result.node.name ~ ' ' ~ (result.status | string)) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- for node in graph.nodes.values() | sort(attribute='unique_id') -%}
    {%- if node.resource_type == 'test' and node.package_name == project_name
          and node.config.enabled and (node.config.severity | lower) == 'error'
          and 'publication' not in node.tags
          and ('model.' ~ project_name ~ '.publish_runs') not in node.depends_on.nodes -%}
      {%- set status = statuses.get(node.unique_id) -%}
      {%- if status is none -%}
        {%- do held.append(node.name ~ ' (not run)') -%}
      {%- elif status not in ('pass', 'warn') -%}
        {%- do held.append(node.name ~ ' (' ~ status ~ ')') -%}
      {%- endif -%}
    {%- endif -%}
  {%- endfor -%}
  {{ return(held) }}
{%- endmacro %}
