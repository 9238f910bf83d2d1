{#- True when `column` matches any of `globs` (GLOB syntax: `*` also crosses folders, `?` one
    character, `[abc]` a set). An empty list matches nothing. -#}
{% macro glob_matches(column, globs) -%}
  {%- if globs is string -%}
    {%- set globs = [globs] -%}
  {%- endif -%}
  {%- if globs | length == 0 -%}
    false
  {%- else -%}
    ({% for pattern in globs %}{{ column }} glob {{ sql_literal(pattern) }}{% if not loop.last %} or {% endif %}{% endfor %})
  {%- endif -%}
{%- endmacro %}
