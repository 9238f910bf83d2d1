{#- Body of the quality-gate tests: returns a row (so the test fails) when the serving
    configuration (var serving_strategy, the configured embedding model, hybrid search) scores
    `metric`@`k` below `threshold` on the golden questions of var eval_dataset, or was not
    evaluated although there are golden questions to score. When no golden question belongs to
    the corpus (e.g. the bundled questions on your own folder) the gate cannot judge anything: it
    logs one line saying it was not evaluated, and passes. -#}
{% macro serving_quality_gate(metric, k, threshold) -%}
{%- if execute -%}
  {%- set questions = load_relation(ref('eval_questions')) -%}
  {%- if questions is not none -%}
    {%- set counted -%}
      select count(*) from {{ questions }} where dataset = {{ sql_literal(var('eval_dataset')) }}
    {%- endset -%}
    {%- if run_query(counted).columns[0].values()[0] == 0 -%}
      {%- do log(
          model.name ~ ": not evaluated: no golden question of dataset '" ~ var('eval_dataset')
          ~ "' has its relevant document in this corpus (the bundled questions are about sample_docs/; "
          ~ "var golden_questions_path names your own)", info=True) -%}
    {%- endif -%}
  {%- endif -%}
{%- endif %}
with serving as (
    select value, n_queries
    from {{ ref('retrieval_metrics') }}
    where dataset = {{ sql_literal(var('eval_dataset')) }}
        and strategy_id = {{ sql_literal(var('serving_strategy')) }}
        and model_id = {{ sql_literal(serving_model_id()) }}
        and mode = 'hybrid'
        and metric = {{ sql_literal(metric) }}
        and k = {{ k | int }}
),

questions as (
    select count(*) as n_questions
    from {{ ref('eval_questions') }}
    where dataset = {{ sql_literal(var('eval_dataset')) }}
)

select
    {{ sql_literal(metric ~ '@' ~ k) }} as metric,
    serving.value,
    {{ threshold | float }} as threshold,
    questions.n_questions
from questions
left join serving on true
where questions.n_questions > 0
    and (serving.value is null or serving.value < {{ threshold | float }})
{%- endmacro %}
