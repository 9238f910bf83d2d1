{#- One row per live, unique document. Access groups come from front matter `access_groups`, else
    the first matching rule of seeds/access_rules.csv (by priority), else default_access_groups. -#}

with cleaned as (
    select * from {{ ref('int_documents_redacted') }}
),

rules as (
    select * from {{ ref('access_rules') }}
),

front_matter_groups as (
    select
        document_id,
        {{ access_groups_list("try_cast(json_extract(metadata::json, '$.access_groups') as varchar[])") }} as groups
    from cleaned
),

rule_groups as (
    select
        cleaned.document_id,
        {{ access_groups_list("string_split(rules.access_groups, ';')") }} as groups
    from cleaned
    inner join rules
        -- sqlfluff's DuckDB dialect does not parse the GLOB operator
        on cleaned.source_path glob rules.path_glob  -- noqa: PRS, LT02
    qualify row_number() over (partition by cleaned.document_id order by rules.priority, rules.path_glob) = 1
),

findings as (
    select cleaned.document_id, unnested.finding.entity_type as entity_type
    from cleaned
    cross join unnest(cleaned.pii_findings) as unnested (finding)
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

with_groups as (
    select
        cleaned.*,
        coalesce(
            nullif(front_matter_groups.groups, []),
            nullif(rule_groups.groups, []),
            {{ access_groups_list(sql_literal(var('default_access_groups')) ~ '::varchar[]') }}
        ) as access_groups
    from cleaned
    left join front_matter_groups using (document_id)
    left join rule_groups using (document_id)
),

final as (
    select
        document_id,
        with_groups.source_path,
        with_groups.record_key,
        with_groups.file_type,
        with_groups.title,
        with_groups.text,
        with_groups.text_sha256,
        with_groups.n_chars,
        with_groups.access_groups,
        with_groups.metadata::json as metadata,
        len(with_groups.pii_findings)::integer as n_pii_findings,
        coalesce(pii_counts.counts, '{}'::json) as pii_counts,
        with_groups.content_sha256,
        with_groups.size_bytes,
        with_groups.modified_at,
        with_groups.loaded_at
    from with_groups
    left join pii_counts using (document_id)
)

select * from final
