{{ config(severity='warn') }}
{#- Warns (never fails) while files sit in quarantine, so that a build with unreadable files is
    visible in dbt's summary. The rows say which files and why. -#}

select source_path, reason, detail
from {{ ref('quarantined_documents') }}
