{#- One row per landing file. Bytes are read by the docvec_read_file UDF only for readable files
    within max_file_size_bytes; a file that cannot be read keeps its row with `read_error`, so
    it is quarantined downstream instead of being lost or failing the build. An entry the walk
    skipped (`skip_reason`: a link outside the landing folder, a secret or hidden path) is never
    read: its `read_error` says why. -#}
{%- set max_bytes = var('max_file_size_bytes') | int -%}

with files as (
    select * from {{ source('landing', 'documents') }}
),

selected as (
    select *
    from files
    -- sqlfluff's DuckDB dialect does not parse the GLOB operator that glob_matches writes
    where {{ glob_matches('source_path', var('include_globs')) }}  -- noqa: PRS
        and not {{ glob_matches('source_path', var('exclude_globs')) }}  -- noqa: PRS
),

-- Not materialized: this model is a view, and a reader that needs no bytes (a count, the paths)
-- then never calls docvec_read_file (DuckDB drops the unused column).
read as (
    select
        *,
        case
            when error is null and skip_reason is null and size <= {{ max_bytes }}
                then docvec_read_file(file_path, {{ max_bytes }})
        end as read_result
    from selected
),

renamed as (
    select
        source_path,
        real_source_path,
        file_path,
        regexp_extract(source_path, '[^/]+$') as file_name,
        lower(regexp_extract(source_path, '\.([^./]+)$', 1)) as extension,
        docvec_file_type(source_path) as file_type,
        size::bigint as size_bytes,
        error is null and size > {{ max_bytes }} as is_too_large,
        is_symlink,
        skip_reason,
        coalesce(error, read_result.error) as read_error,
        last_modified as modified_at,
        read_result.content as content,
        sha256(read_result.content) as content_sha256,
        current_timestamp as loaded_at
    from read
)

select * from renamed
