{#- Boilerplate lines: the md5 of every candidate line (docvec_line_hashes UDF,
    python_udfs/boilerplate_lines.py: 20+ characters, not Markdown structure nor code) found in
    more than var boilerplate_min_share of the live, canonical documents of a folder (the
    dirname of source_path) that has at least var boilerplate_min_documents of them.
    int_documents_redacted removes these lines before redaction and chunking. Only hashes: no
    line's text is in this view. -#}
{%- set min_share = var('boilerplate_min_share') -%}
{%- set min_documents = var('boilerplate_min_documents') -%}

with documents as (
    select document_id, parse_dirpath(source_path, '/') as folder, text
    from {{ ref('int_documents_deduplicated') }}
    where reason is null and not is_duplicate
),

folders as (
    select folder, count(*) as n_folder_documents
    from documents
    group by folder
    having count(*) >= {{ min_documents }}
),

line_counts as (
    select documents.folder, unnested.line_hash, count(distinct documents.document_id) as n_documents
    from documents
    inner join folders on documents.folder = folders.folder
    cross join unnest(docvec_line_hashes(documents.text)) as unnested (line_hash)
    group by documents.folder, unnested.line_hash
),

final as (
    select
        line_counts.folder,
        line_counts.line_hash,
        line_counts.n_documents,
        folders.n_folder_documents,
        line_counts.n_documents / folders.n_folder_documents as document_share
    from line_counts
    inner join folders on line_counts.folder = folders.folder
    where line_counts.n_documents > {{ min_share }} * folders.n_folder_documents
)

select * from final
