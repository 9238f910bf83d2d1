{#- Text extraction. One row per document a file yields (JSON/JSONL: one per record), or one row
    with a reason code for a file that yields none. The docvec_parse UDF never raises: a parser
    failure comes back as reason 'parse_error' with the parser's message. -#}

with staged as (
    select * from {{ ref('stg_landing__documents') }}
),

parsed as materialized (
    select
        *,
        case
            when not is_too_large and read_error is null
                then docvec_parse(source_path, content, {{ parse_options_json() }})
        end as parse_result
    from staged
),

outcomes_per_file as (
    select
        *,
        case
            when read_error is not null then 'unreadable'
            when is_too_large then 'too_large'
            when parse_result.reason is not null then parse_result.reason
            when len(parse_result.records) = 0 then 'parse_error'
        end as file_reason
    from parsed
),

failed as (
    select
        source_path, file_type, size_bytes, modified_at, content_sha256, loaded_at,
        null::varchar as record_key,
        null::varchar as title,
        null::varchar as raw_text,
        null::varchar as metadata,
        file_reason as reason,
        case file_reason
            when 'unreadable' then read_error
            when 'too_large'
                then format(
                    'file is {} bytes; max_file_size_bytes is {}', size_bytes, {{ var('max_file_size_bytes') | int }}
                )
            else coalesce(parse_result.detail, 'the parser returned no document')
        end as detail
    from outcomes_per_file
    where file_reason is not null
),

records as (
    select
        source_path, file_type, size_bytes, modified_at, content_sha256, loaded_at,
        -- the struct expands into the record's fields: nothing to alias
        unnest(parse_result.records, recursive := true),  -- noqa: AL03
        null::varchar as reason,
        null::varchar as detail
    from outcomes_per_file
    where file_reason is null
),

documents as (
    select
        source_path, file_type, size_bytes, modified_at, content_sha256, loaded_at,
        record_key, title, text as raw_text, metadata, reason, detail
    from records
),

outcomes as (
    select * from documents
    union all by name
    select * from failed
),

identified as (
    select
        md5(source_path || coalesce('#' || record_key, '')) as document_id,
        source_path,
        record_key,
        file_type,
        title,
        raw_text,
        metadata,
        reason,
        detail,
        size_bytes,
        modified_at,
        content_sha256,
        loaded_at
    from outcomes
)

select * from identified
