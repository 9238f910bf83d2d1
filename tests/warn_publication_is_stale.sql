{{ config(severity='warn', tags=['publication']) }}
{#- Like assert_publication_is_fresh, at var publish_freshness_warn_after_hours. -#}
{{ publication_staleness(var('publish_freshness_warn_after_hours')) }}
