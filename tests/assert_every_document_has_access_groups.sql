{{ config(severity='error') }}
{#- Access control fails closed: every live document names at least one group, none blank. Fails
    with the documents that do not. -#}

select document_id, source_path, access_groups
from {{ ref('documents') }}
where access_groups is null
    or len(access_groups) = 0
    or len(list_filter(access_groups, g -> g is null or trim(g) = '')) > 0
