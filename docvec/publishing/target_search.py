"""Search an external publish target (`docvec search --target NAME`) with the same modes,
filters and access groups as the embedded store: vector and keyword rankings come from the
target, hybrid fuses them by python_udfs.ranking.reciprocal_rank_fusion as docvec.search does."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from docvec.publishing.store import ServingStore, connect_publication
from docvec.publishing.targets import PublishTarget, TargetError, make_target
from docvec.searching import (
    SearchFilters,
    SearchResult,
    check_query_vector,
    check_search_request,
    embed_query,
    searched_model_id,
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


def target_model_id(serving_path: str, target: PublishTarget) -> str | None:
    """The model id of the vectors `target` holds: that of the publication its stamp names when
    the serving store still keeps it, else of the current publication (None: nothing published)."""
    store = ServingStore(serving_path)
    stamp = target.stamp()
    path = (store.version_paths().get(stamp.version) if stamp else None) or store.current_path()
    if path is None:
        return None
    conn = connect_publication(path)
    try:
        return searched_model_id(conn, SearchFilters())
    finally:
        conn.close()


def search_target(
    target: PublishTarget,
    query: str,
    *,
    k: int = 10,
    mode: str = DEFAULT_MODE,
    filters: SearchFilters = SearchFilters(),
    model_path: str | None = None,
    backend: str | None = None,
    stored_model_id: str | None = None,
    weights: tuple[float, float] = DEFAULT_WEIGHTS,
    rrf_k: int = DEFAULT_RRF_K,
    candidates: int = DEFAULT_CANDIDATES,
    exact: bool = False,
    vector: Sequence[float] | None = None,
) -> list[SearchResult]:
    """Top `k` chunks of `target` for `query` that the caller's groups may read (as docvec.search).

    `stored_model_id` is the model id of the target's vectors (`target_model_id`): the query is
    embedded by `docvec.searching.query_backend(stored_model_id, backend)`, by default the backend
    that embedded them."""
    check_search_request(query, vector, k, mode, weights, rrf_k, candidates)
    filters.where()  # no group -> ValueError, as in docvec.search
    if filters.strategy_id is not None or filters.model_id is not None:
        raise ValueError("an external target holds the serving strategy and model only: no strategy or model filter")
    if mode == "keyword":
        return target.keyword_ranking(query, filters, k)
    if vector is None:
        vector = embed_query(query, model_path, backend, model_id=stored_model_id)
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
