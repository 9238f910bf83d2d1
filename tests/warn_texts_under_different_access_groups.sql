{{ config(severity='warn') }}
{#- Warns (never fails) for every text found under different access groups: it is kept once per
    group set (deduplication never merges across access), but the same words readable by more
    groups through one path than another is usually a copy or a link someone should look at.
    One row per text: its paths and the group sets, never the text. -#}

with live as (
    select text_sha256, source_path, record_key, access_groups
    from {{ ref('int_documents_redacted') }}
    where reason is null
)

select
    text_sha256,
    list(distinct access_groups) as access_group_sets,
    list(source_path || coalesce('#' || record_key, '') order by source_path, record_key) as paths
from live
group by text_sha256
having count(distinct access_groups) > 1
