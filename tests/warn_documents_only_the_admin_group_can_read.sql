{{ config(severity='warn') }}
{#- Warns (never fails) for every live document only access_admin_group may read because nothing
    gave it groups: access_mode enforce and no front matter or access rule covers it, or its
    rules (or a link's two paths) share no group. Add a rule or front matter to publish it. -#}

select source_path, record_key, access_groups
from {{ ref('int_documents_redacted') }}
where reason is null
    and not is_duplicate
    and access_source = 'admin_fallback'
