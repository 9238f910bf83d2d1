{#- Every file (or JSON record) that could not become a document, with a reason code and the
    detail (the parser's message for parse_error; in pii_mode redact with personal data and
    secrets masked). Nothing is dropped silently. Read from the stored int_documents_redacted, so
    no file is parsed twice. -#}

with rejected as (
    select * from {{ ref('int_documents_redacted') }}
    where reason is not null
),

final as (
    select
        document_id,
        source_path,
        record_key,
        file_type,
        reason,
        detail,
        content_sha256,
        size_bytes,
        modified_at,
        loaded_at as quarantined_at
    from rejected
)

select * from final
