{#- Every metric of every golden question, per strategy x model x mode, at document level: a
    document ranks where its best chunk ranks, relevance is binary. A question a mode returned
    nothing for scores 0. python_udfs/evaluation.py holds the same math in Python. -#}

with questions as (
    select dataset, question_id, n_relevant from {{ ref('eval_questions') }}
),

relevant as (
    select dataset, question_id, document_id from {{ ref('eval_relevant_documents') }}
),

strategies as (
    select strategy_id from {{ ref('chunking_strategies') }}
),

modes as (
    select * from (values ('vector'), ('keyword'), ('hybrid')) as m (mode)
),

metrics as (
    select * from (
        values
        ('recall', 1), ('recall', 5), ('recall', 10), ('recall', 100), ('mrr', 10), ('ndcg', 10)
    ) as m (metric, k)
),

runs as (
    select * from {{ ref('retrieval_runs') }}
),

document_ranks as (
    select
        dataset, question_id, strategy_id, model_id, mode, document_id,
        row_number() over (
            partition by dataset, question_id, strategy_id, model_id, mode
            order by min(rank)
        ) as document_rank
    from runs
    group by dataset, question_id, strategy_id, model_id, mode, document_id
),

hits as (
    select document_ranks.*
    from document_ranks
    inner join relevant using (dataset, question_id, document_id)
),

grid as (
    select
        questions.dataset,
        questions.question_id,
        questions.n_relevant,
        strategies.strategy_id,
        {{ sql_literal(serving_model_id()) }} as model_id,
        modes.mode,
        metrics.metric,
        metrics.k
    from questions
    cross join strategies
    cross join modes
    cross join metrics
),

scored as (
    select
        grid.dataset,
        grid.strategy_id,
        grid.model_id,
        grid.mode,
        grid.question_id,
        grid.metric,
        grid.k,
        case grid.metric
            when 'recall'
                then count(hits.document_id) filter (where hits.document_rank <= grid.k) / grid.n_relevant
            when 'mrr'
                then coalesce(max(1.0 / hits.document_rank) filter (where hits.document_rank <= grid.k), 0)
            when 'ndcg'
                then coalesce(sum(1.0 / log2(hits.document_rank + 1)) filter (where hits.document_rank <= grid.k), 0)
                / list_sum(list_transform(range(1, least(grid.n_relevant, grid.k) + 1), i -> 1.0 / log2(i + 1)))
        end::double as value
    from grid
    left join hits
        on grid.dataset = hits.dataset
            and grid.question_id = hits.question_id
            and grid.strategy_id = hits.strategy_id
            and grid.model_id = hits.model_id
            and grid.mode = hits.mode
    group by
        grid.dataset, grid.strategy_id, grid.model_id, grid.mode, grid.question_id,
        grid.metric, grid.k, grid.n_relevant
)

select * from scored
