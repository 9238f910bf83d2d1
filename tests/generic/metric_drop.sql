{#- On a run-history table, fails when the latest run's `column_name` fell by more than
    `max_drop_fraction` against the run before (e.g. half the documents vanished). Meant to warn:
    a drop may be a deliberate deletion, or a landing zone that failed to mount. -#}
{% test metric_drop(model, column_name, order_by='started_at', max_drop_fraction=0.5) %}
  {%- if max_drop_fraction is not number or max_drop_fraction <= 0 or max_drop_fraction >= 1 -%}
    {% do exceptions.raise_compiler_error("metric_drop: `max_drop_fraction` must be a number in (0, 1), got " ~ max_drop_fraction) %}
  {%- endif -%}
  with ordered as (
    select
      {{ column_name }} as current_value,
      lag({{ column_name }}) over (order by {{ order_by }}) as previous_value,
      row_number() over (order by {{ order_by }} desc) as recency
    from {{ model }}
  )
  select current_value, previous_value
  from ordered
  where recency = 1
    and previous_value > 0
    and current_value < previous_value * (1 - {{ max_drop_fraction }})
{% endtest %}
