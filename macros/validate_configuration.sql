{#- on-run-start hook: checks every var and every row of the seeds a user edits before anything
    is built, and stops the run with one line per mistake naming the var or the seed row and the
    allowed values. The rules are Python (python_udfs/configuration, UDF
    docvec_configuration_errors), next to the constants they allow (embedding backends, chunking
    methods, PII modes); seeds are read from their CSV files, since a fresh warehouse has none
    loaded yet. Then, unless var allow_empty, the landing folder must hold a file that
    include_globs / exclude_globs select. On failure a warehouse file this run created (still
    empty) is deleted first. Cheap: files and the tokenizer are read, the embedding model is not. -#}
{% macro validate_configuration() -%}
  {%- if execute -%}
    {%- set seeds = {} -%}
    {%- set root = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'seed' and node.package_name == project_name -%}
      {%- set path = node.root_path ~ '/' ~ node.original_file_path -%}
      {%- do seeds.update({node.name: {'path': path, 'name': node.original_file_path}}) -%}
      {%- do root.append(node.root_path) -%}
    {%- endfor -%}
    {%- set project_file = (root[0] ~ '/' if root else '') ~ 'dbt_project.yml' -%}
    {%- set declared = 'select unnest(docvec_configuration_var_names(' ~ sql_literal(project_file) ~ '))' -%}
    {%- set names = run_query(declared).columns[0].values() -%}
    {%- set values = {} -%}
    {%- for name in names -%}
      {%- do values.update({name: var(name)}) -%}
    {%- endfor -%}
    {%- set settings = {
        'vars': values,
        'cli_vars': invocation_args_dict.get('vars') or {},
        'declared_vars': names | list,
        'landing_folder': var('source_path') or env_var('DOCVEC_SOURCE_PATH', 'sample_docs'),
        'model_path': embedding_model_path(),
        'seeds': seeds,
    } -%}
    {%- set checked = 'select unnest(docvec_configuration_errors(' ~ sql_literal(settings) ~ '))' -%}
    {%- set problems = run_query(checked).columns[0].values() | list -%}
    {%- if not problems and not var('allow_empty') and not invocation_args_dict.get('empty') -%}
      {%- set listed -%}
        select count(*) from {{ source('landing', 'documents') }}
        where {{ glob_matches('source_path', var('include_globs')) }}
            and not {{ glob_matches('source_path', var('exclude_globs')) }}
      {%- endset -%}
      {%- if run_query(listed).columns[0].values()[0] == 0 -%}
        {%- do problems.append(
            "var source_path: the landing folder '" ~ settings.landing_folder ~ "' holds no file that include_globs "
            ~ tojson(var('include_globs')) ~ " and exclude_globs " ~ tojson(var('exclude_globs'))
            ~ " select: expected at least one document (or set var allow_empty: true to build empty tables)") -%}
      {%- endif -%}
    {%- endif -%}
    {%- if problems -%}
      {%- set relations = 'select count(*) from information_schema.tables where table_catalog = current_database()' -%}
      {%- do run_query('select docvec_discard_new_warehouse((' ~ relations ~ '))') -%}
      {%- do exceptions.raise_compiler_error(problems | join('\n')) -%}
    {%- endif -%}
  {%- endif -%}
  select 1
{%- endmacro %}
