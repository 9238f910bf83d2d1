{{ config(severity='error') }}
{#- The build left something to search: search_index holds at least one row, unless var
    allow_empty is true (or the build ran with --empty). An empty index means no document gave a
    chunk of the serving strategy with a vector of the serving model: every file quarantined
    (see quarantined_documents), or a landing folder with nothing to index. -#}
{%- set allowed = var('allow_empty') or invocation_args_dict.get('empty') -%}

with served as (
    select count(*) as n_rows from {{ ref('search_index') }}
)

select
    {{ sql_literal(var('serving_strategy')) }} as serving_strategy,
    {{ sql_literal(serving_model_id()) }} as model_id,
    'search_index is empty: no document gave a chunk to serve; quarantined_documents says why '
    || 'each file was left out (set var allow_empty: true to accept an empty index)' as problem
from served
where served.n_rows = 0{% if allowed %} and false{% endif %}
