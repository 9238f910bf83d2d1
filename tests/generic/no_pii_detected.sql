{#- Fails with every row whose text still contains something the PII detectors recognise (e.g.
    chunk texts in redact mode, where every finding must already be a placeholder). -#}
{% test no_pii_detected(model, column_name) %}
  select *, docvec_find_pii({{ column_name }}) as findings
  from {{ model }}
  where len(docvec_find_pii({{ column_name }})) > 0
{% endtest %}
