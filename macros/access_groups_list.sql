{#- Normalise a VARCHAR[] of access groups: trimmed, blank entries dropped, sorted, distinct. -#}
{% macro access_groups_list(expression) -%}
  list_sort(list_distinct(list_filter(list_transform({{ expression }}, g -> trim(g)), g -> g <> '')))
{%- endmacro %}
