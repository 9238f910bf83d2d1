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

too_large as (
    select
        source_path, file_type, size_bytes, modified_at, content_sha256, loaded_at,
        null::varchar as record_key,
        null::varchar as title,
        null::varchar as raw_text,
        null::varchar as metadata,
        'too_large' as reason,
        format('file is {} bytes; max_file_size_bytes is {}', size_bytes, {{ var('max_file_size_bytes') | int }}) as detail
    from parsed
    where is_too_large
        and read_error is null
),

unreadable as (
    select
        source_path, file_type, size_bytes, modified_at, content_sha256, loaded_at,
        null::varchar as record_key,
        null::varchar as title,
        null::varchar as raw_text,
        null::varchar as metadata,
        'unreadable' as reason,
        read_error as detail
    from parsed
    where read_error is not null
),

failed as (
    select
        source_path, file_type, size_bytes, modified_at, content_sha256, loaded_at,
        null::varchar as record_key,
        null::varchar as title,
        null::varchar as raw_text,
        null::varchar as metadata,
        coalesce(parse_result.reason, 'parse_error') as reason,
        coalesce(parse_result.detail, 'the parser returned no document') as detail
    from parsed
    where not is_too_large
        and read_error is null
        and (parse_result.reason is not null or len(parse_result.records) = 0)
),

records as (
    select
        source_path, file_type, size_bytes, modified_at, content_sha256, loaded_at,
        unnest(parse_result.records, recursive := true),
        null::varchar as reason,
        null::varchar as detail
    from parsed
    where not is_too_large
        and read_error is null
        and parse_result.reason is null
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
    union all by name
    select * from too_large
    union all by name
    select * from unreadable
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
