{#- Personal data and secrets are found (docvec_pii UDF, python_udfs/redaction.py) in every live
    document before anything is chunked or embedded. pii_mode 'redact' replaces each with a typed
    placeholder ([EMAIL], [CREDIT_CARD], ...) and the redacted text becomes the document text, so
    chunk offsets and lineage stay consistent; 'flag' keeps the text and records the findings;
    'off' skips the scan. Findings hold a type and a span, never the value. -#}
{%- set mode = var('pii_mode') -%}
{%- if mode not in ['redact', 'flag', 'off'] -%}
  {% do exceptions.raise_compiler_error("var pii_mode must be redact, flag or off; got " ~ mode) %}
{%- endif -%}

with live as (
    select * from {{ ref('int_documents_cleaned') }}
    where reason is null
        and not is_duplicate
),

scanned as materialized (
    select
        *,
        docvec_pii(text, {{ sql_literal(mode) }}) as pii
    from live
),

final as (
    select
        document_id,
        source_path,
        record_key,
        file_type,
        title,
        pii.text as text,
        text_sha256,
        length(pii.text) as n_chars,
        metadata,
        pii.findings as pii_findings,
        {{ sql_literal(mode) }} as pii_mode,
        size_bytes,
        modified_at,
        content_sha256,
        loaded_at
    from scanned
)

select * from final
