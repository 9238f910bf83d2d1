{#- Unicode NFC, line endings, control characters and blank runs normalised (docvec_clean) and
    the SHA-256 of the cleaned text (the exact-duplicate key). A document whose text is empty
    after cleaning gets reason 'empty_text'. A view: the cleaned text is not redacted yet, so it
    is never stored (int_documents_redacted is the first table). -#}

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

final as (
    select
        document_id,
        source_path,
        real_source_path,
        record_key,
        file_type,
        title,
        text,
        case when reason is null then sha256(text) end as text_sha256,
        length(text) as n_chars,
        metadata,
        reason,
        detail,
        size_bytes,
        modified_at,
        content_sha256,
        loaded_at
    from checked
)

select * from final
