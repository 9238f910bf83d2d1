{{ config(tags=['publication']) }}
{#- The serving store is not more than var publish_freshness_error_after_hours behind the landing
    zone: a live landing file modified after what the current publication served, that long ago,
    fails (its change has not reached readers; e.g. the quality gates keep holding candidates
    back). Tagged `publication`: it checks the store, so it never holds a candidate back itself.
    Passes before the first publication. -#}
{{ publication_staleness(var('publish_freshness_error_after_hours')) }}
