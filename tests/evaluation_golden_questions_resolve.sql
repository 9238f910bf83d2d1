{{ config(severity='warn', tags=['evaluation']) }}
{#- Warns about golden questions none of whose relevant documents is in the corpus: they are not
    scored (e.g. the sample's questions when source_path points at another folder). -#}

select golden.dataset, golden.question_id, golden.relevant_source_path, golden.relevant_record_key
from {{ ref('eval_golden_questions') }} as golden
anti join {{ ref('eval_questions') }} as scored using (dataset, question_id)
