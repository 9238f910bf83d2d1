{#- Post-hook of int_texts_chunked: deletes cached splits that no document x strategy of this
    build asks for (documents deleted or edited, strategies changed, a new chunking code version). -#}
{% macro prune_chunk_cache(relation, requests) -%}
  delete from {{ relation }}
  where split_key not in (select requests.split_key from {{ requests }} as requests)
{%- endmacro %}
