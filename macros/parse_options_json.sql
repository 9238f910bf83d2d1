{#- JSON text of the parser options taken from vars, passed to the docvec_parse UDF. -#}
{% macro parse_options_json() -%}
  {{- sql_literal({
      'json_text_fields': var('json_text_fields'),
      'json_id_fields': var('json_id_fields'),
      'json_title_fields': var('json_title_fields'),
      'pdf_parser': var('pdf_parser'),
      'ocr': 'off' if var('ocr') is false else var('ocr'),
      'ocr_min_confidence': var('ocr_min_confidence'),
      'max_sheet_rows': var('max_sheet_rows'),
  }) -}}
{%- endmacro %}
