{{ config(tags=['evaluation']) }}
{#- Every golden question's answer phrase occurs in the text of its relevant document, when that
    document is in the corpus: a question whose answer is not where the seed says cannot be
    scored fairly. -#}

with golden as (
    select * from {{ ref('eval_golden_questions') }}
    where answer_phrase is not null
),

documents as (
    select source_path, record_key, text from {{ ref('documents') }}
)

select golden.dataset, golden.question_id, golden.relevant_source_path, golden.answer_phrase
from golden
inner join documents
    on golden.relevant_source_path = documents.source_path
        and coalesce(documents.record_key, '') = coalesce(golden.relevant_record_key, '')
where not contains(documents.text, golden.answer_phrase)
