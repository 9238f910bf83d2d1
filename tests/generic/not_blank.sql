{#- Fails with every row whose text column is null, empty or whitespace only. -#}
{% test not_blank(model, column_name) %}
  select *
  from {{ model }}
  where {{ column_name }} is null
     or length(trim({{ column_name }}, ' ' || chr(9) || chr(10) || chr(13) || chr(12))) = 0
{% endtest %}
