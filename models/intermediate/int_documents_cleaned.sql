{#- Unicode NFC, line endings, control characters and blank runs normalised (docvec_clean), then
    exact-duplicate detection on the cleaned text: the first document by path is canonical and
    every other copy points at it. A document whose text is empty after cleaning gets reason
    'empty_text'. -#}

with parsed as (
    select * from {{ ref('int_documents_parsed') }}
),

cleaned as materialized (
    select
        *,
        case when reason is null then docvec_clean(raw_text) end as text
    from parsed
),

checked as (
    select
        * exclude (reason, detail),
        case
            when reason is null and length(text) = 0 then 'empty_text'
            else reason
        end as reason,
        case
            when reason is null and length(text) = 0
                then 'no text left after cleaning (whitespace, control or zero-width characters only)'
            else detail
        end as detail
    from cleaned
),

hashed as (
    select
        *,
        case when reason is null then sha256(text) end as text_sha256
    from checked
),

deduplicated as (
    select
        *,
        case
            when reason is null
                then first(document_id) over (
                    partition by text_sha256
                    order by source_path, record_key nulls first
                )
        end as canonical_document_id
    from hashed
),

final as (
    select
        document_id,
        source_path,
        record_key,
        file_type,
        title,
        text,
        text_sha256,
        length(text) as n_chars,
        metadata,
        reason,
        detail,
        reason is null and document_id <> canonical_document_id as is_duplicate,
        canonical_document_id,
        size_bytes,
        modified_at,
        content_sha256,
        loaded_at
    from deduplicated
)

select * from final
