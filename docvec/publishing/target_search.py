"""Search an external publish target (`docvec search --target NAME`) with the same modes,
filters and access groups as the embedded store: vector and keyword rankings come from the
target, hybrid fuses them by python_udfs.ranking.reciprocal_rank_fusion as docvec.search does."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from docvec.publishing.store import ServingStore
from docvec.publishing.targets import PublishTarget, TargetError, make_target
from docvec.searching import (
    SearchFilters,
    SearchResult,
    check_query_vector,
    check_search_request,
    embed_query,
)
from python_udfs.ranking import DEFAULT_CANDIDATES, DEFAULT_MODE, DEFAULT_RRF_K, DEFAULT_WEIGHTS, reciprocal_rank_fusion


def target_config(serving_path: str, name: str) -> Mapping[str, Any]:
    """The publish_targets entry `name` of the current publication."""
    publication = ServingStore(serving_path).current()
    if publication is None:
        raise TargetError(f"nothing is published at {serving_path!r}: build first (`make build`)")
    configs = {str(c.get("name")): c for c in publication.meta.get("targets") or []}
    if name not in configs:
        raise TargetError(f"no publish target named {name!r}; the current publication has {sorted(configs) or 'none'}")
    return configs[name]


def open_target(serving_path: str, name: str) -> PublishTarget:
    return make_target(target_config(serving_path, name))


def search_target(
    target: PublishTarget,
    query: str,
    *,
    k: int = 10,
    mode: str = DEFAULT_MODE,
    filters: SearchFilters = SearchFilters(),
    model_path: str | None = None,
    backend: str = "torch",
    weights: tuple[float, float] = DEFAULT_WEIGHTS,
    rrf_k: int = DEFAULT_RRF_K,
    candidates: int = DEFAULT_CANDIDATES,
    exact: bool = False,
    vector: Sequence[float] | None = None,
) -> list[SearchResult]:
    """Top `k` chunks of `target` for `query` that the caller's groups may read (as docvec.search)."""
    check_search_request(query, vector, k, mode, weights, rrf_k, candidates)
    filters.where()  # no group -> ValueError, as in docvec.search
    if filters.strategy_id is not None or filters.model_id is not None:
        raise ValueError("an external target holds the serving strategy and model only: no strategy or model filter")
    if mode == "keyword":
        return target.keyword_ranking(query, filters, k)
    if vector is None:
        vector = embed_query(query, model_path, backend)
    check_query_vector(vector)
    if mode == "vector":
        return target.vector_ranking(vector, filters, k, exact=exact)
    pool = max(k, candidates)
    rankings = [target.vector_ranking(vector, filters, pool, exact=exact), target.keyword_ranking(query, filters, pool)]
    rows = [[(r.chunk_id, r) for r in ranking] for ranking in rankings]
    fused = reciprocal_rank_fusion(rows, list(weights), rrf_k)
    results = []
    for row, score in fused[:k]:
        found: SearchResult = row[1]
        results.append(SearchResult(**{**found.as_dict(), "score": score}))
    return results
