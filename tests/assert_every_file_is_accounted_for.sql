{{ config(severity='error') }}
{#- Reconciliation: every staged file ends in exactly one of documents, document_duplicates and
    quarantined_documents (a JSON/JSONL file may give several documents, but never a mix with
    quarantine), and every parsed record in exactly one of them. Returns the files that do not. -#}

with staged as (
    select source_path from {{ ref('stg_landing__documents') }}
),

outcomes as (
    select source_path, document_id, 'document' as outcome from {{ ref('documents') }}
    union all
    select source_path, document_id, 'duplicate' as outcome from {{ ref('document_duplicates') }}
    union all
    select source_path, document_id, 'quarantined' as outcome from {{ ref('quarantined_documents') }}
),

per_file as (
    select
        staged.source_path,
        count(outcomes.source_path) as n_outcomes,
        count(*) filter (where outcomes.outcome = 'quarantined') as n_quarantined,
        count(*) filter (where outcomes.outcome <> 'quarantined') as n_live
    from staged
    left join outcomes using (source_path)
    group by staged.source_path
),

unaccounted_files as (
    select source_path, 'file has no outcome' as problem
    from per_file
    where n_outcomes = 0
    union all
    select source_path, 'file is both quarantined and live' as problem
    from per_file
    where n_quarantined > 0 and n_live > 0
),

records as (
    select document_id, source_path from {{ ref('int_documents_redacted') }}
),

record_outcomes as (
    select records.document_id, records.source_path, count(outcomes.document_id) as n
    from records
    left join outcomes using (document_id)
    group by all
),

unaccounted_records as (
    select source_path, format('record {} ends in {} places', document_id, n) as problem
    from record_outcomes
    where n <> 1
),

strays as (
    select outcomes.source_path, 'outcome for a file that is not staged' as problem
    from outcomes
    anti join staged using (source_path)
)

select * from unaccounted_files
union all
select * from unaccounted_records
union all
select * from strays
