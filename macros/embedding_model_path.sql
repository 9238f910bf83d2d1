{#- The local embedding model folder: var `embedding_model_path`, else env DOCVEC_MODEL_PATH, else
    '' (the bundled all-MiniLM-L6-v2). The embeddings model's config resolves it the same way. -#}
{% macro embedding_model_path() -%}
  {{- var('embedding_model_path') or env_var('DOCVEC_MODEL_PATH', '') -}}
{%- endmacro %}
