{#- Fails with every row whose vector is null or does not have exactly `dimension` elements
    (default: the `embedding_dimension` var, the serving model's dimension). -#}
{% test vector_dimension(model, column_name, dimension=none) %}
  {%- set dimension = var('embedding_dimension') | int if dimension is none else dimension -%}
  {%- if dimension is not number or dimension < 1 -%}
    {% do exceptions.raise_compiler_error("vector_dimension: `dimension` must be a positive integer, got " ~ dimension) %}
  {%- endif -%}
  select *
  from {{ model }}
  where {{ column_name }} is null
     or len({{ column_name }}::float[]) <> {{ dimension }}
{% endtest %}
