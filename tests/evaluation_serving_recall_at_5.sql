{{ config(tags=['evaluation', 'evaluation_threshold']) }}
{#- Quality gate: the serving configuration finds at least var eval_min_recall_at_5 of the
    relevant documents in its top 5 for the golden questions. -#}
{{ serving_quality_gate('recall', 5, var('eval_min_recall_at_5')) }}
