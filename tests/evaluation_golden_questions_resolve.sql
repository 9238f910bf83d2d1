{{ config(severity='warn', tags=['evaluation']) }}
{#- Warns about golden questions none of whose relevant documents is in the corpus: they are not
    scored. The bundled questions (var golden_questions_path null) are about sample_docs/: on a
    corpus that holds none of their documents (your own folder) they are not evaluated and not
    warned about; questions you supply are always checked, and so are the bundled ones on a
    corpus that holds some of their documents. -#}

with golden as (
    select dataset, question_id, relevant_source_path, relevant_record_key
    from {{ ref('eval_golden_questions') }}
),

scored as (
    select dataset, question_id from {{ ref('eval_questions') }}
),

unscored as (
    select golden.dataset, golden.question_id, golden.relevant_source_path, golden.relevant_record_key
    from golden
    anti join scored using (dataset, question_id)
)

select * from unscored
-- the bundled questions on a corpus that holds none of their documents: not evaluated, no warning
where {% if var('golden_questions_path') %}true{% else %}exists (select 1 from scored){% endif %}
