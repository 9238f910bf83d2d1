{#- A SQL string literal for any value: single quotes doubled, so a value can never end the
    literal and splice SQL. Lists and mappings are written as JSON text. -#}
{% macro sql_literal(value) -%}
  {%- if value is none -%}
    null
  {%- else -%}
    {%- set text = value if value is string else tojson(value) -%}
    '{{ text | replace("'", "''") }}'
  {%- endif -%}
{%- endmacro %}
