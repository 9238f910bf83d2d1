{#- Exact-duplicate detection on the cleaned text, within one access-group set only: documents
    with the same text_sha256 AND the same access_groups are copies, and the first of them is
    canonical (a regular file before a link to it, then by source_path, then record_key); every
    other copy points at it. A text found under different access groups is kept once per group
    set, so a merge can never widen who reads it (the warn test
    warn_texts_under_different_access_groups lists such texts). -#}

with documents as (
    select * from {{ ref('int_documents_access_resolved') }}
),

deduplicated as (
    select
        *,
        case
            when reason is null
                then first(document_id) over (
                    partition by text_sha256, access_groups
                    order by
                        coalesce(real_source_path, source_path) <> source_path,
                        source_path,
                        record_key nulls first
                )
        end as canonical_document_id
    from documents
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
        text_sha256,
        n_chars,
        metadata,
        access_groups,
        access_source,
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
