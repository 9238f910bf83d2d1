{#- The golden questions of this build, one row per question and relevant document: the seed
    seeds/golden_questions.csv, or the CSV file named by var `golden_questions_path` (source
    evaluation.golden_questions_file; same columns; `docvec eval --beir` writes one). Groups are the asker's, separated by ';' (empty: public). -#}
{%- set path = var('golden_questions_path') -%}

with source as (
    {%- if path %}
        select * from {{ source('evaluation', 'golden_questions_file') }}
    {%- else %}
        select * from {{ ref('golden_questions') }}
    {%- endif %}
),

normalised as (
    select
        {{ sql_literal(var('eval_dataset')) }} as dataset,
        trim(cast(question_id as varchar)) as question_id,
        cast(question as varchar) as question,
        trim(cast(relevant_source_path as varchar)) as relevant_source_path,
        nullif(trim(cast(relevant_record_key as varchar)), '') as relevant_record_key,
        coalesce(
            nullif({{ access_groups_list("string_split(coalesce(cast(groups as varchar), ''), ';')") }}, []),
            ['public']
        ) as groups,
        nullif(cast(answer_phrase as varchar), '') as answer_phrase
    from source
)

select * from normalised
