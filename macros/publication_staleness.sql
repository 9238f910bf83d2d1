{#- The rows of the freshness tests of the serving store: one row when a live landing file was
    modified after the newest landing file the current publication covers (publish_runs of the
    embedded store), more than `hours` ago. No row before the first publication. -#}
{% macro publication_staleness(hours) -%}
with newest_landing as (
    select max(modified_at) as modified_at from {{ ref('documents') }}
),

served as (
    select max(newest_landing_at) as newest_landing_at, max(finished_at) as published_at
    from {{ ref('publish_runs') }}
    where target = 'embedded' and status in ('published', 'unchanged', 'rolled_back')
),

stale as (
    select
        newest_landing.modified_at as unserved_change_at,
        served.newest_landing_at as served_through,
        served.published_at,
        date_diff('hour', newest_landing.modified_at, current_timestamp) as hours_unserved
    from newest_landing, served
    where
        served.published_at is not null
        and newest_landing.modified_at > served.newest_landing_at
        and newest_landing.modified_at < current_timestamp - to_hours({{ hours | int }})
)

select * from stale
{%- endmacro %}
