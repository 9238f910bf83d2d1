{{ config(severity='warn') }}
{#- Warns (never fails) about documents decoded from a legacy encoding that detection was unsure
    of: metadata encoding_confidence under var encoding_min_confidence, so their text may be
    mojibake. The rows say which encoding was chosen and how sure detection was, never the text. -#}

with decoded as (
    select
        document_id,
        source_path,
        json_extract_string(metadata, '$.encoding') as encoding,
        try_cast(json_extract_string(metadata, '$.encoding_confidence') as double) as encoding_confidence
    from {{ ref('documents') }}
)

select document_id, source_path, encoding, encoding_confidence
from decoded
where encoding_confidence < {{ var('encoding_min_confidence') }}
