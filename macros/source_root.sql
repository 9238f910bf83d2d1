{#- The landing folder without trailing slashes, as read_blob reports it: var `source_path`, else
    env DOCVEC_SOURCE_PATH, else the bundled sample_docs. The landing source in
    models/staging/landing/_landing__sources.yml resolves the folder the same way. -#}
{% macro source_root() -%}
  {%- set root = (var('source_path') or env_var('DOCVEC_SOURCE_PATH', 'sample_docs')) | string -%}
  {{- root.rstrip('/') if root.rstrip('/') | length > 0 else '/' -}}
{%- endmacro %}
