{#- Fails with every row whose vector holds a NaN or an infinite element. -#}
{% test finite_vector(model, column_name) %}
  select *
  from {{ model }}
  where list_bool_or(list_transform({{ column_name }}::double[], x -> isnan(x) or isinf(x)))
{% endtest %}
