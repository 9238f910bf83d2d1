{#- Fails with every row whose token count exceeds `max_tokens`; without it, the embedding model's
    maximum sequence length (read from the model by the docvec_max_seq_length UDF). -#}
{% test max_token_count(model, column_name, max_tokens=none) %}
  {%- if max_tokens is not none and (max_tokens is not number or max_tokens < 1) -%}
    {% do exceptions.raise_compiler_error("max_token_count: `max_tokens` must be a positive integer, got " ~ max_tokens) %}
  {%- endif -%}
  {%- set limit = max_tokens if max_tokens is not none else "docvec_max_seq_length(" ~ sql_literal(embedding_model_path()) ~ ")" -%}
  select *, {{ limit }} as max_tokens
  from {{ model }}
  where {{ column_name }} is null or {{ column_name }} > {{ limit }} or {{ column_name }} < 1
{% endtest %}
