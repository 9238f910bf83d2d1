{#- Lineage at character level: every chunk is exactly the span [start_char, end_char) of its
    document's text. Returns the chunks that are not. -#}

select
    chunks.chunk_id,
    chunks.document_id,
    chunks.start_char,
    chunks.end_char
from {{ ref('chunks') }} as chunks
left join {{ ref('documents') }} as documents using (document_id)
where documents.document_id is null
    or chunks.start_char < 0
    or chunks.end_char > length(documents.text)
    or chunks.start_char >= chunks.end_char
    or substring(documents.text, chunks.start_char + 1, chunks.end_char - chunks.start_char) <> chunks.chunk_text
