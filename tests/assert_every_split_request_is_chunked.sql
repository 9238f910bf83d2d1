{#- Every document x chunking strategy of this build has its split in the chunk cache
    (int_texts_chunked): a missing key would drop the document's chunks without a trace. -#}

with requests as (
    select * from {{ ref('int_documents_paired_with_strategies') }}
)

select
    requests.document_id,
    requests.strategy_id,
    requests.split_key
from requests
anti join {{ ref('int_texts_chunked') }} as cached on requests.split_key = cached.split_key
