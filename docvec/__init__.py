"""docvec: the application over the dbt project's tables (public Python API, CLI, evaluation
runner, lineage). The dbt runtime itself (plugin, UDFs, Python models) is `python_udfs`.

The public API::

    search(conn, query, *, k=10, mode="hybrid", filters=SearchFilters(), model_path=None,
           backend=None, weights=(1.0, 1.0), rrf_k=60, candidates=100, exact=False,
           oversample=4, vector=None) -> list[SearchResult]

Example::

    from docvec import SearchFilters, connect, search

    with connect("docvec.duckdb") as conn:  # default: env DOCVEC_DB_PATH, else docvec.duckdb
        for hit in search(conn, "When is the glasshouse open?", k=5, filters=SearchFilters(groups=("staff",))):
            print(f"{hit.score:.3f} {hit.source_path} [{hit.start_char}:{hit.end_char}]")

`mode` is `vector`, `keyword` (BM25) or `hybrid` (reciprocal rank fusion of both); the caller's
access groups and the filters apply before ranking. The query is embedded by the backend that
embedded the vectors searched (read from their model_id: `<id>` torch, `<id>@onnx`,
`<id>@onnx-int8`, `openai:<id>`); a `backend` given must be that one. The implementation is
`docvec.searching`: the module is deliberately not called `search`, so that `docvec.search` is
the function.
"""

from docvec.searching import SearchFilters, SearchResult, connect, search

__all__ = ["SearchFilters", "SearchResult", "connect", "search"]
