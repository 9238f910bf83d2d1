{#- Who may read each document, decided before deduplication so that copies under different
    access never merge. Fails closed: every doubt makes a document more restricted.
    1. Front matter / JSON field `access_groups` (validated by the parser: a malformed, misspelt or
       misplaced declaration is already quarantined as 'access_unparseable'; a declaration that
       still reaches here empty becomes 'access_unparseable' too).
    2. Else seeds/access_rules.csv, matched case-insensitively (`HR/x.md` matches `hr/*`) on the
       document's path and on its real path (a symbolic link's target, real_source_path): per
       path the matching rules with the lowest priority number decide, several at that priority
       give the intersection of their groups; the two paths give the intersection of theirs.
    3. Else, with access_mode 'open', var default_access_groups.
    Whatever ends empty, and in access_mode 'enforce' every document nothing above covers, is
    readable by var access_admin_group only (access_source 'admin_fallback'). -#}
{%- set mode = var('access_mode') -%}
{%- if mode not in ['open', 'enforce'] -%}
  {% do exceptions.raise_compiler_error("var access_mode must be open or enforce; got " ~ mode) %}
{%- endif -%}
{%- set admin_group = var('access_admin_group') -%}
{%- if admin_group is not string or admin_group | trim == '' -%}
  {% do exceptions.raise_compiler_error("var access_admin_group must be a non-blank group name; got " ~ admin_group) %}
{%- endif -%}
{%- set admin_groups = sql_literal([admin_group | trim]) ~ '::varchar[]' -%}
{%- set default_groups = access_groups_list(sql_literal(var('default_access_groups')) ~ '::varchar[]') -%}

with documents as (
    select * from {{ ref('int_documents_cleaned') }}
),

-- Every rule in one list (one row), so that each document is matched without a join.
rule_list as (
    select
        list({
            'priority': priority,
            'path_glob': lower(trim(path_glob)),
            'groups': {{ access_groups_list("string_split(coalesce(access_groups, ''), ';')") }}
        }) as rules
    from {{ ref('access_rules') }}
),

declared as (
    select
        documents.*,
        coalesce(json_exists(documents.metadata, '$.access_groups'), false) as declares_groups,
        {{ access_groups_list("try_cast(json_extract(documents.metadata, '$.access_groups') as varchar[])") }}
            as declared_groups,
        -- per distinct path (the document's, its real target's): the rules whose glob matches it
        list_transform(
            list_distinct([documents.source_path, coalesce(documents.real_source_path, documents.source_path)]),
            -- sqlfluff takes the GLOB operator for a column
            path -> list_filter(coalesce(rule_list.rules, []), rule -> lower(path) glob rule.path_glob)  -- noqa: RF02
        ) as rules_per_path
    from documents
    cross join rule_list
),

ruled as (
    select
        *,
        -- per path a rule matches: the intersection of the groups of its lowest-priority rules
        list_transform(
            list_filter(rules_per_path, matches -> len(matches) > 0),
            matches -> list_reduce(
                list_transform(
                    list_filter(matches, rule -> rule.priority = list_min(list_transform(matches, m -> m.priority))),
                    rule -> rule.groups
                ),
                (a, b) -> list_intersect(a, b)
            )
        ) as groups_per_path
    from declared
),

combined as (
    select
        *,
        case
            when len(groups_per_path) > 0
                then {{ access_groups_list("list_reduce(groups_per_path, (a, b) -> list_intersect(a, b))") }}
        end as rule_groups,
        reason is null and declares_groups and coalesce(len(declared_groups), 0) = 0 as is_unparseable
    from ruled
),

resolved as (
    select
        *,
        case
            when reason is not null or is_unparseable then null
            when declares_groups then 'front_matter'
            when rule_groups is not null and len(rule_groups) > 0 then 'access_rules'
            {%- if mode == 'open' %}
            when rule_groups is null and len({{ default_groups }}) > 0 then 'default_access_groups'
            {%- endif %}
            else 'admin_fallback'
        end as access_source
    from combined
),

final as (
    select
        document_id,
        source_path,
        real_source_path,
        record_key,
        file_type,
        title,
        text,
        text_sha256,
        n_chars,
        metadata,
        case
            when access_source = 'front_matter' then declared_groups
            when access_source = 'access_rules' then rule_groups
            when access_source = 'default_access_groups' then {{ default_groups }}
            when access_source = 'admin_fallback' then {{ admin_groups }}
        end as access_groups,
        access_source,
        case when is_unparseable then 'access_unparseable' else reason end as reason,
        case
            when is_unparseable then 'access_groups is declared but names no group (empty, null or blank)'
            else detail
        end as detail,
        size_bytes,
        modified_at,
        content_sha256,
        loaded_at
    from resolved
)

select * from final
