{#- Text extraction. One row per document a file yields (JSON/JSONL: one per record), or one row
    with a reason code for a file that yields none. The docvec_parse UDF never raises: a parser
    failure comes back as reason 'parse_error' with the parser's message.
    A view, so the raw text is never stored. DuckDB drops AS MATERIALIZED from a stored view, so
    every CTE here is read once, in a straight line: a CTE read twice (say, one branch for the
    records and one for the failures) would read and parse every file twice. -#}

with staged as (
    select * from {{ ref('stg_landing__documents') }}
),

parsed as (
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
            when skip_reason is not null then skip_reason  -- outside_source, excluded_secret, excluded_hidden
            when read_error is not null then 'unreadable'
            when is_too_large then 'too_large'
            when parse_result.reason is not null then parse_result.reason
            when len(parse_result.records) = 0 then 'parse_error'
        end as file_reason
    from parsed
),

-- a file that yields documents: one row per record; a file that yields none: one row (a null record)
outcomes as (
    select
        source_path, real_source_path, file_type, size_bytes, modified_at, content_sha256, loaded_at,
        file_reason as reason,
        case
            when file_reason is null then null
            when read_error is not null then read_error  -- unreadable, or why the landing walk skipped it
            when file_reason = 'too_large'
                then format(
                    'file is {} bytes; max_file_size_bytes is {}', size_bytes, {{ var('max_file_size_bytes') | int }}
                )
            else coalesce(parse_result.detail, 'the parser returned no document')
        end as detail,
        unnest(case when file_reason is null then parse_result.records else [null] end) as record
    from outcomes_per_file
),

identified as (
    select
        md5(source_path || coalesce('#' || record.record_key, '')) as document_id,
        source_path,
        real_source_path,
        record.record_key as record_key,
        file_type,
        record.title as title,
        record.text as raw_text,
        record.metadata as metadata,
        reason,
        detail,
        size_bytes,
        modified_at,
        content_sha256,
        loaded_at
    from outcomes
)

select * from identified
