{#- Completeness of the serving table: every chunk of the serving strategy is in search_index with
    a vector, and search_index holds nothing else. Returns the chunks that break it. -#}

with serving as (
    select chunk_id from {{ ref('chunks') }}
    where strategy_id = {{ sql_literal(var('serving_strategy')) }}
),

served as (
    select chunk_id, embedding from {{ ref('search_index') }}
)

select serving.chunk_id, 'serving chunk without a vector' as problem
from serving
left join served using (chunk_id)
where served.chunk_id is null or served.embedding is null
union all
select served.chunk_id, 'search_index row that is not a serving chunk' as problem
from served
anti join serving using (chunk_id)
