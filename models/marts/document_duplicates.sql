{#- Documents whose cleaned text is byte-identical to another document's under the same access
    groups: not chunked or embedded again, each pointing at its canonical document. Read from the
    stored int_documents_redacted, so no file is parsed twice. -#}

with duplicates as (
    select * from {{ ref('int_documents_redacted') }}
    where reason is null
        and is_duplicate
),

final as (
    select
        document_id,
        source_path,
        record_key,
        file_type,
        canonical_document_id,
        text_sha256,
        content_sha256,
        size_bytes,
        modified_at,
        loaded_at
    from duplicates
)

select * from final
