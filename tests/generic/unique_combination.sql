{#- Fails with every combination of `columns` that occurs more than once (a compound key). -#}
{% test unique_combination(model, columns) %}
  {%- if columns is string or columns | length == 0 -%}
    {% do exceptions.raise_compiler_error("unique_combination: `columns` must be a non-empty list of column names, got " ~ columns) %}
  {%- endif -%}
  select {{ columns | join(', ') }}, count(*) as n_rows
  from {{ model }}
  group by {{ columns | join(', ') }}
  having count(*) > 1
{% endtest %}
