{#- One row per golden question that can be scored: at least one of its relevant documents is in
    the corpus. Questions whose documents are missing are left out (test
    evaluation_golden_questions_resolve warns about them, unless they are the bundled questions
    and none of them belongs to the corpus: then nothing is evaluated, and the quality gates say
    so). -#}

with golden as (
    select * from {{ ref('eval_golden_questions') }}
),

relevant as (
    select dataset, question_id, count(*) as n_relevant
    from {{ ref('eval_relevant_documents') }}
    group by dataset, question_id
),

questions as (
    select
        dataset,
        question_id,
        min(question) as question,
        min(groups) as groups
    from golden
    group by dataset, question_id
)

select
    questions.dataset,
    questions.question_id,
    questions.question,
    questions.groups,
    relevant.n_relevant
from questions
inner join relevant using (dataset, question_id)
