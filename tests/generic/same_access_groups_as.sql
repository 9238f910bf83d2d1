{#- Fails with every row whose access groups differ from those of its parent row in `to`
    (joined on `field`), or that has no groups at all (access control fails closed). -#}
{% test same_access_groups_as(model, column_name, to, field) %}
  {%- if to is none or field is none -%}
    {% do exceptions.raise_compiler_error("same_access_groups_as: `to` and `field` are required") %}
  {%- endif -%}
  select child.*
  from {{ model }} as child
  left join {{ to }} as parent
    on child.{{ field }} = parent.{{ field }}
  where child.{{ column_name }} is null
     or len(child.{{ column_name }}) = 0
     or parent.{{ field }} is null
     or list_sort(child.{{ column_name }}) <> list_sort(parent.{{ column_name }})
{% endtest %}
