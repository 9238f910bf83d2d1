{#- JSON text of the parser options taken from vars, passed to the docvec_parse UDF. -#}
{% macro parse_options_json() -%}
  {{- sql_literal({
      'json_text_fields': var('json_text_fields'),
      'json_id_fields': var('json_id_fields'),
      'json_title_fields': var('json_title_fields'),
  }) -}}
{%- endmacro %}
