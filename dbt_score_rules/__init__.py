"""docvec's own dbt-score rules and filters (found by dbt-score's default namespace `dbt_score_rules`)."""
