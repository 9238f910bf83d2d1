{#- Retrieval quality per dataset x strategy x model x mode x metric x k, averaged over the golden
    questions (document level). Comparing chunking strategies is one query:
      select strategy_id, mode, value from retrieval_metrics
      where metric = 'ndcg' and k = 10 order by value desc -#}

with per_question as (
    select * from {{ ref('retrieval_query_metrics') }}
),

averaged as (
    select
        dataset,
        strategy_id,
        model_id,
        mode,
        metric,
        k,
        avg(value) as value,
        count(*) as n_queries
    from per_question
    group by dataset, strategy_id, model_id, mode, metric, k
)

select * from averaged
