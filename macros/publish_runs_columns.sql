{#- The columns of publish_runs, typed, from a relation (or subquery) holding the serving log's
    records (source serving.publish_log): shared by the model and by the on-run-end hook
    publish_serving_store, which appends its own publish's rows with it. -#}
{% macro publish_runs_columns(relation) -%}
    select
        publish_id,
        target,
        target_type,
        status,
        version,
        invocation_id,
        command,
        started_at::timestamptz as started_at,
        finished_at::timestamptz as finished_at,
        seconds,
        rows,
        inserted,
        updated,
        deleted,
        missing,
        extra,
        mismatched,
        newest_landing_at::timestamptz as newest_landing_at,
        lag_seconds,
        held_back_by,
        message,
        digest
    from {{ relation }}
{%- endmacro %}
