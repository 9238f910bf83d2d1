{{ config(tags=['evaluation', 'evaluation_threshold']) }}
{#- Quality gate: fails when the serving configuration (var serving_strategy, the configured
    embedding model, hybrid search) ranks the relevant documents of the golden questions with a
    mean nDCG@10 below var eval_min_ndcg_at_10, or was not evaluated although there are golden
    questions to score. -#}
{%- set threshold = var('eval_min_ndcg_at_10') | float -%}

with serving as (
    select value, n_queries
    from {{ ref('retrieval_metrics') }}
    where dataset = {{ sql_literal(var('eval_dataset')) }}
        and strategy_id = {{ sql_literal(var('serving_strategy')) }}
        and model_id = {{ sql_literal(serving_model_id()) }}
        and mode = 'hybrid'
        and metric = 'ndcg'
        and k = 10
),

questions as (
    select count(*) as n_questions
    from {{ ref('eval_questions') }}
    where dataset = {{ sql_literal(var('eval_dataset')) }}
)

select
    'ndcg@10' as metric,
    serving.value,
    {{ threshold }} as threshold,
    questions.n_questions
from questions
left join serving on true
where questions.n_questions > 0
    and (serving.value is null or serving.value < {{ threshold }})
