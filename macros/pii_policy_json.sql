{#- JSON text of the PII policy for the docvec_pii and docvec_find_pii UDFs, from the vars
    `pii_policy` (entity type -> redact | flag | keep), `pii_allow_patterns` and `pii_allow_values`.
    Raises a compiler error naming the var and the allowed values on any mistake. The type and
    action lists are python_udfs.redaction's ENTITY_TYPES and PII_ACTIONS (a unit test compares). -#}
{% macro pii_policy_json() -%}
  {%- set entity_types = ['EMAIL', 'PHONE', 'CREDIT_CARD', 'US_SSN', 'IBAN', 'IP_ADDRESS', 'AWS_ACCESS_KEY',
                          'PRIVATE_KEY', 'JWT', 'GITHUB_TOKEN', 'SLACK_TOKEN', 'SECRET'] -%}
  {%- set actions = ['redact', 'flag', 'keep'] -%}
  {%- set policy = var('pii_policy', {}) or {} -%}
  {%- if policy is not mapping -%}
    {% do exceptions.raise_compiler_error("var pii_policy must map entity types (" ~ entity_types | join(', ')
        ~ ") to " ~ actions | join(' | ') ~ "; got " ~ policy) %}
  {%- endif -%}
  {%- for entity_type, action in policy.items() -%}
    {%- if entity_type not in entity_types -%}
      {% do exceptions.raise_compiler_error("var pii_policy: unknown entity type " ~ entity_type
          ~ "; allowed: " ~ entity_types | join(', ')) %}
    {%- endif -%}
    {%- if action is not string or action not in actions -%}
      {% do exceptions.raise_compiler_error("var pii_policy: the action for " ~ entity_type ~ " must be one of "
          ~ actions | join(', ') ~ "; got " ~ action) %}
    {%- endif -%}
  {%- endfor -%}
  {%- set lists = {} -%}
  {%- for name in ['pii_allow_patterns', 'pii_allow_values'] -%}
    {%- set items = var(name, []) or [] -%}
    {%- if items is string or items is mapping or items is not iterable -%}
      {% do exceptions.raise_compiler_error("var " ~ name ~ " must be a list of strings; got " ~ items) %}
    {%- endif -%}
    {%- for item in items if item is not string -%}
      {% do exceptions.raise_compiler_error("var " ~ name ~ " must be a list of strings; got the item " ~ item) %}
    {%- endfor -%}
    {%- do lists.update({name: items | list}) -%}
  {%- endfor -%}
  {{- sql_literal({
      'actions': policy,
      'allow_patterns': lists['pii_allow_patterns'],
      'allow_values': lists['pii_allow_values'],
  }) -}}
{%- endmacro %}
