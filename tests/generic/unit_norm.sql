{#- Fails with every row whose vector's L2 norm differs from 1 by more than `tolerance`
    (vectors are stored normalised so that dot product equals cosine similarity). -#}
{% test unit_norm(model, column_name, tolerance=0.001) %}
  {%- if tolerance is not number or tolerance <= 0 or tolerance >= 1 -%}
    {% do exceptions.raise_compiler_error("unit_norm: `tolerance` must be a number in (0, 1), got " ~ tolerance) %}
  {%- endif -%}
  select *, sqrt(list_sum(list_transform({{ column_name }}::double[], x -> x * x))) as l2_norm
  from {{ model }}
  where abs(sqrt(list_sum(list_transform({{ column_name }}::double[], x -> x * x))) - 1) > {{ tolerance }}
     or {{ column_name }} is null
{% endtest %}
