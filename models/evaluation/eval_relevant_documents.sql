{#- Which documents answer which golden question: documents whose source_path and record_key
    match the question's. A relevant file that is an exact duplicate of another counts through
    its canonical document (the one that is chunked and searched). -#}

with golden as (
    select * from {{ ref('eval_golden_questions') }}
),

documents as (
    select document_id, document_id as searched_document_id, source_path, record_key
    from {{ ref('documents') }}
    union all
    select document_id, canonical_document_id, source_path, record_key
    from {{ ref('document_duplicates') }}
),

matched as (
    select distinct
        golden.dataset,
        golden.question_id,
        documents.searched_document_id as document_id
    from golden
    inner join documents
        on golden.relevant_source_path = documents.source_path
            and coalesce(documents.record_key, '') = coalesce(golden.relevant_record_key, '')
)

select * from matched
