{#- One row per live, canonical document, with the access groups int_documents_access_resolved
    decided (front matter, else access rules on the path and a link's target, else the default
    in access_mode open, else only the admin group) and the PII counts of its redacted text. The
    same text under different access groups is one document per group set. -#}

with live as (
    select * from {{ ref('int_documents_redacted') }}
    where reason is null
        and not is_duplicate
),

findings as (
    select live.document_id, unnested.finding.entity_type as entity_type
    from live
    cross join unnest(live.pii_findings) as unnested (finding)
),

pii_counts as (
    select document_id, to_json(map(list(entity_type order by entity_type), list(n order by entity_type))) as counts
    from (
        select document_id, entity_type, count(*)::integer as n
        from findings
        group by all
    )
    group by document_id
),

final as (
    select
        document_id,
        live.source_path,
        live.record_key,
        live.file_type,
        live.title,
        live.text,
        live.text_sha256,
        live.n_chars,
        live.access_groups,
        live.metadata::json as metadata,
        len(live.pii_findings)::integer as n_pii_findings,
        coalesce(pii_counts.counts, '{}'::json) as pii_counts,
        live.content_sha256,
        live.size_bytes,
        live.modified_at,
        live.loaded_at
    from live
    left join pii_counts using (document_id)
)

select * from final
