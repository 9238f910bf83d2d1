{#- The first stored table of the pipeline: every parsed document (live, duplicate or
    quarantined) after the PII stage, so that no unredacted text is ever at rest (staging and
    the models before this one are views; raw bytes and raw text live only while this table is
    built). Personal data and secrets are found (docvec_pii UDF, python_udfs/redaction/) in every
    live, canonical document before anything is chunked or embedded. pii_mode 'redact' replaces
    each with a typed placeholder ([EMAIL], [CREDIT_CARD], ...) in the text, and also in the title,
    the metadata and a quarantine detail; the redacted text becomes the document text, so chunk
    offsets and lineage stay consistent. 'flag' keeps the text and records the findings; 'off'
    skips the scan and stores the text as it is (the documented exception to "no raw secret at
    rest"). Findings hold a type and a span, never the value. Duplicates and quarantined rows keep
    no text: document_duplicates and quarantined_documents need only their keys and reasons. -#}
{{ config(materialized='table') }}
{%- set mode = var('pii_mode') -%}
{%- if mode is sameas false -%}{%- set mode = 'off' -%}{%- endif -%}  {#- YAML reads a bare off as false #}
{%- if mode not in ['redact', 'flag', 'off'] -%}
  {% do exceptions.raise_compiler_error("var pii_mode must be redact, flag or off; got " ~ mode) %}
{%- endif -%}
{%- set redacts = mode == 'redact' -%}
{%- set policy = pii_policy_json() -%}  {#- pii_policy, pii_allow_patterns, pii_allow_values: validated #}

with deduplicated as (
    select * from {{ ref('int_documents_deduplicated') }}
),

-- lines repeated across most documents of a folder, removed before redaction and chunking
boilerplate as (
    select folder, list(line_hash) as line_hashes
    from {{ ref('int_boilerplate_lines_counted') }}
    group by folder
),

stripped as (
    select
        deduplicated.*,
        case
            when deduplicated.reason is null and not deduplicated.is_duplicate
                then docvec_remove_lines(deduplicated.text, boilerplate.line_hashes)
        end as boilerplate_removal
    from deduplicated
    left join boilerplate on parse_dirpath(deduplicated.source_path, '/') = boilerplate.folder
),

documents as (
    select
        * exclude (boilerplate_removal) replace (
            coalesce(boilerplate_removal.text, text) as text,
            case
                when boilerplate_removal.n_removed > 0
                    then json_merge_patch(
                        coalesce(metadata, '{}'),
                        json_object('boilerplate_lines_removed', boilerplate_removal.n_removed)
                    )::varchar
                else metadata
            end as metadata
        )
    from stripped
),

scanned as materialized (
    select
        *,
        case
            when reason is null and not is_duplicate then docvec_pii(text, {{ sql_literal(mode) }}, {{ policy }})
        end as pii,
        {%- if redacts %}
            case
                when reason is null and not is_duplicate then docvec_pii(title, 'redact', {{ policy }}).text
            end as redacted_title,
            case
                when reason is null and not is_duplicate then docvec_pii(metadata, 'redact', {{ policy }}).text
            end as redacted_metadata,
            case
                when reason is not null then docvec_pii(detail, 'redact', {{ policy }}).text else detail
            end as redacted_detail
        {%- else %}
        case when reason is null and not is_duplicate then title end as redacted_title,
        case when reason is null and not is_duplicate then metadata end as redacted_metadata,
        detail as redacted_detail
        {%- endif %}
    from documents
),

final as (
    select
        document_id,
        source_path,
        real_source_path,
        record_key,
        file_type,
        redacted_title as title,
        pii.text as text,
        text_sha256,
        length(pii.text) as n_chars,
        -- a placeholder written over a JSON number leaves invalid JSON: then the metadata is withheld
        case
            when redacted_metadata is null or json_valid(redacted_metadata) then redacted_metadata
            else '{"metadata_withheld": "it held personal data or a secret that could not be masked in place"}'
        end as metadata,
        access_groups,
        access_source,
        reason,
        redacted_detail as detail,
        is_duplicate,
        canonical_document_id,
        pii.findings as pii_findings,
        {{ sql_literal(mode) }} as pii_mode,
        size_bytes,
        modified_at,
        content_sha256,
        loaded_at
    from scanned
)

select * from final
