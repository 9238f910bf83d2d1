{{ config(unique_key=['publish_id', 'target']) }}
{#- One row per publish and target (the embedded serving store is target `embedded`): what the
    Load stage did, wrote and verified. The serving store's append-only log (source
    serving.publish_log) is the record: each build appends the rows it does not hold yet (a
    rollback's, say), and the on-run-end hook publish_serving_store appends its own publish's
    rows right after publishing, so the table is current when the build ends. -#}


with logged as (
    select * from {{ source('serving', 'publish_log') }}
),

final as (
    {{ publish_runs_columns('logged') }}
)

select * from final
{%- if is_incremental() %}
where not exists (
    select 1 from {{ this }} as published
    where published.publish_id = final.publish_id and published.target = final.target
)
{%- endif %}
