{{ config(tags=['evaluation']) }}
{#- The asker of every golden question may read its relevant documents: access groups are applied
    before ranking, so a question about a document its asker cannot read could never be answered. -#}

with questions as (
    select dataset, question_id, groups from {{ ref('eval_questions') }}
),

relevant as (
    select dataset, question_id, document_id from {{ ref('eval_relevant_documents') }}
),

documents as (
    select document_id, source_path, access_groups from {{ ref('documents') }}
)

select questions.dataset, questions.question_id, questions.groups, documents.source_path, documents.access_groups
from questions
inner join relevant using (dataset, question_id)
inner join documents using (document_id)
where not list_has_any(documents.access_groups, questions.groups)
