{#- One row per landing file. Files over max_file_size_bytes are listed from their metadata only:
    their bytes are never read (filter pushdown on read_blob's size column). -#}
{%- set max_bytes = var('max_file_size_bytes') | int -%}
{%- set root = source_root() -%}

with small_files as (
    select filename, size, last_modified, content
    from {{ source('landing', 'documents') }}
    where size <= {{ max_bytes }}
),

large_files as (
    select filename, size, last_modified, null::blob as content
    from {{ source('landing', 'documents') }}
    where size > {{ max_bytes }}
),

files as (
    select * from small_files
    union all
    select * from large_files
),

relative_paths as (
    select
        *,
        case
            when starts_with(filename, {{ sql_literal(root ~ '/') }})
                then substr(filename, {{ (root ~ '/') | length + 1 }})
            else filename
        end as relative_path
    from files
),

selected as (
    select *
    from relative_paths
    where {{ glob_matches('relative_path', var('include_globs')) }}
        and not {{ glob_matches('relative_path', var('exclude_globs')) }}
),

renamed as (
    select
        relative_path as source_path,
        filename as file_path,
        regexp_extract(relative_path, '[^/]+$') as file_name,
        lower(regexp_extract(relative_path, '\.([^./]+)$', 1)) as extension,
        docvec_file_type(relative_path) as file_type,
        size::bigint as size_bytes,
        size > {{ max_bytes }} as is_too_large,
        last_modified::timestamptz as modified_at,
        content,
        sha256(content) as content_sha256,
        current_timestamp as loaded_at
    from selected
)

select * from renamed
