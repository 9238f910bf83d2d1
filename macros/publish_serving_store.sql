{#- on-run-end hook: the Load stage's write-audit-publish step (README "Load").

    After `dbt build` (or `dbt test`, which `docvec publish` runs) the candidate `search_index`
    is published only when publication_audit finds every error-severity test passed in this
    invocation. Then, unless it equals the current publication (same content digest: nothing is
    written), it is copied into an incoming file of the serving store (macros/serving_path.sql)
    and docvec_publish (docvec.publishing.dbt_plugin) indexes, checkpoints and swaps it in, and
    syncs each of var publish_targets with a parity check. A held-back candidate leaves the
    previous publication serving; either way publish_runs gets one row per target and the build
    log says what happened and which tests held it back. A publish or target that fails fails
    the invocation. `dbt run` (no tests) never publishes. -#}
{% macro publish_serving_store(results) -%}
  {%- if not execute or flags.WHICH not in ('build', 'test') -%}{{ return('') }}{%- endif -%}
  {%- set serving = serving_path() -%}
  {%- set candidate = adapter.get_relation(database=target.database, schema=target.schema, identifier='search_index') -%}
  {%- set held = publication_audit(results) -%}
  {%- set request = {
      'serving_path': serving,
      'invocation_id': invocation_id,
      'command': flags.WHICH,
      'held_back_by': held,
      'hold_reason': none if candidate is not none else 'search_index does not exist: nothing to publish',
      'targets': var('publish_targets'),
      'keep': var('publish_keep'),
      'index': {
          'hnsw': var('search_vector_index'), 'm': var('hnsw_m'),
          'ef_construction': var('hnsw_ef_construction'), 'ef_search': var('hnsw_ef_search'),
      },
      'meta': {
          'serving_strategy': var('serving_strategy'), 'model_id': serving_model_id(),
          'dimension': var('embedding_dimension'), 'embedding_backend': var('embedding_backend'),
          'access_mode': var('access_mode'), 'access_admin_group': var('access_admin_group'),
          'warehouse': target.path | string,
      },
  } -%}
  {%- if not held and candidate is not none -%}
    {%- set digest = run_query("select coalesce(md5(string_agg(md5(s::varchar), '' order by s.chunk_id)), md5('')), count(*) from " ~ candidate ~ " s") -%}
    {%- set documents = adapter.get_relation(database=target.database, schema=target.schema, identifier='documents') -%}
    {%- set landing = run_query("select max(modified_at)::varchar from " ~ documents) -%}
    {%- do request.update({
        'candidate_digest': digest.columns[0].values()[0],
        'candidate_rows': digest.columns[1].values()[0] | int,
        'newest_landing_at': landing.columns[0].values()[0],
    }) -%}
    {%- set current = run_query("select docvec_publication_digest(" ~ sql_literal(serving) ~ ")").columns[0].values()[0] -%}
    {%- if current != request['candidate_digest'] -%}
      {%- set incoming = run_query("select docvec_publish_incoming(" ~ sql_literal(serving) ~ ")").columns[0].values()[0] -%}
      {%- do run_query("attach " ~ sql_literal(incoming) ~ " as docvec_incoming") -%}
      {%- do run_query("create table docvec_incoming.main.search_index as select * from " ~ candidate ~ " order by chunk_id") -%}
      {%- do run_query("detach docvec_incoming") -%}
      {%- do request.update({'incoming_path': incoming}) -%}
    {%- endif -%}
  {%- endif -%}
  {%- set answer = run_query("select docvec_publish(" ~ sql_literal(request) ~ ")").columns[0].values()[0] -%}
  {%- set published = fromjson(answer) -%}
  {%- set records = published['records'] -%}
  {%- for line in published['lines'] -%}
    {{ log(line, info=True) }}
  {%- endfor -%}
  {%- set publish_runs = adapter.get_relation(database=target.database, schema=target.schema, identifier='publish_runs') -%}
  {%- if publish_runs is not none -%}
    {%- do run_query(
        "insert into " ~ publish_runs ~ " by name select * from (" ~ publish_runs_columns("(select unnest(docvec_publish_records(), recursive := true))")
        ~ ") as logged where not exists (select 1 from " ~ publish_runs ~ " as published"
        ~ " where published.publish_id = logged.publish_id and published.target = logged.target)"
    ) -%}
  {%- endif -%}
  {%- set pipeline_runs = adapter.get_relation(database=target.database, schema=target.schema, identifier='pipeline_runs') -%}
  {%- set embedded = records | selectattr('target', 'equalto', 'embedded') | list -%}
  {%- if pipeline_runs is not none and embedded and flags.WHICH == 'build' -%}
    update {{ pipeline_runs }} set
      publish_status = {{ sql_literal(embedded[0]['status']) }},
      published_version = {{ embedded[0]['version'] if embedded[0]['version'] is not none else 'null' }},
      publish_lag_seconds = {{ embedded[0]['lag_seconds'] if embedded[0]['lag_seconds'] is not none else 'null' }}
    where invocation_id = {{ sql_literal(invocation_id) }}
  {%- endif -%}
{%- endmacro %}
