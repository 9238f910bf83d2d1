{#- One row per piece of personal data or secret found in a live document: its type and its span
    in documents.text (in redact mode the span of the placeholder that replaced it). Never the
    value itself. -#}

with redacted as (
    select document_id, source_path, pii_mode, pii_findings
    from {{ ref('int_documents_redacted') }}
),

findings as (
    select
        redacted.document_id,
        redacted.source_path,
        redacted.pii_mode,
        unnested.finding.entity_type as entity_type,
        unnested.finding.start_char as start_char,
        unnested.finding.end_char as end_char
    from redacted
    cross join unnest(redacted.pii_findings) as unnested (finding)
),

final as (
    select
        md5(document_id || ':' || start_char::varchar) as finding_id,
        document_id,
        source_path,
        entity_type,
        start_char,
        end_char,
        pii_mode
    from findings
)

select * from final
