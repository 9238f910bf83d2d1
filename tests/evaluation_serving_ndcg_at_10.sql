{{ config(tags=['evaluation', 'evaluation_threshold']) }}
{#- Quality gate: the serving configuration's mean nDCG@10 on the golden questions is at least
    var eval_min_ndcg_at_10. -#}
{{ serving_quality_gate('ndcg', 10, var('eval_min_ndcg_at_10')) }}
