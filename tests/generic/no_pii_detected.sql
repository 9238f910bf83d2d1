{#- Fails with every row whose text still holds something the PII policy masks (pii_policy,
    pii_allow_patterns, pii_allow_values: a type set to flag or keep, or an allowed value, is no
    failure), e.g. chunk texts in redact mode, where every such finding must be a placeholder.
    With `document_model`, the rows are spans (document_id, start_char, end_char) of its `text`,
    and a finding counts only when the scan of the whole document sees it in the row's span: a
    chunk cut out of a code block or after a "version" word lacks the context that spared it. -#}
{% test no_pii_detected(model, column_name, document_model=none) %}
  {%- set policy = pii_policy_json() %}
  with scanned as (
      select
          *,
          docvec_find_pii({{ column_name }}, {{ policy }}) as findings
      from {{ model }}
  ),

  suspects as (
      select * from scanned
      where len(findings) > 0
  )
  {%- if document_model is none %}

  select * from suspects
  {%- else %},

  documents_scanned as (
      select
          document_id,
          docvec_find_pii(text, {{ policy }}) as document_findings
      from {{ document_model }}
      where document_id in (select suspects.document_id from suspects)
  )

  select suspects.*
  from suspects
  left join documents_scanned
      on suspects.document_id = documents_scanned.document_id
  where
      documents_scanned.document_id is null
      or len(list_filter(
          documents_scanned.document_findings,
          lambda f: f.start_char < suspects.end_char and f.end_char > suspects.start_char
      )) > 0
  {%- endif %}
{% endtest %}
