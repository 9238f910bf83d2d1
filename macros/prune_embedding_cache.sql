{#- Post-hook of embeddings: deletes cached vectors whose text no chunk uses any more (documents
    deleted or edited, strategies removed) once they are older than
    `embedding_cache_retention_days`. Vectors of every model are kept while their text is used. -#}
{% macro prune_embedding_cache(relation) -%}
  {%- set days = var('embedding_cache_retention_days') -%}
  {%- if days is not number or days < 0 -%}
    {% do exceptions.raise_compiler_error("embedding_cache_retention_days must be a number >= 0, got " ~ days) %}
  {%- endif -%}
  delete from {{ relation }}
  where text_sha256 not in (select text_sha256 from {{ ref('chunks') }})
    and embedded_at <= current_timestamp - to_days({{ days | int }})
{%- endmacro %}
