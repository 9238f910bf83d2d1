{{ config(tags=['evaluation', 'evaluation_threshold']) }}
{#- Quality gate: fails when the serving configuration (var serving_strategy, the configured
    embedding model, hybrid search) finds fewer than var eval_min_recall_at_5 of the relevant
    documents in its top 5 for the golden questions, or was not evaluated although there are
    golden questions to score. -#}
{%- set threshold = var('eval_min_recall_at_5') | float -%}

with serving as (
    select value, n_queries
    from {{ ref('retrieval_metrics') }}
    where dataset = {{ sql_literal(var('eval_dataset')) }}
        and strategy_id = {{ sql_literal(var('serving_strategy')) }}
        and model_id = {{ sql_literal(serving_model_id()) }}
        and mode = 'hybrid'
        and metric = 'recall'
        and k = 5
),

questions as (
    select count(*) as n_questions
    from {{ ref('eval_questions') }}
    where dataset = {{ sql_literal(var('eval_dataset')) }}
)

select
    'recall@5' as metric,
    serving.value,
    {{ threshold }} as threshold,
    questions.n_questions
from questions
left join serving on true
where questions.n_questions > 0
    and (serving.value is null or serving.value < {{ threshold }})
